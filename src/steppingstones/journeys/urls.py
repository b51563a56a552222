from django.urls import URLPattern, URLResolver, include, path

from steppingstones.journeys import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="journeys_index"),
    path("", include("steppingstones.journeys.urls_maps")),
    path("", include("steppingstones.journeys.urls_analytics")),
]
