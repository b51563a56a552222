from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "steppingstones.voices"
    label = "voices"

    def ready(self) -> None:
        from steppingstones.core import audit
        from steppingstones.voices import (  # noqa: F401 (register demo parts, erasers, jobs)
            demo_load,
            erasure,
            jobs,
        )

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
