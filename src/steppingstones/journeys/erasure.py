"""What the journeys remove when a withdrawal asks for data to be removed.

- "remove-unanalysed": the quotes, notes and approximate wordings (her own words) of her
  journey events; the dated events themselves stay.
- "remove-all": every journey event of hers and her infants'.
"""

from __future__ import annotations

from typing import Any

from steppingstones.core.erasure import REMOVING_OPTIONS, register_eraser
from steppingstones.journeys.models import JourneyEvent


@register_eraser("journeys")
def erase_journeys(participant: Any, option: str) -> list[str]:
    if option not in REMOVING_OPTIONS:
        return []
    events = JourneyEvent.objects.filter(participant=participant)
    if option == "remove-all":
        deleted, _ = events.delete()
        return [f"{deleted} journey event(s)"] if deleted else []
    worded = events.exclude(quote="", note="", approximate_text="")
    changed = worded.update(quote="", note="", approximate_text="")
    return [f"quotes and notes of {changed} journey event(s)"] if changed else []
