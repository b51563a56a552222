"""Regression tests: ways a site researcher or a free-text field could reach past the rules."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from steppingstones.cohort import exchange
from steppingstones.cohort.models import ConsentForm, Woman
from steppingstones.cohort.tabular import write_csv
from steppingstones.core.models import AuditEvent


def _url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"study_slug": "alpha", **kwargs})


def _women_csv(site: str, pseudonym: str) -> bytes:
    row = {
        "pseudonym": pseudonym,
        "site": site,
        "recruited_on": date(2024, 1, 5),
        "edd": date(2024, 7, 1),
        "status": "active",
        "outcome": "ongoing",
    }
    return write_csv(exchange.WOMEN, [row]).encode()


def test_a_site_researcher_cannot_import_at_another_site(cohort, login) -> None:
    client = login(cohort["users"]["site-researcher-EL"])
    response = client.post(
        _url("cohort_import"), {"file": SimpleUploadedFile("women.csv", _women_csv("GG", "GG-W01"))}
    )
    page = response.content.decode()
    assert "not one of your sites" in page
    assert "already in this study" not in page, "says nothing about pseudonyms at other sites"
    assert not Woman.objects.filter(participant__pseudonym="GG-W02").exists()


def test_a_csv_import_through_the_pages_is_confirmed_and_saved(cohort, login) -> None:
    client = login(cohort["users"]["site-researcher-EL"])
    preview = client.post(
        _url("cohort_import"), {"file": SimpleUploadedFile("women.csv", _women_csv("EL", "EL-W05"))}
    )
    assert "Ready to import 1 women" in preview.content.decode()
    done = client.post(_url("cohort_import_confirm"), {"token": preview.context["token"]})
    assert done.status_code == 302
    assert Woman.objects.filter(participant__pseudonym="EL-W05").exists()
    again = client.post(_url("cohort_import_confirm"), {"token": preview.context["token"]})
    assert again.status_code == 404, "a preview is used once"


def test_free_text_never_enters_the_audit_trail(cohort, login) -> None:
    client = login(cohort["users"]["researcher"])
    client.post(
        _url("cohort_woman_edit", pseudonym="EL-W01"),
        {
            "recruited_on": "2024-01-10",
            "edd": "2024-07-01",
            "context_notes": "lives with Jane Doe at 5 High Street",
        },
    )
    client.post(
        _url("cohort_circumstance_add", pseudonym="EL-W01"),
        {"kind": "housing", "value": "staying with Jane Doe", "detail": "5 High Street"},
    )
    assert Woman.objects.get(participant__pseudonym="EL-W01").context_notes.startswith("lives")
    trail = str(list(AuditEvent.objects.values()))
    assert "Jane Doe" not in trail and "High Street" not in trail
    change = AuditEvent.objects.filter(action="woman.change").latest("id")
    assert change.changes["context_notes"] == {"changed": True}


def test_interviewer_lists_hold_only_cohort_researchers(cohort, login) -> None:
    page = (
        login(cohort["users"]["site-researcher-EL"])
        .get(_url("cohort_interview", pseudonym="EL-W01", wave=2))
        .content.decode()
    )
    assert "alpha-peer-researcher" not in page and "alpha-auditor" not in page
    assert "alpha-site-researcher-GG" not in page, "not a colleague at this site"
    assert "alpha-researcher-all" in page


def test_a_consent_form_not_yet_in_force_is_not_current(cohort, login) -> None:
    ConsentForm.objects.create(
        study=cohort["alpha"],
        audience="woman",
        version="9.0",
        effective_from=timezone.localdate() + timedelta(days=30),
        title="Next year's form",
    )
    page = (
        login(cohort["users"]["researcher"])
        .get(_url("cohort_consent", pseudonym="EL-W01"))
        .content.decode()
    )
    assert "v1.0" in page and "v9.0" not in page


def test_out_of_range_dates_and_numbers_answer_404(cohort, login) -> None:
    client = login(cohort["users"]["researcher"])
    assert client.get(_url("cohort_diary"), {"from": "0001-01-01"}).status_code == 404
    assert (
        client.get(_url("cohort_diary"), {"view": "month", "from": "9999-12-20"}).status_code == 404
    )
    assert client.get(_url("cohort_schedule"), {"researcher": "9" * 30}).status_code == 200
