from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "steppingstones.journeys"
    label = "journeys"

    def ready(self) -> None:
        from steppingstones.core import audit
        from steppingstones.journeys import (  # noqa: F401 (register demo parts, erasers, jobs)
            demo_load,
            demo_rules,
            erasure,
            jobs,
            signals,
        )

        audit.track(
            "journeys.eventtype",
            "journeys.journeyevent",
            "journeys.timingrule",
            "journeys.referencepathway",
            "journeys.pathwaystep",
            "journeys.eventlog",
            free_text={"journeys.journeyevent": {"quote", "note", "approximate_text"}},
        )
