from django.urls import URLPattern, path

from steppingstones.journeys import views_maps as views

urlpatterns: list[URLPattern] = [
    path("women/", views.women_list, name="journeys_women"),
    path("women/<str:pseudonym>/", views.woman_map, name="journeys_map"),
    path("women/<str:pseudonym>/map.<str:fmt>", views.map_download, name="journeys_map_download"),
    path(
        "women/<str:pseudonym>/infants/<str:infant>/",
        views.infant_map,
        name="journeys_infant_map",
    ),
    path("women/<str:pseudonym>/events/add/", views.event_add, name="journeys_event_add"),
    path(
        "women/<str:pseudonym>/events/<int:event_id>/",
        views.event_edit,
        name="journeys_event_edit",
    ),
    path(
        "women/<str:pseudonym>/events/<int:event_id>/delete/",
        views.event_delete,
        name="journeys_event_delete",
    ),
    path("women/<str:pseudonym>/from-passage/", views.from_passage, name="journeys_from_passage"),
    path("import/", views.import_events, name="journeys_import"),
    path("import/confirm/", views.import_confirm, name="journeys_import_confirm"),
    path("import/template.csv", views.import_template, name="journeys_import_template"),
    path("compare/", views.compare, name="journeys_compare"),
    path("compare/map.<str:fmt>", views.compare_download, name="journeys_compare_download"),
    path("composite/", views.composite, name="journeys_composite"),
    path(
        "composite/journey.<str:fmt>",
        views.composite_download,
        name="journeys_composite_download",
    ),
    path("catalogue/", views.catalogue, name="journeys_catalogue"),
    path("catalogue/add/", views.event_type_edit, name="journeys_event_type_add"),
    path("catalogue/<int:type_id>/", views.event_type_edit, name="journeys_event_type_edit"),
]
