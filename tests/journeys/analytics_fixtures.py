"""A cohort with two women's journeys for the pathway analytics tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from steppingstones.cohort.models import Circumstance
from steppingstones.journeys.catalogue import seed_catalogue
from steppingstones.journeys.models import EventType, JourneyEvent

BIRTH = date(2024, 6, 25)
START = date(2024, 7, 1) - timedelta(days=280)  # both women are due on 1 July 2024


def on_week(weeks: int, days: int = 0) -> date:
    return START + timedelta(days=weeks * 7 + days)


# (code, date) of each woman's journey. EL books at 9+3 and GG at 12+0.
JOURNEYS: dict[str, list[tuple[str, date]]] = {
    "EL": [
        ("referral", on_week(7)),
        ("booking", on_week(9, 3)),
        ("specialist-midwife-referral", on_week(10)),
        ("specialist-midwife-contact", on_week(11)),
        ("drug-worker-contact", on_week(20)),
        ("drug-worker-contact", on_week(30)),
        ("pre-birth-conference", on_week(33)),
        ("birth", BIRTH),
        ("discharge-infant", BIRTH + timedelta(days=6)),
        ("health-visitor-contact", BIRTH + timedelta(days=12)),
        ("drug-worker-contact", BIRTH + timedelta(days=40)),
    ],
    "GG": [
        ("booking", on_week(12)),
        ("referral", on_week(13)),
        ("specialist-midwife-referral", on_week(13)),
        ("ird", on_week(20)),
        ("pre-birth-conference", on_week(27)),
        ("drug-worker-contact", on_week(30)),
        ("birth", BIRTH),
        ("discharge-infant", BIRTH + timedelta(days=3)),
        ("health-visitor-contact", BIRTH + timedelta(days=20)),
    ],
}


def add_journeys(cohort: dict[str, Any]) -> dict[str, Any]:
    """The cohort fixture's two women (EL-W01, GG-W01) with journeys; EL-W01 uses heroin and
    has opioid substitution."""
    study = cohort["alpha"]
    seed_catalogue(study)
    types = {t.code: t for t in EventType.objects.filter(study=study)}
    for code, woman in cohort["women"].items():
        for event_code, when in JOURNEYS[code]:
            kind = types[event_code]
            JourneyEvent.objects.create(
                study=study,
                participant=woman.participant,
                event_type=kind,
                service=kind.service,
                date=when,
                timeline_days=(when - BIRTH).days,
            )
    el = cohort["women"]["EL"]
    Circumstance.objects.create(woman=el, kind="substance", value="Heroin", sensitivity="criminal")
    Circumstance.objects.create(woman=el, kind="ost", value="methadone", sensitivity="special")
    el.parity = 0
    el.save()
    return cohort
