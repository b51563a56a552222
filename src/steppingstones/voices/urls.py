from django.urls import URLPattern, URLResolver, include, path

from steppingstones.voices import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="voices_index"),
    path("", include("steppingstones.voices.urls_documents")),
    path("", include("steppingstones.voices.urls_coding")),
    path("", include("steppingstones.voices.urls_analysis")),
    path("", include("steppingstones.voices.urls_exchange")),
]
