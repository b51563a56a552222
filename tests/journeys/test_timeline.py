"""Timeline positions, labels, approximate dates and event checks, against hand-worked dates.

The pregnancy used throughout is due on 2024-07-01, so conception (EDD - 280 days) is
2023-09-25; the baby was born on 2024-06-25 (39+1).
"""

from __future__ import annotations

from datetime import date

import pytest

from steppingstones.journeys.timeline import (
    CheckContext,
    EventCheck,
    PregnancyDates,
    add_months,
    days_label,
    parse_approximate,
    position_label,
    read_when,
    timeline_days,
    validate,
)

BORN = PregnancyDates(edd=date(2024, 7, 1), birth_date=date(2024, 6, 25))
UNBORN = PregnancyDates(edd=date(2024, 7, 1))


def test_conception_is_280_days_before_the_due_date() -> None:
    assert BORN.conception == date(2023, 9, 25)


@pytest.mark.parametrize(
    ("on", "label"),
    [
        (date(2023, 9, 25), "0+0 weeks' gestation"),
        (date(2024, 3, 11), "24+0 weeks' gestation"),  # 168 days after 2023-09-25
        (date(2024, 3, 14), "24+3 weeks' gestation"),
        (date(2024, 6, 24), "39+0 weeks' gestation"),
        (date(2024, 6, 25), "day of birth"),
        (date(2024, 6, 26), "infant 1 day"),
        (date(2024, 6, 30), "infant 5 days"),
        (date(2024, 7, 16), "infant 3 weeks"),  # 21 days
        (date(2024, 9, 24), "infant 2 months"),  # one day short of 3 months
        (date(2024, 9, 25), "infant 3 months"),
        (date(2025, 12, 25), "infant 18 months"),
        (date(2023, 9, 1), "before conception"),
    ],
)
def test_position_labels(on: date, label: str) -> None:
    assert position_label(on, BORN) == label


def test_before_the_birth_is_recorded_the_due_date_anchors_the_timeline() -> None:
    assert position_label(date(2024, 7, 3), UNBORN) == "40+2 weeks' gestation"
    assert timeline_days(date(2024, 7, 3), UNBORN) == 2
    # 2024-03-14 to 2024-06-25: 17 days of March, 30 of April, 31 of May, 25 of June.
    assert timeline_days(date(2024, 3, 14), BORN) == -103


def test_position_only_labels_use_the_gestation_at_birth() -> None:
    assert days_label(-103, 274) == "24+3 weeks' gestation"  # 274 - 103 = 171 days
    assert days_label(0) == "day of birth"
    assert days_label(21) == "infant 3 weeks"
    assert days_label(92) == "infant 3 months"  # 92 / 30.44 = 3.02


def test_months_are_calendar_months() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 6, 25), 18) == date(2025, 12, 25)


@pytest.mark.parametrize(
    ("text", "estimate", "earliest", "latest"),
    [
        # 140 days after 2023-09-25 is 2024-02-12; a week either side.
        ("about 20 weeks", date(2024, 2, 12), date(2024, 2, 5), date(2024, 2, 19)),
        ("around 20 weeks pregnant", date(2024, 2, 12), date(2024, 2, 5), date(2024, 2, 19)),
        ("20 weeks", date(2024, 2, 12), date(2024, 2, 9), date(2024, 2, 15)),
        ("20+3 weeks", date(2024, 2, 15), date(2024, 2, 15), date(2024, 2, 15)),
        # Week 32 is 31+0 (217 days: 2024-04-29) to 31+6 (2024-05-05).
        ("week 32", date(2024, 5, 2), date(2024, 4, 29), date(2024, 5, 5)),
        ("at birth", date(2024, 6, 25), date(2024, 6, 25), date(2024, 6, 25)),
        ("day 5", date(2024, 6, 30), date(2024, 6, 30), date(2024, 6, 30)),
        ("around 3 months old", date(2024, 9, 25), date(2024, 9, 11), date(2024, 10, 9)),
        ("two weeks after birth", date(2024, 7, 9), date(2024, 7, 6), date(2024, 7, 12)),
    ],
)
def test_approximate_expressions(text: str, estimate: date, earliest: date, latest: date) -> None:
    found = parse_approximate(text, BORN)
    assert (found.estimate, found.earliest, found.latest) == (estimate, earliest, latest)


def test_approximate_expressions_that_cannot_be_placed_say_why() -> None:
    with pytest.raises(ValueError, match="no birth date"):
        parse_approximate("about 3 months old", UNBORN)
    with pytest.raises(ValueError, match="not a time we can place"):
        parse_approximate("last summer", BORN)
    with pytest.raises(ValueError, match="at most 44 weeks"):
        parse_approximate("about 50 weeks", BORN)


