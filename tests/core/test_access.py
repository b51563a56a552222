"""Every view answers 404 to anyone outside its reach (never 403: no hint that a thing exists)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from steppingstones.core.jobs import start_job
from steppingstones.core.models import Membership

FULL = ["study-manager", "researcher", "researcher-identifiable", "auditor"]
SITE_RESEARCHERS = ["site-researcher-EL", "site-researcher-GG"]
ROLES_WITH_PARTICIPANTS = [*FULL, *SITE_RESEARCHERS]
DE_IDENTIFIED = [*ROLES_WITH_PARTICIPANTS, "peer-researcher"]
ALL_MEMBERS = [*DE_IDENTIFIED, "advisory-group-member"]


def _get(world: dict[str, Any], login: Any, who: str, name: str, **kwargs: Any) -> int:
    client = login(world["users"][who])
    return client.get(reverse(name, kwargs={"study_slug": "alpha", **kwargs})).status_code


# (url name, extra kwargs, who may open it)
CASES = [
    ("dashboard", {}, ALL_MEMBERS),
    ("participants", {}, ROLES_WITH_PARTICIPANTS),
    ("site", {"site_code": "EL"}, [*FULL, "site-researcher-EL"]),
    ("site", {"site_code": "GG"}, [*FULL, "site-researcher-GG"]),
    ("identity", {"pseudonym": "EL-W01"}, ["study-manager", "researcher-identifiable"]),
    ("identity", {"pseudonym": "GG-W01"}, ["study-manager", "researcher-identifiable"]),
    ("identity_edit", {"pseudonym": "EL-W01"}, ["study-manager", "researcher-identifiable"]),
    ("members", {}, ["study-manager"]),
    ("member_add", {}, ["study-manager"]),
    ("audit", {}, ["study-manager", "auditor"]),
    ("evidence_index", {}, DE_IDENTIFIED),
    ("cohort_index", {}, ROLES_WITH_PARTICIPANTS),
    ("voices_index", {}, DE_IDENTIFIED),
    ("journeys_index", {}, DE_IDENTIFIED),
    ("model_index", {}, ALL_MEMBERS),
]
EVERYONE = [*ALL_MEMBERS, "other-study-manager"]


@pytest.mark.parametrize(
    ("name", "kwargs", "allowed"),
    CASES,
    ids=[f"{c[0]}-{'-'.join(map(str, c[1].values()))}" for c in CASES],
)
def test_it_checks_access(world, login, name, kwargs, allowed) -> None:
    for who in EVERYONE:
        expected = 200 if who in allowed else 404
        assert _get(world, login, who, name, **kwargs) == expected, f"{who} on {name} {kwargs}"


def test_an_unknown_study_and_a_forbidden_one_look_the_same(world, login) -> None:
    client = login(world["users"]["study-manager"])
    forbidden = client.get(reverse("dashboard", kwargs={"study_slug": "beta"}))
    missing = client.get(reverse("dashboard", kwargs={"study_slug": "no-such-study"}))
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content


def test_member_pages_check_the_member_belongs_to_the_study(world, login) -> None:
    other = Membership.objects.get(study=world["beta"])
    client = login(world["users"]["study-manager"])
    for name in ("member_edit", "member_password"):
        url = reverse(name, kwargs={"study_slug": "alpha", "member_id": other.pk})
        assert client.get(url).status_code == 404
    own = Membership.objects.filter(study=world["alpha"]).first()
    for name in ("member_edit", "member_password"):
        url = reverse(name, kwargs={"study_slug": "alpha", "member_id": own.pk})
        assert client.get(url).status_code == 200
        assert login(world["users"]["researcher"]).get(url).status_code == 404


def test_a_job_is_visible_only_to_the_member_who_started_it(world, login) -> None:
    manager = world["users"]["study-manager"]
    job = start_job(study=world["alpha"], user=manager, kind="audit-export", label="export")
    for name in ("job", "job_download"):
        url = reverse(name, kwargs={"study_slug": "alpha", "job_id": job.pk})
        assert login(world["users"]["auditor"]).get(url).status_code == 404
        assert login(world["users"]["other-study-manager"]).get(url).status_code == 404
    url = reverse("job", kwargs={"study_slug": "alpha", "job_id": job.pk})
    assert login(manager).get(url).status_code == 200


def test_read_only_roles_cannot_change_anything(world, login) -> None:
    auditor = login(world["users"]["auditor"])
    url = reverse("cohort_index", kwargs={"study_slug": "alpha"})
    assert auditor.post(url).status_code == 404
    url = reverse("identity_edit", kwargs={"study_slug": "alpha", "pseudonym": "EL-W01"})
    assert auditor.post(url, {"full_name": "x"}).status_code == 404


def test_the_navigation_shows_only_what_the_role_may_open(world, login) -> None:
    page = (
        login(world["users"]["advisory-group-member"])
        .get(reverse("dashboard", kwargs={"study_slug": "alpha"}))
        .content.decode()
    )
    assert ">Model<" in page
    for hidden in (
        ">Evidence<",
        ">Cohort<",
        ">Voices<",
        ">Journeys<",
        ">Members<",
        ">Audit trail<",
    ):
        assert hidden not in page
    page = (
        login(world["users"]["peer-researcher"])
        .get(reverse("dashboard", kwargs={"study_slug": "alpha"}))
        .content.decode()
    )
    assert ">Voices<" in page and ">Cohort<" not in page and "Women" not in page


def test_a_site_researcher_sees_only_their_sites_people(world, login) -> None:
    page = (
        login(world["users"]["site-researcher-EL"])
        .get(reverse("participants", kwargs={"study_slug": "alpha"}))
        .content.decode()
    )
    assert "EL-W01" in page and "GG-W01" not in page
    page = (
        login(world["users"]["site-researcher-EL"])
        .get(reverse("dashboard", kwargs={"study_slug": "alpha"}))
        .content.decode()
    )
    assert "Site GG" not in page


def test_the_study_switcher_lists_and_opens_only_ones_own_studies(world, login) -> None:
    user = world["users"]["researcher"]
    Membership.objects.create(user=user, study=world["beta"], role="auditor")
    client = login(user)
    home = client.get(reverse("home")).content.decode()
    assert "Study alpha" in home and "Study beta" in home
    switched = client.get(reverse("switch_study"), {"study": "beta"})
    assert switched["Location"] == reverse("dashboard", kwargs={"study_slug": "beta"})
    outsider = login(world["users"]["other-study-manager"])
    assert outsider.get(reverse("switch_study"), {"study": "alpha"}).status_code == 404
    assert "Study alpha" not in outsider.get(reverse("home"), follow=True).content.decode()
