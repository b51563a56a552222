from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "steppingstones.core"
    label = "core"
    verbose_name = "Stepping Stones core"

    def ready(self) -> None:
        from steppingstones.core import audit, audit_export  # noqa: F401 (registers its job)

        audit.connect_signals()
