"""Erasing a participant's data across every area, when their withdrawal asks for it.

Each area registers an eraser: ``eraser(participant, option) -> list[str]`` that removes what
that area holds under the withdrawal option and returns a line per kind of thing removed. The
report of all of them is kept with the withdrawal and written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from steppingstones.core import audit, identity_store

Eraser = Callable[[Any, str], list[str]]
_ERASERS: dict[str, Eraser] = {}

REMOVING_OPTIONS = frozenset({"remove-unanalysed", "remove-all"})


def register_eraser(area: str) -> Callable[[Eraser], Eraser]:
    def register(eraser: Eraser) -> Eraser:
        _ERASERS[area] = eraser
        return eraser

    return register


@register_eraser("identity")
def _erase_identity(participant: Any, option: str) -> list[str]:
    if option not in REMOVING_OPTIONS:
        return []
    if identity_store.erase_identity(participant, reason=f"withdrawal: {option}"):
        return ["direct identifiers (identity store)"]
    return []


@transaction.atomic
def erase_participant(participant: Any, option: str) -> dict[str, list[str]]:
    """Run every area's eraser in one transaction; returns what each removed."""
    report = {area: eraser(participant, option) for area, eraser in sorted(_ERASERS.items())}
    audit.record(
        "participant.erasure",
        study=participant.study_id,
        obj=participant,
        changes={"option": option, "removed": {k: v for k, v in report.items() if v}},
    )
    return report
