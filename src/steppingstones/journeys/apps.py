from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "steppingstones.journeys"
    label = "journeys"
