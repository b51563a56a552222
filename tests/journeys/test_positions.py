"""Recording or correcting the birth moves her journey: positions count from the birth."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from steppingstones.core.models import Participant
from steppingstones.journeys import events as services
from steppingstones.journeys.catalogue import seed_catalogue
from steppingstones.journeys.models import JourneyEvent
from tests.cohort import conftest as cohort_fixtures

cohort = cohort_fixtures.cohort


def test_correcting_the_birth_date_on_the_cohort_page_moves_every_event(
    cohort: dict[str, Any], login: Any
) -> None:
    study = cohort["alpha"]
    seed_catalogue(study)
    people = Participant.objects.filter(study=study)
    plan = services.plan_import(
        study,
        "pseudonym,infant,event_type,date\nEL-W01,,booking,2023-12-18\n",
        people,
        date(2025, 1, 1),
    )
    assert plan.problems == []
    services.apply_import(plan)
    booking = JourneyEvent.objects.get(event_type__code="booking")
    assert booking.timeline_days == (date(2023, 12, 18) - date(2024, 6, 25)).days

    client = login(cohort["users"]["researcher"])
    response = client.post(
        reverse("cohort_birth", args=[study.slug, "EL-W01"]),
        {
            "birth_date": "2024-06-29",
            "gestation_at_birth": "39+2",
            "outcome": "live-birth",
            "infants": 1,
        },
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.timeline_days == (date(2023, 12, 18) - date(2024, 6, 29)).days
