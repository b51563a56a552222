from django.urls import URLPattern, path

from steppingstones.voices import views_documents as views

urlpatterns: list[URLPattern] = [
    path("sources/", views.source_list, name="voices_sources"),
    path("sources/upload/", views.source_upload, name="voices_upload"),
    path("sources/<int:source_id>/", views.source_detail, name="voices_source"),
    path("sources/<int:source_id>/raw/", views.source_raw, name="voices_source_raw"),
    path("sources/<int:source_id>/review/", views.source_review, name="voices_source_review"),
    path("sources/<int:source_id>/speakers/", views.source_speakers, name="voices_source_speakers"),
    path(
        "sources/<int:source_id>/transcript/",
        views.source_transcript,
        name="voices_source_transcript",
    ),
    path("sources/<int:source_id>/file/", views.source_file, name="voices_source_file"),
    path(
        "sources/<int:source_id>/captions.vtt",
        views.source_captions,
        name="voices_source_captions",
    ),
    path("settings/", views.voices_settings, name="voices_settings"),
]
