"""What Voices removes when a withdrawal asks for data to be removed.

- "remove-unanalysed": her sources not yet de-identified (status "review", with their
  redactions), the sealed raw text and original file of every source of hers, and the
  recordings and images (the files; a recording whose transcript is analysed keeps its row,
  without the file, so that the transcript and its codings stay).
- "remove-all": every source of hers with its transcripts, codings, memos and agreement
  decisions, her framework-matrix cells, her cases and her label set (the sealed map from
  names to replacement labels).
Files are deleted only once the erasure has committed: a rollback never leaves rows whose files
are gone.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from steppingstones.core.erasure import REMOVING_OPTIONS, register_eraser
from steppingstones.voices.models import Case, FrameworkCell, LabelSet, Memo, Source


def _delete_file_on_commit(source: Source) -> None:
    if source.file:
        storage, name = source.file.storage, str(source.file.name)
        transaction.on_commit(functools.partial(storage.delete, name))


def _sources_of(participant: Any) -> Any:
    return Source.objects.filter(
        Q(participant=participant) | Q(transcript_of__participant=participant)
    )


@register_eraser("voices")
def erase_voices_data(participant: Any, option: str) -> list[str]:
    if option not in REMOVING_OPTIONS:
        return []
    if option == "remove-all":
        return _remove_all(participant)
    return _remove_unanalysed(participant)


def _remove_unanalysed(participant: Any) -> list[str]:
    removed: list[str] = []
    unreviewed = list(_sources_of(participant).filter(status=Source.Status.REVIEW))
    for source in unreviewed:
        _delete_file_on_commit(source)
        source.delete()
    if unreviewed:
        removed.append(f"{len(unreviewed)} source(s) not yet de-identified")
    files = 0
    for source in _sources_of(participant).filter(
        media__in=(Source.Media.AUDIO, Source.Media.VIDEO, Source.Media.IMAGE)
    ):
        _delete_file_on_commit(source)
        files += 1
        analysed = source.codings.exists() or source.transcripts.filter(status=Source.Status.READY)
        if analysed and source.media != Source.Media.IMAGE:
            source.file = ""
            source.content_type = ""
            source.size_bytes = 0
            source.warnings = [*source.warnings, "the recording was erased at her withdrawal"]
            source.save()
        else:
            source.delete()
    if files:
        removed.append(f"{files} recording or image file(s)")
    raw = _sources_of(participant).exclude(raw_sealed="")
    count = raw.update(raw_sealed="", raw_deleted_at=timezone.now())
    if count:
        removed.append(f"raw text and original file of {count} source(s)")
    return removed


def _remove_all(participant: Any) -> list[str]:
    removed: list[str] = []
    mine = list(_sources_of(participant))
    memos = Memo.objects.filter(Q(source__in=mine) | Q(coding__source__in=mine)).count()
    for source in mine:
        _delete_file_on_commit(source)
    deleted = Source.objects.filter(pk__in=[s.pk for s in mine]).delete()[1]
    count = deleted.get("voices.Source", 0)
    if count:
        removed.append(f"{count} source(s) with their transcripts")
    codings = deleted.get("voices.Coding", 0)
    if codings:
        removed.append(f"{codings} coding(s)")
    if memos:
        removed.append(f"{memos} memo(s)")
    cells = FrameworkCell.objects.filter(participant=participant).delete()[0]
    if cells:
        removed.append(f"{cells} framework-matrix cell(s)")
    cases = Case.objects.filter(participant=participant).delete()[1].get("voices.Case", 0)
    if cases:
        removed.append(f"{cases} case(s)")
    labels = LabelSet.objects.filter(
        study_id=participant.study_id, key=f"participant:{participant.pseudonym}"
    ).delete()[0]
    if labels:
        removed.append("her replacement labels and list of people mentioned")
    return removed
