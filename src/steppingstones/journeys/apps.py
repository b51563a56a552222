import importlib
import importlib.util

from django.apps import AppConfig

# Modules that register demo parts, jobs and erasers when imported.
_REGISTERING_MODULES = ("demo_load", "demo_rules", "erasure", "jobs", "signals")


class JourneysConfig(AppConfig):
    name = "steppingstones.journeys"
    label = "journeys"

    def ready(self) -> None:
        for module in _REGISTERING_MODULES:
            name = f"{self.name}.{module}"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        from steppingstones.core import audit

        audit.track(
            "journeys.eventtype",
            "journeys.journeyevent",
            "journeys.timingrule",
            "journeys.referencepathway",
            "journeys.pathwaystep",
            "journeys.eventlog",
            free_text={"journeys.journeyevent": {"quote", "note", "approximate_text"}},
        )
