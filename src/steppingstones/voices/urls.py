from django.urls import path

from steppingstones.voices import views

urlpatterns = [
    path("", views.index, name="voices_index"),
]
