from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "steppingstones.evidence"
    label = "evidence"
