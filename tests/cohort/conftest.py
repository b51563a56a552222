from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from steppingstones.cohort import services
from steppingstones.cohort.models import (
    ConsentForm,
    ConsentItem,
    FocusGroup,
    Infant,
    Interview,
    Pregnancy,
    StaffMember,
    Woman,
)
from steppingstones.core.models import Participant


@pytest.fixture
def cohort(world: dict[str, Any]) -> dict[str, Any]:
    """The `world` study with a woman (born baby, one interview) at EL and GG, staff at each site,
    a focus group at GG and a consent form."""
    study = world["alpha"]
    waves = services.ensure_waves(study)
    women = {}
    for code, person in world["people"].items():
        woman = Woman.objects.create(
            participant=person,
            recruited_on=date(2024, 1, 10),
            edd=date(2024, 7, 1),
            interviewer=world["users"]["researcher"],
        )
        pregnancy = Pregnancy.objects.create(
            woman=woman,
            birth_date=date(2024, 6, 25),
            gestation_at_birth_days=274,
            outcome="live-birth",
        )
        Infant.objects.create(pregnancy=pregnancy, pseudonym=f"{code}-W01-I1")
        Interview.objects.create(woman=woman, wave=waves[0], status="done", date=date(2024, 2, 1))
        women[code] = woman
    staff = {}
    for code in ("EL", "GG"):
        participant = Participant.objects.create(
            study=study, site=study.sites.get(code=code), kind="staff", pseudonym=f"{code}-S01"
        )
        staff[code] = StaffMember.objects.create(participant=participant, role="drug-worker")
    group = FocusGroup.objects.create(
        study=study, site=study.sites.get(code="GG"), held_on=date(2024, 3, 1)
    )
    group.attendees.set([staff["GG"]])
    form = ConsentForm.objects.create(
        study=study,
        audience="woman",
        version="1.0",
        effective_from=date(2024, 1, 1),
        title="Women's consent",
    )
    ConsentItem.objects.create(form=form, code="take-part", text="I agree", required=True)
    return {**world, "women": women, "staff": staff, "group": group, "waves": waves}
