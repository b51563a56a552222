"""Journey events from forms, coded passages and CSV files (all or nothing, faults by row)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from steppingstones.cohort.models import Interview
from steppingstones.core.models import Participant
from steppingstones.journeys import events as services
from steppingstones.journeys.catalogue import DEFAULT_CATALOGUE, seed_catalogue
from steppingstones.journeys.erasure import erase_journeys
from steppingstones.journeys.models import EventType, JourneyEvent
from steppingstones.voices.models import AgreementRound, Code, Coding, Source
from tests.cohort import conftest as cohort_fixtures

cohort = cohort_fixtures.cohort  # the cohort area's shared fixture

TODAY = date(2025, 1, 1)
HEADER = "pseudonym,infant,event_type,date,ends_on,experience,quote,wave\n"


def _plan(cohort: dict[str, Any], text: str, site: str | None = None) -> services.ImportPlan:
    study = cohort["alpha"]
    seed_catalogue(study)
    people = Participant.objects.filter(study=study)
    if site:
        people = people.filter(site__code=site)
    return services.plan_import(study, text, people, TODAY)


def test_a_clean_file_is_stored_whole_with_positions(cohort: dict[str, Any]) -> None:
    text = HEADER + (
        "EL-W01,,booking,about 12 weeks,,helpful,She listened.,1\n"
        "EL-W01,EL-W01-I1,neonatal-unit,2024-06-25,2024-07-09,,,\n"
        "GG-W01,,referral,2023-11-01 to 2023-11-14,,,,\n"
        "EL-W01,,nas-scoring,day 2,,,,\n"
    )
    plan = _plan(cohort, text)
    assert plan.problems == []
    assert plan.summary == "4 events for 2 women"
    assert services.apply_import(plan) == 4
    booking = JourneyEvent.objects.get(event_type__code="booking")
    # 12 weeks = 84 days after conception (2023-09-25) = 2023-12-18; birth 2024-06-25.
    assert booking.date == date(2023, 12, 18)
    assert booking.timeline_days == -190
    assert (booking.precision, booking.approximate_text) == ("approximate", "about 12 weeks")
    assert booking.interview == Interview.objects.get(woman__participant__pseudonym="EL-W01")
    unit = JourneyEvent.objects.get(event_type__code="neonatal-unit")
    assert (unit.infant.pseudonym, unit.ends_on, unit.timeline_days) == (  # type: ignore[union-attr]
        "EL-W01-I1",
        date(2024, 7, 9),
        0,
    )
    referral = JourneyEvent.objects.get(event_type__code="referral")
    assert (referral.precision, referral.date_latest) == ("range", date(2023, 11, 14))
    # An infant-only event with no infant named goes to her only baby.
    nas = JourneyEvent.objects.get(event_type__code="nas-scoring")
    assert nas.infant is not None and nas.date == date(2024, 6, 27)


def test_a_file_with_any_bad_row_stores_nothing_and_names_each_row(
    cohort: dict[str, Any],
) -> None:
    text = HEADER + (
        "EL-W01,,booking,2023-12-01,,,,\n"  # 1: fine
        ",,booking,2023-12-01,,,,\n"  # 2: no case
        "EL-W01,,booking,,,,,\n"  # 3: no date
        "EL-W01,,booking,2026-01-01,,,,\n"  # 4: future
        "EL-W01,,booking,2023-08-01,,,,\n"  # 5: before conception
        "EL-W01,,teleport,2024-01-01,,,,\n"  # 6: unknown type
        "EL-W01,EL-W01-I1,discharge-infant,2024-06-20,,,,\n"  # 7: before the birth
        "EL-W01,EL-W01-I1,separation,2024-07-10,,,,\n"  # 8: fine
        "EL-W01,EL-W01-I1,reunification,2024-07-01,,,,\n"  # 9: before the separation
        "EL-W01,,booking,last summer,,,,\n"  # 10: unreadable date
        "EL-W01,,booking,2023-12-01,,wonderful,,\n"  # 11: unknown experience
        "EL-W01,,booking,2023-12-01,,,,7\n"  # 12: no such wave
    )
    plan = _plan(cohort, text)
    rows = sorted({p.row for p in plan.problems if p.row is not None})
    assert rows == [2, 3, 4, 5, 6, 7, 9, 10, 11, 12]
    messages = [str(p) for p in plan.problems]
    assert "Row 3: no date is given." in messages
    assert not any(m == "Row 10: no date is given." for m in messages)
    with pytest.raises(services.ImportRefused):
        services.apply_import(plan)
    assert JourneyEvent.objects.count() == 0


def test_a_site_researcher_cannot_import_for_another_sites_woman(cohort: dict[str, Any]) -> None:
    plan = _plan(cohort, HEADER + "EL-W01,,booking,2023-12-01,,,,\n", site="GG")
    assert [str(p) for p in plan.problems] == [
        "Row 1: EL-W01 is not one of the women you can add events for."
    ]


def test_stored_events_take_part_in_the_order_checks(cohort: dict[str, Any]) -> None:
    services.apply_import(_plan(cohort, HEADER + "EL-W01,,separation,2024-08-01,,,,\n"))
    plan = _plan(cohort, HEADER + "EL-W01,,reunification,2024-07-20,,,,\n")
    assert [p.row for p in plan.problems] == [1]


def test_missing_and_unknown_columns_are_refused(cohort: dict[str, Any]) -> None:
    plan = _plan(cohort, "pseudonym,colour\nEL-W01,red\n")
    assert [str(p) for p in plan.problems] == [
        "The file has no event_type, date column.",
        "Unknown column(s): colour.",
    ]


def _passage(cohort: dict[str, Any], status: str = "ready") -> Coding:
    study = cohort["alpha"]
    person = cohort["people"]["EL"]
    interview = Interview.objects.get(woman__participant=person)
    source = Source.objects.create(
        study=study,
        site=person.site,
        name="EL-W01 wave 1",
        kind="interview",
        participant=person,
        interview=interview,
        wave=interview.wave,
        status=status,
        text="Interviewer: And the booking? EL-W01: The midwife was lovely, she never judged me.",
    )
    code = Code.objects.create(study=study, name="Being judged")
    start = source.text.index("The midwife")
    return Coding.objects.create(
        source=source, code=code, coder_name="r", start=start, end=len(source.text)
    )


def test_an_event_from_a_coded_passage_takes_its_words_and_interview(
    cohort: dict[str, Any],
) -> None:
    coding = _passage(cohort)
    _passage(cohort, status="review")  # not yet de-identified: never offered
    woman = cohort["women"]["EL"]
    assert list(services.passages_of(woman, cohort["users"]["researcher"])) == [coding]
    seed_catalogue(cohort["alpha"])
    data = services.from_passage(
        woman,
        coding,
        services.EventData(
            event_type=EventType.objects.get(study=cohort["alpha"], code="booking"),
            when="about 10 weeks",
            experience="helpful",
        ),
    )
    assert services.check_event(woman, data, TODAY) == []
    event = services.save_event(woman, data)
    assert event.quote == "The midwife was lovely, she never judged me."
    assert event.interview == coding.source.interview
    assert event.coding == coding
    assert event.source_kind == "interview"


def test_a_coder_coding_blind_is_offered_only_her_own_passages(cohort: dict[str, Any]) -> None:
    others = _passage(cohort)
    blind_coder = cohort["users"]["researcher"]
    own = Coding.objects.create(
        source=others.source,
        code=others.code,
        coder=blind_coder,
        coder_name=blind_coder.username,
        start=0,
        end=11,
    )
    agreement = AgreementRound.objects.create(study=cohort["alpha"], name="Blind round")
    agreement.sources.add(others.source)
    agreement.coders.add(blind_coder)
    woman = cohort["women"]["EL"]
    assert list(services.passages_of(woman, blind_coder)) == [own]
    # Another member, not coding in the round, sees both; once compared, so does the coder.
    assert set(services.passages_of(woman, cohort["users"]["study-manager"])) == {own, others}
    agreement.status = AgreementRound.Status.COMPARING
    agreement.save()
    assert set(services.passages_of(woman, blind_coder)) == {own, others}


def test_a_single_event_is_checked_against_her_other_events(cohort: dict[str, Any]) -> None:
    seed_catalogue(cohort["alpha"])
    woman = cohort["women"]["EL"]
    kinds = {t.code: t for t in EventType.objects.filter(study=cohort["alpha"])}
    separation = services.save_event(
        woman, services.EventData(event_type=kinds["separation"], when="2024-08-01")
    )
    data = services.EventData(event_type=kinds["reunification"], when="2024-07-01")
    assert [str(p) for p in services.check_event(woman, data, TODAY)] == [
        "The reunification on 2024-07-01 comes before the separation on 2024-08-01."
    ]
    # Editing the separation itself does not compare it with its old self.
    moved = services.EventData(event_type=kinds["separation"], when="2024-06-30")
    assert services.check_event(woman, moved, TODAY, editing=separation.pk) == []


def test_positions_follow_a_changed_birth_date(cohort: dict[str, Any]) -> None:
    seed_catalogue(cohort["alpha"])
    woman = cohort["women"]["EL"]
    kind = EventType.objects.get(study=cohort["alpha"], code="booking")
    event = services.save_event(woman, services.EventData(event_type=kind, when="2024-06-15"))
    assert event.timeline_days == -10
    woman.pregnancy.birth_date = date(2024, 6, 20)
    woman.pregnancy.save()  # saving the pregnancy moves her events at once
    event.refresh_from_db()
    assert event.timeline_days == -5
    JourneyEvent.objects.filter(pk=event.pk).update(timeline_days=0)
    assert services.refresh_positions(woman) == 1
    event.refresh_from_db()
    assert event.timeline_days == -5


def test_the_catalogue_keeps_its_codes_and_erasure_removes_her_words(
    cohort: dict[str, Any],
) -> None:
    study = cohort["alpha"]
    assert seed_catalogue(study) == len(DEFAULT_CATALOGUE)
    assert seed_catalogue(study) == 0
    text = HEADER + "EL-W01,,booking,about 12 weeks,,helpful,She listened.,1\n"
    services.apply_import(_plan(cohort, text))
    person = cohort["people"]["EL"]
    assert erase_journeys(person, "keep-data") == []
    assert erase_journeys(person, "remove-unanalysed") == ["quotes and notes of 1 journey event(s)"]
    event = JourneyEvent.objects.get()
    assert (event.quote, event.approximate_text, event.date) == ("", "", date(2023, 12, 18))
    assert erase_journeys(person, "remove-all") == ["1 journey event(s)"]
    assert not JourneyEvent.objects.exists()


def test_typed_quotes_can_be_left_out_keeping_those_from_coded_passages(
    cohort: dict[str, Any],
) -> None:
    seed_catalogue(cohort["alpha"])
    woman = cohort["women"]["EL"]
    booking = EventType.objects.get(study=cohort["alpha"], code="booking")
    coding = _passage(cohort)
    services.save_event(
        woman,
        services.from_passage(
            woman, coding, services.EventData(event_type=booking, when="2023-12-01")
        ),
    )
    services.save_event(
        woman,
        services.EventData(
            event_type=booking, when="2023-12-05", quote="Typed: Sandra at the Leeds clinic"
        ),
    )
    every = {e.quote for e in services.journey_of(woman).events}
    assert every == {
        "The midwife was lovely, she never judged me.",
        "Typed: Sandra at the Leeds clinic",
    }
    passages_only = {e.quote for e in services.journey_of(woman, passage_quotes_only=True).events}
    assert passages_only == {"The midwife was lovely, she never judged me.", ""}
