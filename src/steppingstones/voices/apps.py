import importlib
import importlib.util

from django.apps import AppConfig

# Modules that register demo parts, jobs and erasers when imported.
_REGISTERING_MODULES = ("demo_load", "erasure", "jobs")


class VoicesConfig(AppConfig):
    name = "steppingstones.voices"
    label = "voices"

    def ready(self) -> None:
        for module in _REGISTERING_MODULES:
            name = f"{self.name}.{module}"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        from steppingstones.core import audit

        audit.track(
            "voices.voicessettings",
            "voices.source",
            "voices.redaction",
            "voices.code",
            "voices.codebookversion",
            "voices.memo",
            "voices.case",
            "voices.sourceset",
            "voices.agreementround",
            "voices.agreementresolution",
            "voices.framework",
            "voices.frameworktheme",
            "voices.frameworkcell",
            free_text={
                "voices.source": {"text", "raw_sealed", "description", "original_name", "turns"},
                "voices.memo": {"text", "title"},
                "voices.frameworkcell": {"summary"},
                "voices.agreementresolution": {"note"},
                "voices.redaction": {"note"},
            },
        )
