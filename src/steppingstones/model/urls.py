from django.urls import path

from steppingstones.model import views

urlpatterns = [
    path("", views.index, name="model_index"),
]
