"""Storing and deciding on search records: imports, duplicates, screening state, ranking.

The Django layer's side of the review workflow; the algorithms live in plain modules
(:mod:`.references`, :mod:`.dedup`, :mod:`.screening`, :mod:`.screening_state`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max

from steppingstones.core.progress import Progress, SilentProgress
from steppingstones.evidence import dedup, screening, screening_state
from steppingstones.evidence.models import (
    DuplicateGroup,
    ImportBatch,
    IncludedStudy,
    Record,
    Review,
    ScreeningDecision,
    Source,
)
from steppingstones.evidence.references import Reference

BATCH = 2000
TITLE_ABSTRACT = ScreeningDecision.Stage.TITLE_ABSTRACT
FULL_TEXT = ScreeningDecision.Stage.FULL_TEXT
RANKING_MODEL = screening.DEFAULT_MODEL


def _cut(text: str | None, length: int) -> str:
    return (text or "")[:length]


def store_references(
    review: Review,
    source: Source,
    references: list[Reference],
    *,
    filename: str,
    file_format: str,
    encoding: str,
    warnings: list[str],
    user: Any,
    progress: Progress | None = None,
) -> ImportBatch:
    """All the file's records in one transaction: either every record is stored or none."""
    progress = progress or SilentProgress()
    progress.start(len(references), f"Storing {filename}")
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            source=source,
            filename=filename[:255],
            file_format=file_format,
            encoding=encoding,
            record_count=len(references),
            warnings=warnings[:1000],
            imported_by=user,
        )
        start = (Record.objects.filter(review=review).aggregate(n=Max("number"))["n"] or 0) + 1
        pending: list[Record] = []
        for offset, reference in enumerate(references):
            pending.append(
                Record(
                    review=review,
                    batch=batch,
                    number=start + offset,
                    title=reference.title or "",
                    abstract=reference.abstract or "",
                    authors=list(reference.authors),
                    year=reference.year if reference.year and 0 < reference.year < 32767 else None,
                    journal=_cut(reference.journal, 500),
                    journal_abbrev=_cut(reference.journal_abbrev, 200),
                    volume=_cut(reference.volume, 50),
                    issue=_cut(reference.issue, 50),
                    pages=_cut(reference.pages, 50),
                    doi=_cut(reference.doi, 300),
                    pmid=_cut(reference.pmid, 20),
                    keywords=list(reference.keywords),
                    record_type=_cut(reference.type, 30),
                    url=_cut(reference.url, 1000),
                )
            )
            if len(pending) >= BATCH:
                Record.objects.bulk_create(pending)
                progress.advance(len(pending))
                pending = []
        Record.objects.bulk_create(pending)
        progress.advance(len(pending))
    return batch


# ---- duplicates -------------------------------------------------------------------------


def reference_fields(record: Record) -> dict[str, Any]:
    """A stored record as the plain reference mapping the domain modules read and write."""
    return {
        "title": record.title,
        "abstract": record.abstract,
        "authors": record.authors,
        "year": record.year,
        "journal": record.journal,
        "journal_abbrev": record.journal_abbrev,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "doi": record.doi,
        "pmid": record.pmid,
        "keywords": record.keywords,
        "type": record.record_type or "other",
        "url": record.url,
    }


def dedup_record(record: Record, source: str) -> dedup.Record:
    return dedup.as_record({**reference_fields(record), "id": str(record.pk), "source": source})


def find_and_store_duplicates(review: Review, *, automatic: bool = True) -> tuple[int, int]:
    """Look for duplicates among records not already merged or kept apart; store new groups
    for checking and, with ``automatic``, merge the ones above the high threshold at once.
    Returns (groups found, groups merged automatically)."""
    records = list(
        Record.objects.filter(review=review, duplicate_of__isnull=True).select_related(
            "batch__source"
        )
    )
    split_pairs = {
        frozenset(group.records.values_list("pk", flat=True))
        for group in review.duplicate_groups.filter(status=DuplicateGroup.Status.SPLIT)
    }
    found = dedup.find_duplicates(dedup_record(r, r.batch.source.name) for r in records)
    by_id = {str(record.pk): record for record in records}
    merged = created = 0
    with transaction.atomic():
        review.duplicate_groups.filter(status=DuplicateGroup.Status.PENDING).delete()
        for group in found:
            members = [by_id[item] for item in group.ids]
            if frozenset(record.pk for record in members) in split_pairs:
                continue
            stored = DuplicateGroup.objects.create(
                review=review, reason=group.reason, score=group.score, automatic=group.auto
            )
            stored.records.set(members)
            created += 1
            if automatic and group.auto:
                merge(stored, primary=by_id[group.primary], user=None)
                merged += 1
    return created, merged


