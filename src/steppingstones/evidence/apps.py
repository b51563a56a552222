from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "steppingstones.evidence"
    label = "evidence"

    def ready(self) -> None:
        from steppingstones.evidence import (  # noqa: F401 (register the demo part and jobs)
            demo_load,
            jobs,
        )
