from django.urls import URLPattern, path

from steppingstones.voices import views_coding as views

urlpatterns: list[URLPattern] = [
    path("codes/", views.codebook_page, name="voices_codebook"),
    path("codes/new/", views.code_new, name="voices_code_new"),
    path("codes/import/", views.codebook_import, name="voices_codebook_import"),
    path("codes/export/<str:fmt>/", views.codebook_export, name="voices_codebook_export"),
    path("codes/versions/", views.codebook_versions, name="voices_codebook_versions"),
    path("codes/versions/<int:number>/", views.codebook_version, name="voices_codebook_version"),
    path("codes/<int:code_id>/", views.code_detail, name="voices_code"),
    path("codes/<int:code_id>/edit/", views.code_edit, name="voices_code_edit"),
    path("codes/<int:code_id>/move/", views.code_move, name="voices_code_move"),
    path("codes/<int:code_id>/merge/", views.code_merge, name="voices_code_merge"),
    path("codes/<int:code_id>/split/", views.code_split, name="voices_code_split"),
    path("codes/<int:code_id>/delete/", views.code_delete, name="voices_code_delete"),
    path("codes/<int:code_id>/memos/", views.code_memos, name="voices_code_memos"),
    path("sources/<int:source_id>/code/", views.code_source, name="voices_code_source"),
    path("sources/<int:source_id>/codings/", views.codings_add, name="voices_codings_add"),
    path("sources/<int:source_id>/memos/", views.source_memos, name="voices_source_memos"),
    path("codings/<int:coding_id>/delete/", views.coding_delete, name="voices_coding_delete"),
    path("codings/<int:coding_id>/memos/", views.coding_memos, name="voices_coding_memos"),
    path("memos/", views.memos, name="voices_memos"),
    path("memos/<int:memo_id>/edit/", views.memo_edit, name="voices_memo_edit"),
    path("memos/<int:memo_id>/delete/", views.memo_delete, name="voices_memo_delete"),
    path("search-and-code/", views.search_code, name="voices_search_code"),
]
