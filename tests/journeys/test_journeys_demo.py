"""The demo study's journeys agree with its cohort records."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from steppingstones.cohort.models import CarePeriod, Infant, Woman
from steppingstones.core.demo_load import load_demo
from steppingstones.core.models import Study
from steppingstones.journeys.models import JourneyEvent
from steppingstones.journeys.timeline import (
    CheckContext,
    EventCheck,
    PregnancyDates,
    add_months,
    validate,
)


def _events(woman: Woman) -> list[JourneyEvent]:
    return list(
        JourneyEvent.objects.filter(participant=woman.participant).select_related(
            "event_type", "infant"
        )
    )


def test_each_demo_woman_has_a_journey_consistent_with_her_record(db: Any) -> None:
    load_demo()
    study = Study.objects.get(slug="demo")
    women = list(
        Woman.objects.filter(participant__study=study).select_related(
            "pregnancy", "participant__withdrawal"
        )
    )
    assert len(women) == 36
    for woman in women:
        events = _events(woman)
        assert events, f"{woman} has no journey"
        birth_date = woman.pregnancy.birth_date
        assert birth_date is not None
        conception = woman.edd - timedelta(days=280)
        end = add_months(birth_date, 18)
        by_code: dict[str, list[JourneyEvent]] = {}
        for event in events:
            by_code.setdefault(event.event_type.code, []).append(event)
            assert conception <= event.date <= end, f"{woman}: {event} outside her journey"
            assert event.date <= date.today()
            assert event.timeline_days == (event.date - birth_date).days
            if event.ends_on is not None:
                assert event.ends_on >= event.date
        # The birth is on her record's birth date; booking comes before it, after conception.
        assert [e.date for e in by_code["birth"]] == [birth_date]
        booking = by_code["booking"][0]
        assert conception < booking.date < birth_date
        for infant in Infant.objects.filter(pregnancy__woman=woman):
            mine = [e for e in events if e.infant_id == infant.pk]
            codes = {e.event_type.code for e in mine}
            assert ("nas-treatment" in codes) == infant.nas_treated
            assert ("nas-scoring" in codes) == infant.nas_scored
            discharge = [e for e in mine if e.event_type.code == "discharge-infant"]
            assert [e.date for e in discharge] == [
                birth_date + timedelta(days=infant.length_of_stay_days or 3)
            ]
            removals = CarePeriod.objects.filter(
                infant=infant, status__in=["foster", "kinship"]
            ).order_by("starts_on")
            separations = sorted(e.date for e in mine if e.event_type.code == "separation")
            assert separations == [p.starts_on for p in removals]
            returns = sorted(e.date for e in mine if e.event_type.code == "reunification")
            assert returns == [p.ends_on for p in removals if p.ends_on is not None]
        # And the journey passes the same checks an import would.
        context = CheckContext(
            cases={woman.pseudonym: PregnancyDates(woman.edd, birth_date)},
            type_codes=frozenset(e.event_type.code for e in events),
            today=date.today(),
            infants={
                woman.pseudonym: frozenset(
                    Infant.objects.filter(pregnancy__woman=woman).values_list(
                        "pseudonym", flat=True
                    )
                )
            },
        )
        checks = [
            EventCheck(
                row=n,
                case=woman.pseudonym,
                type_code=e.event_type.code,
                on=e.date,
                latest=e.date_latest,
                ends_on=e.ends_on,
                infant=e.infant.pseudonym if e.infant else "",
            )
            for n, e in enumerate(events, start=1)
        ]
        assert validate(checks, context) == []


def test_the_demo_journeys_have_waves_experiences_and_approximate_dates(db: Any) -> None:
    load_demo()
    events = JourneyEvent.objects.filter(study__slug="demo")
    assert events.filter(interview__isnull=False).count() > 100
    assert events.exclude(experience="").exclude(quote="").count() > 50
    assert events.filter(precision="approximate").count() > 20
    assert events.filter(precision="range").count() == 36  # each referral
    assert events.filter(event_type__code="pre-birth-conference").count() >= 10
    # An event told in an interview was told at it or after it happened.
    for event in events.filter(interview__isnull=False).select_related("interview"):
        assert event.interview is not None
        assert event.interview.date >= (event.date_latest or event.date)


def test_loading_the_demo_again_duplicates_no_journey(db: Any) -> None:
    load_demo()
    first = list(
        JourneyEvent.objects.filter(study__slug="demo")
        .order_by("participant__pseudonym", "timeline_days", "event_type__code", "infant_id")
        .values_list("participant__pseudonym", "event_type__code", "date", "experience")
    )
    load_demo()
    again = list(
        JourneyEvent.objects.filter(study__slug="demo")
        .order_by("participant__pseudonym", "timeline_days", "event_type__code", "infant_id")
        .values_list("participant__pseudonym", "event_type__code", "date", "experience")
    )
    assert again == first
