"""Every cohort page answers 404 to anyone outside its study, site or role."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

FULL = ["study-manager", "researcher", "researcher-identifiable", "auditor"]
COHORT = [*FULL, "site-researcher-EL", "site-researcher-GG"]
OUTSIDERS = ["peer-researcher", "advisory-group-member", "other-study-manager"]
EVERYONE = [*COHORT, *OUTSIDERS]

EL = {"pseudonym": "EL-W01"}
CASES = [
    ("cohort_index", {}, COHORT),
    ("cohort_women", {}, COHORT),
    ("cohort_woman_add", {}, COHORT),
    ("cohort_woman", EL, [*FULL, "site-researcher-EL"]),
    ("cohort_woman", {"pseudonym": "GG-W01"}, [*FULL, "site-researcher-GG"]),
    ("cohort_woman_edit", EL, [*FULL, "site-researcher-EL"]),
    ("cohort_circumstance_add", EL, [*FULL, "site-researcher-EL"]),
    ("cohort_birth", EL, [*FULL, "site-researcher-EL"]),
    ("cohort_infant", {**EL, "infant": "EL-W01-I1"}, [*FULL, "site-researcher-EL"]),
    ("cohort_care_period_add", {**EL, "infant": "EL-W01-I1"}, [*FULL, "site-researcher-EL"]),
    ("cohort_interview", {**EL, "wave": 1}, [*FULL, "site-researcher-EL"]),
    ("cohort_artefact_upload", {**EL, "wave": 1}, [*FULL, "site-researcher-EL"]),
    ("cohort_consent", EL, [*FULL, "site-researcher-EL"]),
    ("cohort_withdraw", EL, [*FULL, "site-researcher-EL"]),
    ("cohort_schedule", {}, COHORT),
    ("cohort_diary", {}, COHORT),
    ("cohort_calendar", {}, COHORT),
    ("cohort_staff", {}, COHORT),
    ("cohort_staff_add", {}, COHORT),
    ("cohort_staff_interview", {"pseudonym": "GG-S01"}, [*FULL, "site-researcher-GG"]),
    ("cohort_focus_group_add", {}, COHORT),
    ("cohort_consent_forms", {}, COHORT),
    ("cohort_consent_form_add", {}, COHORT),
    ("cohort_import", {}, COHORT),
    ("cohort_export", {}, COHORT),
    ("cohort_dictionary", {}, COHORT),
    ("cohort_waves", {}, ["study-manager"]),
    ("cohort_wave", {"wave": 2}, ["study-manager"]),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "allowed"),
    CASES,
    ids=[f"{c[0]}-{'-'.join(map(str, c[1].values()))}" for c in CASES],
)
def test_it_checks_access(cohort, login, name: str, kwargs: dict[str, Any], allowed) -> None:
    url = reverse(name, kwargs={"study_slug": "alpha", **kwargs})
    for who in EVERYONE:
        status = login(cohort["users"][who]).get(url).status_code
        assert status == (200 if who in allowed else 404), f"{who} on {url}: {status}"


def test_a_focus_group_at_another_site_is_out_of_reach(cohort, login) -> None:
    url = reverse(
        "cohort_focus_group", kwargs={"study_slug": "alpha", "group_id": cohort["group"].pk}
    )
    assert login(cohort["users"]["site-researcher-GG"]).get(url).status_code == 200
    assert login(cohort["users"]["site-researcher-EL"]).get(url).status_code == 404
    assert login(cohort["users"]["other-study-manager"]).get(url).status_code == 404


def test_the_auditor_reads_but_cannot_change(cohort, login) -> None:
    auditor = login(cohort["users"]["auditor"])
    url = reverse("cohort_woman_edit", kwargs={"study_slug": "alpha", "pseudonym": "EL-W01"})
    assert auditor.post(url, {"recruited_on": "2024-01-01", "edd": "2024-07-01"}).status_code == 404


def test_site_lists_hold_only_the_researchers_sites(cohort, login) -> None:
    client = login(cohort["users"]["site-researcher-EL"])
    for name in ("cohort_women", "cohort_staff", "cohort_index"):
        page = client.get(reverse(name, kwargs={"study_slug": "alpha"})).content.decode()
        assert "GG-W01" not in page and "GG-S01" not in page, name
    export = client.get(
        reverse("cohort_export", kwargs={"study_slug": "alpha"}),
        {"format": "csv", "sheet": "women"},
    ).content.decode()
    assert "EL-W01" in export and "GG-W01" not in export


def test_peer_researchers_never_reach_identity_fields_through_the_cohort(cohort, login) -> None:
    client = login(cohort["users"]["peer-researcher"])
    assert (
        client.get(
            reverse("cohort_woman", kwargs={"study_slug": "alpha", "pseudonym": "EL-W01"})
        ).status_code
        == 404
    )
    page = (
        login(cohort["users"]["researcher"])
        .get(reverse("cohort_woman", kwargs={"study_slug": "alpha", "pseudonym": "EL-W01"}))
        .content.decode()
    )
    assert "Woman at EL" not in page, "identifiers never appear on cohort pages"
