"""Journey-map pages and files: what they draw, the text alternative, and who may see them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from defusedxml import ElementTree as ET
from django.urls import reverse

from steppingstones.journeys import events as services
from steppingstones.journeys import mapsvg
from steppingstones.journeys.catalogue import seed_catalogue
from steppingstones.journeys.models import EventType, JourneyEvent
from tests.cohort import conftest as cohort_fixtures

cohort = cohort_fixtures.cohort  # the cohort area's shared fixture

SVG = "{http://www.w3.org/2000/svg}"
EVENTS = (
    "pseudonym,infant,event_type,date,ends_on,experience,quote,wave\n"
    "EL-W01,,booking,about 12 weeks,,helpful,She listened to me.,1\n"
    "EL-W01,,drug-treatment-start,2023-11-20,,,,\n"
    "EL-W01,,pre-birth-conference,2024-04-20,,stigmatising,They talked over me.,\n"
    "EL-W01,,birth,2024-06-25,,,,\n"
    "EL-W01,EL-W01-I1,neonatal-unit,2024-06-25,2024-07-09,,,\n"
    "EL-W01,EL-W01-I1,discharge-infant,2024-07-09,,helpful,Best day.,\n"
    "EL-W01,,post-removal-support,2024-08-01 to 2024-08-20,,,,\n"
    "GG-W01,,booking,2023-12-01,,,,\n"
)


@pytest.fixture
def mapped(cohort: dict[str, Any]) -> dict[str, Any]:
    plan = services.plan_import(
        cohort["alpha"],
        EVENTS,
        cohort["alpha"].participants.all(),
        date(2025, 1, 1),
    )
    assert plan.problems == []
    services.apply_import(plan)
    return cohort


def _get(login: Any, user: Any, name: str, *args: Any, query: str = "") -> Any:
    return login(user).get(reverse(name, args=["alpha", *args]) + query)


def test_the_svg_is_well_formed_and_draws_every_event(mapped: dict[str, Any], login: Any) -> None:
    response = _get(login, mapped["users"]["researcher"], "journeys_map_download", "EL-W01", "svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == "Journey map: EL-W01"  # type: ignore[union-attr]
    drawn = [g.get("data-event") for g in root.iter(f"{SVG}g") if g.get("class") == "event"]
    stored = JourneyEvent.objects.filter(participant__pseudonym="EL-W01")
    assert sorted(drawn) == sorted(f"ev-{e.pk}" for e in stored)
    titles = " ".join(t.text or "" for t in root.iter(f"{SVG}title"))
    for event in stored.select_related("event_type"):
        assert event.event_type.name in titles
    assert "“They talked over me.”" in titles  # the experience mark's quote
    # One lane per service present: maternity, drug treatment, social care, neonatal, third sector.
    lanes = {"Maternity", "Drug treatment", "Social care", "Neonatal", "Third sector and advocacy"}
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert lanes <= texts
    assert "Health visiting" not in texts


def test_the_page_gives_the_same_journey_as_an_ordered_list(
    mapped: dict[str, Any], login: Any
) -> None:
    response = _get(login, mapped["users"]["researcher"], "journeys_map", "EL-W01")
    assert response.status_code == 200
    html = response.content.decode()
    listed = re.findall(r'<li id="(ev-\d+)" tabindex="-1"><strong>([^<]+)</strong>: ([^<(]+)', html)
    names = [name.strip() for _key, _when, name in listed]
    assert names == [
        "Drug treatment start",  # (OST), 2023-11-20
        "Booking appointment",  # about 12 weeks: 2023-12-18
        "Pre-birth child-protection conference / CPPM",
        "Birth",
        "Neonatal unit or transitional care",
        "Baby&#x27;s discharge from hospital",
        "Post-removal support",
    ]
    whens = [when for _key, when, _name in listed]
    # 2024-04-20 is 208 days after conception (2023-09-25): 29+5.
    assert whens[2] == "29+5 weeks&#x27; gestation"
    assert whens[1].startswith("12+0 weeks&#x27; gestation (she said")
    assert whens[3] == "day of birth"
    assert whens[5] == "infant 2 weeks"  # 2024-07-09: 14 days
    # The experience marks are links to the list entries, with the quote as their name.
    marks = re.findall(
        r'<a href="#(ev-\d+)" class="experience[^"]*"[^>]*aria-label="([^"]+)"', html
    )
    assert len(marks) == 3
    keys = {key for key, _when, _name in listed}
    assert {key for key, _label in marks} <= keys
    assert any("She listened to me." in label for _key, label in marks)


def test_an_infants_map_holds_the_events_about_that_baby(mapped: dict[str, Any]) -> None:
    woman = mapped["women"]["EL"]
    infant = woman.pregnancy.infants.get()
    journey = services.journey_of(woman, infant)
    assert [e.code for e in journey.events] == ["birth", "neonatal-unit", "discharge-infant"]
    neonatal = journey.events[1]
    assert (neonatal.day, neonatal.end) == (0, 14)


def test_the_pdf_is_a_pdf(mapped: dict[str, Any], login: Any) -> None:
    pytest.importorskip("cairosvg")
    response = _get(login, mapped["users"]["researcher"], "journeys_map_download", "EL-W01", "pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    both = "?women=EL-W01&women=GG-W01"
    response = _get(
        login, mapped["users"]["researcher"], "journeys_compare_download", "pdf", query=both
    )
    assert response.content.startswith(b"%PDF")


def test_side_by_side_aligns_the_births(mapped: dict[str, Any], login: Any) -> None:
    both = "?women=EL-W01&women=GG-W01"
    page = _get(login, mapped["users"]["researcher"], "journeys_compare", query=both)
    assert page.status_code == 200
    assert page.content.decode().count('class="journey-map"') == 2
    svg = _get(login, mapped["users"]["researcher"], "journeys_compare_download", "svg", query=both)
    root = ET.fromstring(svg.content)
    panels = root.findall(f"{SVG}svg")
    assert len(panels) == 2
    five = "?women=EL-W01&women=GG-W01&women=A&women=B&women=C"
    too_many = _get(login, mapped["users"]["researcher"], "journeys_compare", query=five)
    assert too_many.status_code == 200 and "journey-map" not in too_many.content.decode()


def _journey(days: dict[str, int]) -> mapsvg.Journey:
    return mapsvg.Journey(
        title="x",
        events=tuple(
            mapsvg.MapEvent(
                key=f"{code}-{day}",
                code=code,
                name=code.title(),
                service="maternity",
                shape="milestone",
                day=day,
                when="",
                experience="helpful" if code == "booking" else "",
                quote=f"quote {day}" if code == "booking" else "",
            )
            for code, day in days.items()
        ),
    )


def test_a_composite_uses_medians_and_quartiles_and_drops_rare_events() -> None:
    journeys = [
        _journey({"booking": -200, "birth": 0, "separation": 5}),
        _journey({"booking": -190, "birth": 0}),
        _journey({"booking": -180, "birth": 0}),
        _journey({"booking": -100, "birth": 0}),
    ]
    steps = mapsvg.composite_steps(journeys, quotes=True)
    assert [s.code for s in steps] == ["booking", "birth"]  # one separation: left out
    booking = steps[0]
    # Median of -200, -190, -180, -100 is -185 (280 - 185 = 95 days: 13+4); inclusive
    # quartiles -192.5 (rounded half to even: -192) and -160.
    assert (booking.women, booking.median_day) == (4, -185)
    assert (booking.low_day, booking.high_day) == (-192, -160)
    assert booking.experiences == (("helpful", 4),)
    assert booking.quote == "quote -100"  # the shortest, ties broken alphabetically
    merged = mapsvg.composite(journeys)
    assert merged.title == "a composite of 4 women"
    assert all(e.quote == "" for e in merged.events)
    rows = mapsvg.composite_rows(journeys)
    assert rows[0][:8] == [
        1,
        "booking",
        "Booking",
        "Maternity",
        4,
        100,
        -185,
        "13+4 weeks' gestation",
    ]
    with pytest.raises(ValueError, match="at least 3 women"):
        mapsvg.composite(journeys[:2])


def test_the_composite_page_is_anonymised(mapped: dict[str, Any], login: Any) -> None:
    peer = mapped["users"]["peer-researcher"]
    response = _get(login, peer, "journeys_composite", query="?group=all")
    assert response.status_code == 200
    html = response.content.decode()
    assert "at least 3 women" in html  # the test study has two
    assert "EL-W01" not in html and "GG-W01" not in html


def test_forms_add_change_and_remove_events(mapped: dict[str, Any], login: Any) -> None:
    client = login(mapped["users"]["researcher"])
    seed_catalogue(mapped["alpha"])
    contact = EventType.objects.get(study=mapped["alpha"], code="health-visitor-contact")
    url = reverse("journeys_event_add", args=["alpha", "EL-W01"])
    bad = client.post(
        url,
        {
            "event_type": contact.pk,
            "when": "2023-01-01",
            "certainty": "certain",
            "source_kind": "record",
        },
    )
    assert bad.status_code == 200 and "before conception" in bad.content.decode()
    good = client.post(
        url,
        {
            "event_type": contact.pk,
            "when": "around 3 months old",
            "certainty": "probable",
            "source_kind": "interview",
        },
    )
    assert good.status_code == 302
    event = JourneyEvent.objects.get(event_type=contact)
    assert event.date == date(2024, 9, 25)
    edit = reverse("journeys_event_edit", args=["alpha", "EL-W01", event.pk])
    form = client.get(edit)
    assert 'value="around 3 months old"' in form.content.decode()
    client.post(
        edit,
        {
            "event_type": contact.pk,
            "when": "2024-10-01",
            "certainty": "certain",
            "source_kind": "record",
        },
    )
    event.refresh_from_db()
    assert (event.date, event.precision, event.timeline_days) == (date(2024, 10, 1), "exact", 98)
    client.post(reverse("journeys_event_delete", args=["alpha", "EL-W01", event.pk]))
    assert not JourneyEvent.objects.filter(pk=event.pk).exists()


def test_the_import_page_previews_then_stores(cohort: dict[str, Any], login: Any) -> None:
    client = login(cohort["users"]["researcher"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("events.csv", EVENTS.encode(), content_type="text/csv")
    preview = client.post(reverse("journeys_import", args=["alpha"]), {"file": upload})
    assert "Ready to import 8 events for 2 women" in preview.content.decode()
    assert not JourneyEvent.objects.exists()
    text = preview.context["text"]
    done = client.post(reverse("journeys_import_confirm", args=["alpha"]), {"text": text})
    assert done.status_code == 302
    assert JourneyEvent.objects.count() == 8
    again = client.post(
        reverse("journeys_import", args=["alpha"]),
        {
            "file": SimpleUploadedFile(
                "bad.csv", b"pseudonym,event_type,date\nEL-W01,booking,2099-01-01\n"
            )
        },
    )
    assert "Row 1: 2099-01-01 is in the future." in again.content.decode()


def test_the_catalogue_can_gain_and_switch_off_types(cohort: dict[str, Any], login: Any) -> None:
    client = login(cohort["users"]["study-manager"])
    assert client.get(reverse("journeys_catalogue", args=["alpha"])).status_code == 200
    response = client.post(
        reverse("journeys_event_type_add", args=["alpha"]),
        {
            "code": "peer-mentor",
            "name": "Peer mentor contact",
            "service": "third-sector",
            "shape": "contact",
            "subject": "woman",
            "position": 50,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    kind = EventType.objects.get(study=cohort["alpha"], code="peer-mentor")
    client.post(
        reverse("journeys_event_type_edit", args=["alpha", kind.pk]),
        {
            "code": "changed",
            "name": "Peer-mentor contact",
            "service": "third-sector",
            "shape": "contact",
            "subject": "woman",
            "position": 50,
        },
    )
    kind.refresh_from_db()
    assert (kind.code, kind.name, kind.is_active) == ("peer-mentor", "Peer-mentor contact", False)


# --- access ---------------------------------------------------------------------------------

WOMAN_VIEWS: list[tuple[str, tuple[str, ...]]] = [
    ("journeys_map", ("EL-W01",)),
    ("journeys_infant_map", ("EL-W01", "EL-W01-I1")),
    ("journeys_map_download", ("EL-W01", "svg")),
    ("journeys_event_add", ("EL-W01",)),
    ("journeys_from_passage", ("EL-W01",)),
]
STUDY_VIEWS: list[tuple[str, tuple[str, ...]]] = [
    ("journeys_women", ()),
    ("journeys_compare", ()),
    ("journeys_import", ()),
    ("journeys_import_template", ()),
]


def _status(login: Any, user: Any, name: str, args: tuple[str, ...], method: str = "get") -> int:
    client = login(user)
    url = reverse(name, args=["alpha", *args])
    return int((client.post(url, {}) if method == "post" else client.get(url)).status_code)


@pytest.mark.parametrize(("name", "args"), WOMAN_VIEWS + STUDY_VIEWS)
def test_participant_views_check_access(
    mapped: dict[str, Any], login: Any, name: str, args: tuple[str, ...]
) -> None:
    users = mapped["users"]
    assert _status(login, users["researcher"], name, args) == 200
    assert _status(login, users["site-researcher-EL"], name, args) == 200
    for outsider in ("other-study-manager", "peer-researcher", "advisory-group-member"):
        assert _status(login, users[outsider], name, args) == 404, outsider
    if args:
        assert _status(login, users["site-researcher-GG"], name, args) == 404


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("journeys_event_add", ("EL-W01",)),
        ("journeys_from_passage", ("EL-W01",)),
        ("journeys_import", ()),
        ("journeys_import_confirm", ()),
        ("journeys_event_type_add", ()),
    ],
)
def test_read_only_roles_cannot_write(
    mapped: dict[str, Any], login: Any, name: str, args: tuple[str, ...]
) -> None:
    assert _status(login, mapped["users"]["auditor"], name, args, method="post") == 404


def test_event_edit_and_delete_check_access(mapped: dict[str, Any], login: Any) -> None:
    users = mapped["users"]
    event = JourneyEvent.objects.filter(participant__pseudonym="EL-W01").first()
    assert event is not None
    for name in ("journeys_event_edit", "journeys_event_delete"):
        args = ("EL-W01", str(event.pk))
        assert _status(login, users["researcher"], name, args) == 200
        assert _status(login, users["site-researcher-GG"], name, args) == 404
        assert _status(login, users["other-study-manager"], name, args) == 404
        assert _status(login, users["peer-researcher"], name, args) == 404
        assert _status(login, users["auditor"], name, args, method="post") == 404
        # An event of another woman is not reachable through hers.
        other = JourneyEvent.objects.filter(participant__pseudonym="GG-W01").first()
        assert other is not None
        assert _status(login, users["researcher"], name, ("EL-W01", str(other.pk))) == 404
    assert JourneyEvent.objects.filter(pk=event.pk).exists()


def test_site_researchers_see_only_their_sites_women(mapped: dict[str, Any], login: Any) -> None:
    html = _get(login, mapped["users"]["site-researcher-GG"], "journeys_women").content.decode()
    assert "GG-W01" in html and "EL-W01" not in html


@pytest.mark.parametrize("name", ["journeys_composite", "journeys_catalogue"])
def test_anonymised_views_are_open_to_peer_researchers_only_in_the_study(
    mapped: dict[str, Any], login: Any, name: str
) -> None:
    users = mapped["users"]
    assert _status(login, users["peer-researcher"], name, ()) == 200
    assert _status(login, users["auditor"], name, ()) == 200
    assert _status(login, users["advisory-group-member"], name, ()) == 404
    assert _status(login, users["other-study-manager"], name, ()) == 404


def test_the_composite_download_checks_access(mapped: dict[str, Any], login: Any) -> None:
    users = mapped["users"]
    url = reverse("journeys_composite_download", args=["alpha", "csv"]) + "?group=all"
    assert login(users["other-study-manager"]).get(url).status_code == 404
    assert login(users["advisory-group-member"]).get(url).status_code == 404
    # Two women are too few for an anonymised composite.
    assert login(users["peer-researcher"]).get(url).status_code == 404
