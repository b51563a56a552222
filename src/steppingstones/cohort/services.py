"""Cohort operations that touch the database; the rules themselves live in the plain modules."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from steppingstones.cohort import schedule
from steppingstones.cohort.models import Interview, Pregnancy, Wave, Withdrawal, Woman
from steppingstones.cohort.retention import WomanRecord
from steppingstones.core import audit
from steppingstones.core.erasure import erase_participant
from steppingstones.core.models import Participant, Site, Study


def ensure_waves(study: Study) -> list[Wave]:
    """The study's waves, creating the default five the first time they are needed."""
    waves = list(Wave.objects.filter(study=study).order_by("number"))
    if waves:
        return waves
    for rule in schedule.DEFAULT_WAVES:
        Wave.objects.create(
            study=study,
            number=rule.number,
            name=rule.name,
            anchor=rule.anchor,
            opens_weeks=rule.opens_weeks,
            target_weeks=rule.target_weeks,
            closes_weeks=rule.closes_weeks,
        )
    return list(Wave.objects.filter(study=study).order_by("number"))


def wave_rules(study: Study) -> list[schedule.WaveRule]:
    return [
        schedule.WaveRule(
            number=wave.number,
            name=wave.name,
            anchor=wave.anchor,  # type: ignore[arg-type]
            opens_weeks=float(wave.opens_weeks),
            target_weeks=float(wave.target_weeks),
            closes_weeks=float(wave.closes_weeks),
        )
        for wave in ensure_waves(study)
    ]


def next_pseudonym(study: Study, site: Site, kind: str) -> str:
    """The next free pseudonym at a site: EL-W07 for women, EL-S12 for staff."""
    letter = Participant.KIND_LETTER[Participant.Kind(kind)]
    prefix = f"{site.code}-{letter}"
    numbers = [
        int(match.group(1))
        for pseudonym in study.participants.filter(pseudonym__startswith=prefix).values_list(
            "pseudonym", flat=True
        )
        if (match := re.fullmatch(re.escape(prefix) + r"(\d+)", pseudonym))
    ]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"


def infant_pseudonym(woman: Woman, index: int) -> str:
    return f"{woman.pseudonym}-I{index}"


def woman_schedule(woman: Woman) -> schedule.WomanSchedule:
    pregnancy: Pregnancy | None = getattr(woman, "pregnancy", None)
    interviews = list(woman.interviews.all())
    return schedule.WomanSchedule(
        woman_id=woman.pk,
        pseudonym=woman.pseudonym,
        site_code=woman.participant.site.code,
        edd=woman.edd,
        birth_date=pregnancy.birth_date if pregnancy else None,
        active=woman.status == Woman.Status.ACTIVE,
        interviewer_id=woman.interviewer_id,
        resolved_waves=frozenset(
            i.wave.number for i in interviews if i.status in Interview.RESOLVED
        ),
        booked={i.wave.number: i.date for i in interviews if i.status == Interview.Status.BOOKED},
        recruited_on=woman.recruited_on,
    )


def women_with_schedule(women: QuerySet[Woman]) -> QuerySet[Woman]:
    return women.select_related("participant__site", "pregnancy").prefetch_related(
        "interviews__wave"
    )


def due_list(
    study: Study, women: QuerySet[Woman], today: date, within_days: int
) -> list[schedule.DueItem]:
    return schedule.due_interviews(
        [woman_schedule(w) for w in women_with_schedule(women)],
        wave_rules(study),
        today,
        within_days,
    )


def retention_records(study: Study, women: QuerySet[Woman]) -> list[WomanRecord]:
    rules = wave_rules(study)
    records = []
    for woman in women.select_related("participant__site", "pregnancy").prefetch_related(
        "interviews__wave"
    ):
        pregnancy = getattr(woman, "pregnancy", None)
        birth = pregnancy.birth_date if pregnancy else None
        not_applicable = set()
        for rule in rules:
            window = schedule.wave_window(rule, woman.edd, birth)
            if window is None or window.closes < woman.recruited_on:
                not_applicable.add(rule.number)
        records.append(
            WomanRecord(
                site_code=woman.participant.site.code,
                status=woman.status,
                interviews={i.wave.number: i.status for i in woman.interviews.all()},
                not_applicable=frozenset(not_applicable),
            )
        )
    return records


@transaction.atomic
def record_withdrawal(
    participant: Participant, *, on: date, option: str, reason: str, user: Any
) -> Withdrawal:
    """Withdraw a participant: stop scheduling, cancel booked interviews, erase as chosen."""
    withdrawal = Withdrawal.objects.create(
        participant=participant, withdrawn_on=on, option=option, reason=reason, recorded_by=user
    )
    woman = Woman.objects.filter(participant=participant).first()
    if woman is not None:
        woman.status = Woman.Status.WITHDRAWN
        woman.save(update_fields=["status"])
        for interview in woman.interviews.filter(status=Interview.Status.BOOKED):
            interview.status = Interview.Status.WITHDRAWN
            interview.reason = "participant withdrew"
            interview.save(update_fields=["status", "reason"])
    report = erase_participant(participant, option)
    withdrawal.erasure_report = {area: items for area, items in report.items() if items}
    withdrawal.save(update_fields=["erasure_report"])
    audit.record(
        "participant.withdraw",
        study=participant.study_id,
        obj=participant,
        changes={"option": option},
    )
    return withdrawal
