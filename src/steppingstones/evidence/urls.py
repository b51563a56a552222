from django.urls import path

from steppingstones.evidence import views
from steppingstones.evidence import views_extraction as extraction
from steppingstones.evidence import views_screening as screening

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
    # sources, import, duplicates, screening, PRISMA
    path(R + "sources/", screening.sources, name="evidence_sources"),
    path(R + "import/", screening.import_upload, name="evidence_import"),
    path(R + "import/confirm/", screening.import_confirm, name="evidence_import_confirm"),
    path(R + "import/mapping/", screening.import_remap, name="evidence_import_remap"),
    path(R + "duplicates/", screening.duplicates, name="evidence_duplicates"),
    path(R + "duplicates/<int:group>/", screening.duplicate_group, name="evidence_duplicate_group"),
    path(R + "screening/", screening.screening_overview, name="evidence_screening"),
    path(R + "screen/<str:stage>/", screening.screen, name="evidence_screen"),
    path(R + "screen/<str:stage>/undo/", screening.undo, name="evidence_screen_undo"),
    path(R + "conflicts/<str:stage>/", screening.conflicts, name="evidence_conflicts"),
    path(R + "conflicts/<str:stage>/resolve/", screening.resolve, name="evidence_resolve"),
    path(R + "records/", screening.records, name="evidence_records"),
    path(R + "records/<int:number>/full-text/", screening.full_text, name="evidence_full_text"),
    path(
        R + "records/<int:number>/full-text.pdf",
        screening.full_text_file,
        name="evidence_full_text_file",
    ),
    path(R + "prisma/", screening.prisma_page, name="evidence_prisma"),
    path(R + "prisma.<str:fmt>", screening.prisma_file, name="evidence_prisma_file"),
    path(R + "export/<str:which>.<str:fmt>", screening.export_records, name="evidence_export"),
    path(R + "decisions.csv", screening.decision_log, name="evidence_decision_log"),
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
