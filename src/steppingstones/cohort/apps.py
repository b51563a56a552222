from django.apps import AppConfig


class CohortConfig(AppConfig):
    name = "steppingstones.cohort"
    label = "cohort"

    def ready(self) -> None:
        from steppingstones.cohort import (  # noqa: F401 (register the eraser and demo part)
            demo_load,
            erasure,
        )
        from steppingstones.core import audit

        audit.track(
            "cohort.wave",
            "cohort.woman",
            "cohort.circumstance",
            "cohort.pregnancy",
            "cohort.infant",
            "cohort.careperiod",
            "cohort.interview",
            "cohort.artefact",
            "cohort.staffmember",
            "cohort.focusgroup",
            "cohort.staffinterview",
            "cohort.consentform",
            "cohort.consentitem",
            "cohort.consent",
            "cohort.withdrawal",
            free_text={
                "cohort.woman": {"context_notes"},
                "cohort.circumstance": {"value", "dose", "detail"},
                "cohort.infant": {"neonatal_summary"},
                "cohort.careperiod": {"note"},
                "cohort.interview": {"reason"},
                "cohort.artefact": {"original_name", "file"},
                "cohort.focusgroup": {"topic"},
                "cohort.staffmember": {"service"},
                "cohort.withdrawal": {"reason"},
            },
        )