def test_reading_a_when_cell() -> None:
    assert read_when("2024-03-14", BORN).precision == "exact"
    ranged = read_when("2024-03-01 to 2024-03-14", BORN)
    assert (ranged.precision, ranged.on, ranged.latest) == (
        "range",
        date(2024, 3, 1),
        date(2024, 3, 14),
    )
    approx = read_when("about 20 weeks", BORN)
    assert (approx.precision, approx.on, approx.approximate_text) == (
        "approximate",
        date(2024, 2, 12),
        "about 20 weeks",
    )
    with pytest.raises(ValueError, match="ends before it starts"):
        read_when("2024-03-14 to 2024-03-01", BORN)


CONTEXT = CheckContext(
    cases={"EL-W01": BORN},
    type_codes=frozenset({"booking", "birth", "discharge-infant", "separation", "reunification"}),
    today=date(2025, 1, 1),
    infants={"EL-W01": frozenset({"EL-W01-I1"})},
)


def test_a_sound_journey_has_no_problems() -> None:
    events = [
        EventCheck(1, "EL-W01", "booking", date(2023, 12, 1)),
        EventCheck(2, "EL-W01", "birth", date(2024, 6, 25)),
        EventCheck(3, "EL-W01", "discharge-infant", date(2024, 6, 30), infant="EL-W01-I1"),
        EventCheck(4, "EL-W01", "separation", date(2024, 6, 30), infant="EL-W01-I1"),
        EventCheck(5, "EL-W01", "reunification", date(2024, 10, 1), infant="EL-W01-I1"),
    ]
    assert validate(events, CONTEXT) == []


def test_each_fault_is_named_with_its_row() -> None:
    events = [
        EventCheck(1, "", "booking", date(2023, 12, 1)),
        EventCheck(2, "EL-W01", "booking", None),
        EventCheck(3, "EL-W01", "booking", date(2025, 3, 1)),
        EventCheck(4, "EL-W01", "booking", date(2023, 9, 1)),
        EventCheck(5, "EL-W01", "teleport", date(2024, 1, 1)),
        EventCheck(6, "EL-W01", "discharge-infant", date(2024, 6, 20)),
        EventCheck(7, "EL-W01", "separation", date(2024, 7, 10)),
        EventCheck(8, "EL-W01", "reunification", date(2024, 7, 1)),
        EventCheck(9, "XX-W09", "booking", date(2024, 1, 1)),
        EventCheck(10, "EL-W01", "birth", date(2024, 6, 26)),
        EventCheck(11, "EL-W01", "booking", date(2024, 1, 1), infant="EL-W01-I7"),
    ]
    found = {(p.row, p.message.split(" ")[0]) for p in validate(events, CONTEXT)}
    messages = [str(p) for p in validate(events, CONTEXT)]
    assert "Row 1: no woman (case) is given." in messages
    assert "Row 2: no date is given." in messages
    assert "Row 3: 2025-03-01 is in the future." in messages
    assert any(m.startswith("Row 4: 2023-09-01 is before conception") for m in messages)
    assert "Row 5: 'teleport' is not an event type in the catalogue." in messages
    assert (
        "Row 6: the baby's discharge on 2024-06-20 comes before the birth on 2024-06-25."
        in messages
    )
    assert (
        "Row 8: the reunification on 2024-07-01 comes before the separation on 2024-07-10."
        in messages
    )
    assert "Row 9: XX-W09 is not one of the women you can add events for." in messages
    assert any(m.startswith("Row 10: the birth is given as 2024-06-26") for m in messages)
    assert "Row 11: EL-W01-I7 is not an infant of EL-W01." in messages
    assert {row for row, _ in found} == {1, 2, 3, 4, 5, 6, 8, 9, 10, 11}


def test_after_eighteen_months_and_backwards_periods_are_faults() -> None:
    events = [
        EventCheck(1, "EL-W01", "booking", date(2025, 12, 26)),
        EventCheck(2, "EL-W01", "separation", date(2024, 7, 1), ends_on=date(2024, 6, 30)),
    ]
    context = CheckContext(CONTEXT.cases, CONTEXT.type_codes, date(2026, 6, 1), CONTEXT.infants)
    messages = [str(p) for p in validate(events, context)]
    assert messages == [
        "Row 1: 2025-12-26 is after the journey's end, 18 months after the birth.",
        "Row 2: the period ends (2024-06-30) before it starts (2024-07-01).",
    ]


def test_without_a_recorded_birth_the_lists_own_birth_event_is_used() -> None:
    context = CheckContext({"EL-W01": UNBORN}, CONTEXT.type_codes, date(2025, 1, 1))
    events = [
        EventCheck(1, "EL-W01", "birth", date(2024, 6, 20)),
        EventCheck(2, "EL-W01", "discharge-infant", date(2024, 6, 19)),
    ]
    assert [p.row for p in validate(events, context)] == [2]
