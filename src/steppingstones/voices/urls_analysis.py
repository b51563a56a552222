from django.urls import URLPattern, path

from steppingstones.voices import views_analysis as views

urlpatterns: list[URLPattern] = [
    path("retrieve/", views.retrieve, name="voices_retrieve"),
    path("search/", views.search, name="voices_search"),
    path("frequencies/", views.frequencies, name="voices_frequencies"),
    path("co-occurrence/", views.cooccurrence, name="voices_cooccurrence"),
    path("frameworks/", views.frameworks, name="voices_frameworks"),
    path("frameworks/<int:framework_id>/", views.framework_matrix, name="voices_framework"),
    path("frameworks/<int:framework_id>/edit/", views.framework_edit, name="voices_framework_edit"),
    path(
        "frameworks/<int:framework_id>/cells/<str:pseudonym>/<int:theme_id>/<str:wave_key>/",
        views.framework_cell,
        name="voices_framework_cell",
    ),
    path(
        "frameworks/<int:framework_id>/cases/<str:pseudonym>/",
        views.framework_case,
        name="voices_framework_case",
    ),
    path(
        "frameworks/<int:framework_id>/waves/<str:wave_key>/",
        views.framework_wave,
        name="voices_framework_wave",
    ),
    path(
        "frameworks/<int:framework_id>/coverage/",
        views.framework_coverage,
        name="voices_framework_coverage",
    ),
    path(
        "frameworks/<int:framework_id>/export.<str:fmt>",
        views.framework_export,
        name="voices_framework_export",
    ),
    path("agreement/", views.agreement_rounds, name="voices_agreement_rounds"),
    path("agreement/<int:round_id>/", views.agreement_round, name="voices_agreement_round"),
    path(
        "agreement/<int:round_id>/status/",
        views.agreement_status,
        name="voices_agreement_status",
    ),
    path(
        "agreement/<int:round_id>/disagreements/",
        views.agreement_disagreements,
        name="voices_agreement_disagreements",
    ),
    path(
        "agreement/<int:round_id>/export.<str:fmt>",
        views.agreement_export,
        name="voices_agreement_export",
    ),
]