def merge(group: DuplicateGroup, *, primary: Record, user: Any) -> None:
    with transaction.atomic():
        others = group.records.exclude(pk=primary.pk)
        Record.objects.filter(duplicate_of__in=others).update(duplicate_of=primary)
        others.update(duplicate_of=primary)
        group.status = DuplicateGroup.Status.MERGED
        group.decided_by = user
        group.save()


def split(group: DuplicateGroup, *, user: Any) -> None:
    group.records.filter(duplicate_of__in=group.records.all()).update(duplicate_of=None)
    group.status = DuplicateGroup.Status.SPLIT
    group.decided_by = user
    group.save()


# ---- screening state --------------------------------------------------------------------


def votes_by_record(review: Review, stage: str) -> dict[int, list[screening_state.Vote]]:
    votes: dict[int, list[screening_state.Vote]] = defaultdict(list)
    rows = ScreeningDecision.objects.filter(record__review=review, stage=stage).order_by(
        "decided_at", "pk"
    )
    for record_id, reviewer_id, decision, reason, resolution in rows.values_list(
        "record_id", "reviewer_id", "decision", "reason", "is_resolution"
    ):
        votes[record_id].append(screening_state.Vote(reviewer_id, decision, reason, resolution))
    return votes


def screenable(review: Review) -> Any:
    """Records screened at title and abstract: all but merged duplicates."""
    return Record.objects.filter(review=review, duplicate_of__isnull=True)


def stage_records(review: Review, stage: str) -> Any:
    """Records at ``stage``: every screenable record at title and abstract; at full text,
    those included at title and abstract."""
    if stage == TITLE_ABSTRACT:
        return screenable(review)
    states = states_for(review, TITLE_ABSTRACT)
    ids = [pk for pk, state in states.items() if state == screening_state.INCLUDED]
    return screenable(review).filter(pk__in=ids)


def states_for(review: Review, stage: str) -> dict[int, str]:
    votes = votes_by_record(review, stage)
    ids = stage_records(review, stage).values_list("pk", flat=True)
    dual = review.dual_screening
    return {pk: screening_state.outcome(votes.get(pk, []), dual=dual) for pk in ids}


@dataclass(frozen=True)
class StageSummary:
    total: int
    counts: dict[str, int]
    mine: int

    @property
    def decided(self) -> int:
        return self.counts.get(screening_state.INCLUDED, 0) + self.counts.get(
            screening_state.EXCLUDED, 0
        )


def stage_summary(review: Review, stage: str, user: Any) -> StageSummary:
    states = states_for(review, stage)
    counts: dict[str, int] = defaultdict(int)
    for state in states.values():
        counts[state] += 1
    mine = ScreeningDecision.objects.filter(
        record__review=review, stage=stage, reviewer=user, is_resolution=False
    ).count()
    return StageSummary(len(states), dict(counts), mine)


def next_for(review: Review, stage: str, user: Any) -> Record | None:
    """The next record this reviewer has not decided, by the current ranking; in dual mode a
    record two others have already decided is skipped."""
    decided = ScreeningDecision.objects.filter(
        record__review=review, stage=stage, reviewer=user
    ).values("record_id")
    queue = stage_records(review, stage).exclude(pk__in=decided)
    if review.dual_screening:
        settled = (
            ScreeningDecision.objects.filter(
                record__review=review, stage=stage, is_resolution=False
            )
            .values("record_id")
            .annotate(reviewers=Count("reviewer", distinct=True))
            .filter(reviewers__gte=2)
            .values("record_id")
        )
        queue = queue.exclude(pk__in=settled)
    return queue.order_by("-priority", "number").first()


