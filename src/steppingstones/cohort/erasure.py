"""What the cohort removes when a withdrawal asks for data to be removed.

- "remove-unanalysed": interview artefacts (audio, transcripts, diaries, drawings, timelines)
  and free-text context notes.
- "remove-all": those, plus her dated circumstances and infants' neonatal summaries.
Kept in every case: the pseudonym, recruitment and interview dates and statuses, consent and
withdrawal records: the minimum the study needs to report its own conduct
(docs/data-protection.md).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction

from steppingstones.cohort.models import Artefact, Circumstance, Infant, Woman
from steppingstones.core.erasure import REMOVING_OPTIONS, register_eraser


@register_eraser("cohort")
def erase_cohort_data(participant: Any, option: str) -> list[str]:
    if option not in REMOVING_OPTIONS:
        return []
    removed = []
    artefacts = Artefact.objects.filter(interview__woman__participant=participant)
    count = 0
    for artefact in artefacts:
        storage, name = artefact.file.storage, str(artefact.file.name)
        artefact.delete()
        # Files go only once the erasure has committed: a rollback must not leave rows whose
        # files are gone.
        transaction.on_commit(functools.partial(storage.delete, name))
        count += 1
    if count:
        removed.append(f"{count} interview artefact file(s)")
    notes = Woman.objects.filter(participant=participant).exclude(context_notes="")
    if notes.update(context_notes=""):
        removed.append("context notes")
    if option == "remove-all":
        deleted, _ = Circumstance.objects.filter(woman__participant=participant).delete()
        if deleted:
            removed.append(f"{deleted} dated circumstance(s)")
        infants = Infant.objects.filter(pregnancy__woman__participant=participant).exclude(
            neonatal_summary=""
        )
        if infants.update(neonatal_summary=""):
            removed.append("infants' neonatal summaries")
    return removed
