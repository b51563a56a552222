from django.apps import AppConfig


class ModelConfig(AppConfig):
    name = "steppingstones.model"
    label = "model"
