from django.apps import AppConfig


class CohortConfig(AppConfig):
    name = "steppingstones.cohort"
    label = "cohort"
