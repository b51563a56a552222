from django.urls import path

from steppingstones.evidence import views

urlpatterns = [
    path("", views.index, name="evidence_index"),
]
