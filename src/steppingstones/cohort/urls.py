from django.urls import path

from steppingstones.cohort import views

urlpatterns = [
    path("", views.index, name="cohort_index"),
]