def decide(
    record: Record,
    *,
    stage: str,
    user: Any,
    decision: str,
    reason: str = "",
    note: str = "",
    resolution: bool = False,
) -> ScreeningDecision:
    item, _ = ScreeningDecision.objects.update_or_create(
        record=record,
        stage=stage,
        reviewer=user,
        is_resolution=resolution,
        defaults={"decision": decision, "reason": reason, "note": note},
    )
    if stage == FULL_TEXT:
        sync_included_study(record)
    return item


def sync_included_study(record: Record) -> None:
    """A record included at full text becomes an included study of the review (one per
    record, labelled first author and year); one no longer included loses its link."""
    votes = votes_by_record(record.review, FULL_TEXT).get(record.pk, [])
    state = screening_state.outcome(votes, dual=record.review.dual_screening)
    if state == screening_state.INCLUDED and record.included_study_id is None:
        with transaction.atomic():
            study = IncludedStudy.objects.create(
                review=record.review,
                ref=record.review.allocate_ref("S"),
                label=f"{record.first_author or 'Anon'} {record.year or 'n.d.'}",
                citation=citation(record),
                design=IncludedStudy.Design.QUANTITATIVE,
                doi=record.doi,
            )
            record.included_study = study
            record.save(update_fields=["included_study"])


def citation(record: Record) -> str:
    authors = ", ".join(record.authors[:3]) + (" et al." if len(record.authors) > 3 else "")
    parts = [authors, f"({record.year})" if record.year else "", record.title, record.journal]
    details = " ".join(part for part in (record.volume, record.issue and f"({record.issue})"))
    return ". ".join(part for part in [*parts, details, record.pages] if part).strip()


# ---- prioritisation ---------------------------------------------------------------------


def rank(review: Review, *, seed: int = 0, progress: Progress | None = None) -> bool:
    """Retrain the prioritisation model on every decision so far and store each record's
    priority (higher first). False when there is not yet one relevant and one irrelevant."""
    progress = progress or SilentProgress()
    records = list(screenable(review).order_by("number").values_list("pk", "title", "abstract"))
    votes = votes_by_record(review, TITLE_ABSTRACT)
    labels = [screening_state.training_label(votes.get(pk, [])) for pk, _, _ in records]
    if 1 not in labels or 0 not in labels:
        return False
    progress.start(3, "Re-ranking the screening queue")
    texts = screening.record_texts([t for _, t, _ in records], [a for _, _, a in records])
    prioritiser = screening.Prioritiser(texts, model=RANKING_MODEL, seed=seed)
    try:
        for index, label in enumerate(labels):
            if label is not None:
                prioritiser.record_decision(index, label)
        progress.advance()
        prioritiser.retrain()
        progress.advance()
        order = prioritiser.next_records(len(records))
    finally:
        prioritiser.close()
    total = len(order)
    updates = []
    for position, index in enumerate(order):
        record = Record(pk=records[index][0], priority=float(total - position))
        updates.append(record)
    with transaction.atomic():
        Record.objects.filter(review=review).update(priority=0.0)
        Record.objects.bulk_update(updates, ["priority"], batch_size=BATCH)
    progress.advance()
    return True


def labelled_orders(review: Review) -> list[int]:
    """Training labels of this review's decided records, in the order they were first decided:
    what the stopping aid reads."""
    seen: dict[int, None] = {}
    for record_id in (
        ScreeningDecision.objects.filter(record__review=review, stage=TITLE_ABSTRACT)
        .order_by("decided_at", "pk")
        .values_list("record_id", flat=True)
    ):
        seen.setdefault(record_id, None)
    votes = votes_by_record(review, TITLE_ABSTRACT)
    labels = (screening_state.training_label(votes.get(pk, [])) for pk in seen)
    return [label for label in labels if label is not None]


def sources_of(records: Iterable[Record]) -> dict[int, str]:
    return {record.pk: record.batch.source.name for record in records}
