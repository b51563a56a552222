from django.urls import path

from steppingstones.journeys import views

urlpatterns = [
    path("", views.index, name="journeys_index"),
]
