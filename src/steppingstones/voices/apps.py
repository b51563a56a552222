from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "steppingstones.voices"
    label = "voices"
