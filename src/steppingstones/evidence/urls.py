from django.urls import path

from steppingstones.evidence import views
from steppingstones.evidence import views_extraction as extraction

R = "<slug:review>/"
S = R + "studies/<str:ref>/"

urlpatterns = [
    path("", views.index, name="evidence_index"),
    path("reviews/new/", views.review_add, name="evidence_review_add"),
    path(R, views.review_detail, name="evidence_review"),
    path(R + "edit/", views.review_edit, name="evidence_review_edit"),
    path(R + "studies/new/", views.study_add, name="evidence_study_add"),
    path(S, views.study_detail, name="evidence_study"),
    path(S + "edit/", views.study_edit, name="evidence_study_edit"),
    # extraction and appraisal
    path(R + "extraction/form/", extraction.form_design, name="evidence_form"),
    path(R + "extraction/", extraction.extraction_overview, name="evidence_extraction"),
    path(
        R + "extraction.<str:fmt>", extraction.extraction_export, name="evidence_extraction_export"
    ),
    path(S + "extract/", extraction.extract, name="evidence_extract"),
    path(S + "reconcile/", extraction.reconcile, name="evidence_reconcile"),
    path(S + "appraise/<str:tool>/", extraction.appraise, name="evidence_appraise"),
    path(R + "appraisal/<str:tool>/", extraction.appraisal_summary, name="evidence_appraisal"),
    path(
        R + "appraisal/<str:tool>/<str:chart>.<str:fmt>",
        extraction.appraisal_figure,
        name="evidence_appraisal_figure",
    ),
    # meta-analysis
    path(R + "meta/new/", views.meta_add, name="evidence_meta_add"),
    path(R + "meta/<str:ref>/", views.meta_detail, name="evidence_meta"),
    path(R + "meta/<str:ref>/edit/", views.meta_edit, name="evidence_meta_edit"),
    path(
        R + "meta/<str:ref>/<str:figure>.<str:fmt>",
        views.meta_figure,
        name="evidence_meta_figure",
    ),
    # qualitative evidence synthesis
    path(S + "findings/new/", views.finding_add, name="evidence_finding_add"),
    path(S + "findings/<int:finding>/", views.finding_edit, name="evidence_finding_edit"),
    path(R + "synthesis/", views.synthesis, name="evidence_synthesis"),
    path(R + "synthesis/soqf.csv", views.soqf_csv, name="evidence_soqf_csv"),
    path(R + "synthesis/themes/new/", views.theme_edit, name="evidence_theme_add"),
    path(R + "synthesis/themes/<str:ref>/", views.theme_edit, name="evidence_theme_edit"),
    path(R + "synthesis/findings/new/", views.review_finding_edit, name="evidence_qf_add"),
    path(R + "synthesis/findings/<str:ref>/", views.review_finding_edit, name="evidence_qf_edit"),
    # scoping-review charting
    path(R + "charting/", views.charting_overview, name="evidence_charting"),
    path(R + "charting.csv", views.charting_csv, name="evidence_charting_csv"),
    path(R + "charting/themes/new/", views.charting_theme_edit, name="evidence_ctheme_add"),
    path(R + "charting/themes/<str:ref>/", views.charting_theme_edit, name="evidence_ctheme_edit"),
    path(S + "chart/", views.charting_edit, name="evidence_chart"),
    path(R + "cite/<str:ref>/", views.citation, name="evidence_cite"),
]
