"""What researchers do with the cohort, through the pages: births, bookings, consent, withdrawal."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from steppingstones.cohort import services
from steppingstones.cohort.models import Artefact, CalendarToken, Consent, Interview, Woman
from steppingstones.core import identity_store
from steppingstones.core.models import AuditEvent


def _url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"study_slug": "alpha", **kwargs})


def _new_woman(client, site: str = "EL", edd: date | None = None) -> Woman:
    today = timezone.localdate()
    edd = edd or today + timedelta(days=120)
    response = client.post(
        _url("cohort_woman_add"),
        {
            "site": client.site_ids[site],
            "recruited_on": (today - timedelta(days=7)).isoformat(),
            "edd": edd.isoformat(),
            "gestation_at_recruitment": "22+3",
            "parity": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Woman.objects.latest("pk")


def _client(cohort, login, who="site-researcher-EL"):
    client = login(cohort["users"][who])
    client.site_ids = {s.code: s.pk for s in cohort["alpha"].sites.all()}
    return client


def test_adding_a_woman_gives_the_next_pseudonym_at_her_site(cohort, login) -> None:
    woman = _new_woman(_client(cohort, login))
    assert woman.pseudonym == "EL-W02"
    assert woman.gestation_at_recruitment_days == 22 * 7 + 3
    assert AuditEvent.objects.filter(action="woman.create", object_repr="EL-W02").exists()


def test_a_site_researcher_cannot_add_a_woman_at_another_site(cohort, login) -> None:
    client = _client(cohort, login)
    response = client.post(
        _url("cohort_woman_add"),
        {"site": client.site_ids["GG"], "recruited_on": "2024-01-01", "edd": "2024-08-01"},
    )
    assert response.status_code == 200 and not Woman.objects.filter(
        participant__site__code="GG", participant__pseudonym="GG-W02"
    )


def test_recording_the_birth_moves_the_postnatal_windows(cohort, login) -> None:
    client = _client(cohort, login)
    edd = timezone.localdate() + timedelta(days=5)
    woman = _new_woman(client, edd=edd)
    rules = services.wave_rules(cohort["alpha"])
    before = services.woman_schedule(woman)
    from steppingstones.cohort.schedule import windows_for

    wave3_before = {r.number: w for r, w in windows_for(before, rules)}[3]
    assert wave3_before.anchored_on == "due date" and wave3_before.opens == edd + timedelta(weeks=8)
    birth = timezone.localdate() - timedelta(days=2)
    response = client.post(
        _url("cohort_birth", pseudonym=woman.pseudonym),
        {
            "birth_date": birth.isoformat(),
            "gestation_at_birth": "38+4",
            "outcome": "live-birth",
            "infants": "1",
        },
    )
    assert response.status_code == 302
    woman.refresh_from_db()
    after = {r.number: w for r, w in windows_for(services.woman_schedule(woman), rules)}[3]
    assert after.anchored_on == "birth" and after.opens == birth + timedelta(weeks=8)
    assert woman.pregnancy.infants.get().pseudonym == f"{woman.pseudonym}-I1"
    page = client.get(_url("cohort_woman", pseudonym=woman.pseudonym)).content.decode()
    assert after.opens.isoformat() in page


def test_a_birth_before_recruitment_is_refused(cohort, login) -> None:
    client = _client(cohort, login)
    woman = _new_woman(client)
    response = client.post(
        _url("cohort_birth", pseudonym=woman.pseudonym),
        {
            "birth_date": "2000-01-01",
            "gestation_at_birth": "38+4",
            "outcome": "live-birth",
            "infants": "1",
        },
    )
    assert "before she was recruited" in response.content.decode()


def test_booking_completing_and_listing_due_interviews(cohort, login) -> None:
    client = _client(cohort, login)
    today = timezone.localdate()
    # 30+0 today: the late-pregnancy window (28 to 38 weeks) is open, its target (32) ahead.
    woman = _new_woman(client, edd=today + timedelta(days=280 - 30 * 7))
    due = client.get(_url("cohort_schedule")).content.decode()
    assert woman.pseudonym in due
    items = services.due_list(cohort["alpha"], Woman.objects.filter(pk=woman.pk), today, 14)
    assert [(item.wave, item.status) for item in items] == [(2, "due")]
    book = today + timedelta(days=3)
    response = client.post(
        _url("cohort_interview", pseudonym=woman.pseudonym, wave=2),
        {
            "wave": cohort["waves"][1].pk,
            "status": "booked",
            "date": book.isoformat(),
            "time": "10:30",
            "mode": "in-person",
            "location_type": "clinic",
        },
    )
    assert response.status_code == 302
    interview = Interview.objects.get(woman=woman, wave__number=2)
    future = client.post(
        _url("cohort_interview", pseudonym=woman.pseudonym, wave=2),
        {
            "wave": cohort["waves"][1].pk,
            "status": "done",
            "date": book.isoformat(),
            "mode": "in-person",
        },
    )
    assert "date still to come" in future.content.decode()
    client.post(
        _url("cohort_interview", pseudonym=woman.pseudonym, wave=2),
        {
            "wave": cohort["waves"][1].pk,
            "status": "done",
            "date": today.isoformat(),
            "mode": "in-person",
            "duration_minutes": "55",
        },
    )
    interview.refresh_from_db()
    assert interview.status == "done" and interview.duration_minutes == 55
    items = services.due_list(cohort["alpha"], Woman.objects.filter(pk=woman.pk), today, 365)
    assert 2 not in {item.wave for item in items}, "a done wave is no longer due"


def test_a_missed_interview_needs_a_reason(cohort, login) -> None:
    client = _client(cohort, login)
    woman = cohort["women"]["EL"]
    response = client.post(
        _url("cohort_interview", pseudonym="EL-W01", wave=3),
        {"wave": cohort["waves"][2].pk, "status": "missed", "date": "2024-09-01", "mode": "phone"},
    )
    assert "Say why" in response.content.decode()
    assert not Interview.objects.filter(woman=woman, wave__number=3).exists()


def test_consent_needs_its_required_items_and_flags_re_consent(cohort, login) -> None:
    client = _client(cohort, login)
    url = _url("cohort_consent", pseudonym="EL-W01")
    refused = client.post(url, {"given_on": "2024-01-10"})
    assert "Taking part needs" in refused.content.decode() and not Consent.objects.exists()
    client.post(url, {"given_on": "2024-01-10", "item-take-part": "on"})
    assert Consent.objects.get().answers == {"take-part": True}
    manager = login(cohort["users"]["study-manager"])
    manager.post(
        _url("cohort_consent_form_add"),
        {
            "audience": "woman",
            "version": "2.0",
            "title": "Women's consent",
            "effective_from": "2024-06-01",
            "items": "take-part* | I agree to take part\naudio* | I agree to be recorded",
        },
    )
    page = manager.get(_url("cohort_consent_forms")).content.decode()
    assert "EL-W01" in page and "v2.0" in page
    woman_page = manager.get(_url("cohort_woman", pseudonym="EL-W01")).content.decode()
    assert "re-consent needed for version 2.0" in woman_page


def _upload_artefact(client, pseudonym: str) -> Artefact:
    response = client.post(
        _url("cohort_artefact_upload", pseudonym=pseudonym, wave=1),
        {
            "kind": "transcript",
            "file": SimpleUploadedFile("Interview with Jane Smith.txt", b"synthetic transcript"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return Artefact.objects.latest("pk")


def test_artefacts_are_type_checked_and_stored_under_a_random_name(cohort, login) -> None:
    client = _client(cohort, login)
    artefact = _upload_artefact(client, "EL-W01")
    assert artefact.original_name == "Interview with Jane Smith.txt"
    assert (
        "Jane" not in artefact.file.name
        and Path(artefact.file.path).read_bytes() == b"synthetic transcript"
    )
    bad = client.post(
        _url("cohort_artefact_upload", pseudonym="EL-W01", wave=1),
        {"kind": "audio", "file": SimpleUploadedFile("notes.exe", b"MZ")},
    )
    assert "must be one of" in bad.content.decode()
    download = client.get(_url("cohort_artefact", pseudonym="EL-W01", artefact_id=artefact.pk))
    assert b"".join(download.streaming_content) == b"synthetic transcript"
    assert AuditEvent.objects.filter(action="artefact.download").exists()
    other = _client(cohort, login, "site-researcher-GG")
    assert (
        other.get(_url("cohort_artefact", pseudonym="EL-W01", artefact_id=artefact.pk)).status_code
        == 404
    )


def test_withdrawal_with_removal_erases_across_the_platform(
    cohort, login, django_capture_on_commit_callbacks
) -> None:
    client = _client(cohort, login)
    woman = cohort["women"]["EL"]
    woman.context_notes = "lives with her sister"
    woman.save()
    artefact = _upload_artefact(client, "EL-W01")
    stored = Path(artefact.file.path)
    booked = Interview.objects.create(
        woman=woman,
        wave=cohort["waves"][3],
        status="booked",
        date=timezone.localdate() + timedelta(days=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("cohort_withdraw", pseudonym="EL-W01"),
            {
                "withdrawn_on": timezone.localdate().isoformat(),
                "option": "remove-unanalysed",
                "reason": "moved away",
                "confirm": "on",
            },
        )
    page = response.content.decode()
    assert "direct identifiers (identity store)" in page and "1 interview artefact file(s)" in page
    assert not stored.exists() and not Artefact.objects.exists()
    woman.refresh_from_db()
    booked.refresh_from_db()
    assert woman.status == "withdrawn" and woman.context_notes == ""
    assert booked.status == "withdrawn"
    assert identity_store.read_identity(woman.participant) is None
    erasure = AuditEvent.objects.get(action="participant.erasure")
    assert erasure.changes["option"] == "remove-unanalysed"
    assert (
        services.due_list(
            cohort["alpha"], Woman.objects.filter(pk=woman.pk), timezone.localdate(), 365
        )
        == []
    )
    refused = client.post(
        _url("cohort_interview", pseudonym="EL-W01", wave=5),
        {"wave": cohort["waves"][4].pk, "status": "booked", "date": "2030-01-01", "mode": "phone"},
    )
    assert refused.status_code == 302 and not Interview.objects.filter(woman=woman, wave__number=5)


def test_withdrawal_keeping_data_removes_nothing(cohort, login) -> None:
    client = _client(cohort, login, "study-manager")
    response = client.post(
        _url("cohort_withdraw", pseudonym="GG-W01"),
        {"withdrawn_on": timezone.localdate().isoformat(), "option": "keep-data", "confirm": "on"},
    )
    assert "Nothing was removed" in response.content.decode()
    woman = cohort["women"]["GG"]
    assert identity_store.read_identity(woman.participant) is not None


def test_the_calendar_feed_lists_booked_interviews_by_pseudonym_only(cohort, login) -> None:
    researcher = cohort["users"]["researcher"]
    client = login(researcher)
    Interview.objects.create(
        woman=cohort["women"]["EL"],
        wave=cohort["waves"][2],
        status="booked",
        date=date(2030, 3, 5),
        interviewer=researcher,
        location_type="clinic",
    )
    client.post(_url("cohort_calendar"))
    token = CalendarToken.objects.get(user=researcher).token
    feed = client.get(reverse("cohort_calendar_feed", args=[token]))
    assert feed["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["SUMMARY"]) for e in events] == ["Interview EL-W01, wave 3"]
    assert "Woman at EL" not in feed.content.decode()
    client.post(_url("cohort_calendar"))
    assert client.get(reverse("cohort_calendar_feed", args=[token])).status_code == 404
