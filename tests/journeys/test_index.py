"""The Journeys overview: counts limited to a member's sites, and 404 for everyone else."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from steppingstones.core.models import Participant
from steppingstones.journeys import events as services
from steppingstones.journeys.catalogue import seed_catalogue
from tests.cohort import conftest as cohort_fixtures

cohort = cohort_fixtures.cohort


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))


def test_the_overview_counts_events_at_the_members_sites(
    cohort: dict[str, Any], login: Any
) -> None:
    from datetime import date

    study = cohort["alpha"]
    seed_catalogue(study)
    plan = services.plan_import(
        study,
        "pseudonym,infant,event_type,date\n"
        "EL-W01,,booking,2023-12-18\nEL-W01,,referral,2023-12-01\nGG-W01,,booking,2023-12-20\n",
        Participant.objects.filter(study=study),
        date(2025, 1, 1),
    )
    assert plan.problems == []
    services.apply_import(plan)
    url = reverse("journeys_index", args=["alpha"])
    everyone = _figures(login(cohort["users"]["researcher"]).get(url).content.decode())
    assert (everyone["Women with a journey"], everyone["Journey events"]) == ("2", "3")
    gg = _figures(login(cohort["users"]["site-researcher-GG"]).get(url).content.decode())
    assert (gg["Women with a journey"], gg["Journey events"]) == ("1", "1")
    peer = login(cohort["users"]["peer-researcher"]).get(url).content.decode()
    assert "Journey maps</a>" not in peer  # per-woman maps are not for peer researchers


def test_the_overview_is_404_outside_the_study_and_the_area(
    cohort: dict[str, Any], login: Any
) -> None:
    url = reverse("journeys_index", args=["alpha"])
    assert login(cohort["users"]["other-study-manager"]).get(url).status_code == 404
    assert login(cohort["users"]["advisory-group-member"]).get(url).status_code == 404
