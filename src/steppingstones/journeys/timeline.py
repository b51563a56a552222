"""Where an event sits on a woman's journey, and whether a list of events makes sense.

The journey runs from conception (the due date less 280 days, the obstetric convention of
``cohort.dates``) to 18 months after the birth. A position is a whole number of days from the
birth (negative before it), or from the due date while the baby is unborn: the value stored in
``JourneyEvent.timeline_days``. Labels are written the way staff and women speak: "24+3 weeks'
gestation" before the birth, "infant 3 months" after it.

Women often remember when rather than the date: :func:`parse_approximate` reads "about 20
weeks", "week 32", "around 3 months old" or "day 5" and gives the date it stands for and how
wide the uncertainty is. :func:`validate` checks a list of events (a form, or every row of an
import) and returns each fault as a :class:`Problem` naming its row.

Plain data only: no Django models are imported here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from steppingstones.cohort.dates import FULL_TERM_DAYS, format_gestation

MAP_MONTHS = 18
"""The journey ends 18 calendar months after the birth."""

AFTER_BIRTH_CODES = frozenset(
    {
        "nas-scoring",
        "nas-treatment",
        "neonatal-unit",
        "discharge-infant",
        "discharge-mother",
        "post-birth-conference",
        "separation",
        "placement",
        "placement-change",
        "reunification",
    }
)
"""Event types that cannot happen before the baby is born."""


@dataclass(frozen=True)
class PregnancyDates:
    """The dates a journey is measured against."""

    edd: date
    birth_date: date | None = None

    @property
    def conception(self) -> date:
        return self.edd - timedelta(days=FULL_TERM_DAYS)

    @property
    def anchor(self) -> date:
        """Day 0 of the timeline: the birth, or the due date until the baby is born."""
        return self.birth_date if self.birth_date is not None else self.edd

    @property
    def journey_end(self) -> date:
        return add_months(self.anchor, MAP_MONTHS)


def add_months(start: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day if it is shorter)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def whole_months(birth: date, on: date) -> int:
    """Completed calendar months from ``birth`` to ``on`` (a baby is 1 month old on the same
    day of the next month)."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day and on.day < calendar.monthrange(on.year, on.month)[1]:
        months -= 1
    return months


def timeline_days(on: date, dates: PregnancyDates) -> int:
    """Days from the birth (or the due date while unborn) to ``on``; negative before it."""
    return (on - dates.anchor).days


def gestation_on(on: date, dates: PregnancyDates) -> int:
    """Days of gestation on ``on``."""
    return FULL_TERM_DAYS - (dates.edd - on).days


def position_label(on: date, dates: PregnancyDates) -> str:
    """How far into the journey ``on`` is: "24+3 weeks' gestation", "day of birth",
    "infant 5 days", "infant 3 weeks", "infant 4 months" (whole weeks or months, rounded down);
    "before conception" for a date before it."""
    born = dates.birth_date
    if born is None or on < born:
        days = gestation_on(on, dates)
        if days < 0:
            return "before conception"
        return f"{format_gestation(days)} weeks' gestation"
    age = (on - born).days
    if age == 0:
        return "day of birth"
    if age < 14:
        return f"infant {age} day{'s' if age != 1 else ''}"
    if age < 8 * 7:
        return f"infant {age // 7} weeks"
    months = whole_months(born, on)
    return f"infant {months} month{'s' if months != 1 else ''}"


def days_label(day: int, gestation_at_birth_days: int = FULL_TERM_DAYS) -> str:
    """A label for a timeline position alone (no calendar date), as composite journeys and
    map ticks use: before the birth as gestation, after it as age in days, weeks or months
    (a month here is 30.44 days, the mean calendar month)."""
    if day < 0:
        gestation = gestation_at_birth_days + day
        if gestation < 0:
            return "before conception"
        return f"{format_gestation(gestation)} weeks' gestation"
    if day == 0:
        return "day of birth"
    if day < 14:
        return f"infant {day} day{'s' if day != 1 else ''}"
    if day < 8 * 7:
        return f"infant {day // 7} weeks"
    months = int(day / 30.44)
    return f"infant {months} month{'s' if months != 1 else ''}"


# --- approximate dates -------------------------------------------------------------------

_HEDGE = (
    r"(?:(?P<hedge>about|around|roughly|approximately|approx\.?|circa|c\.|~|maybe|nearly|almost)"
    r"\s*)?"
)
_AT = r"(?:(?:at|by|in)\s+)?"
_GESTATION_WORDS = (
    r"(?:\s*(?:weeks?|wks?|w)\b)(?:\s*(?:pregnant|gestation|gone|of\s+pregnancy|'?\s*gestation))?"
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("birth", re.compile(rf"^{_HEDGE}{_AT}(?:the\s+)?birth$", re.IGNORECASE)),
    (
        "week",
        re.compile(rf"^{_HEDGE}{_AT}week\s+(?P<weeks>\d{{1,2}})(?:\s+of\s+pregnancy)?$", re.I),
    ),
    (
        "gestation",
        re.compile(
            rf"^{_HEDGE}{_AT}(?P<weeks>\d{{1,2}})(?:\s*\+\s*(?P<days>\d))?{_GESTATION_WORDS}$",
            re.IGNORECASE,
        ),
    ),
    (
        "age",
        re.compile(
            rf"^{_HEDGE}{_AT}(?P<count>\d{{1,3}})\s*(?P<unit>days?|weeks?|months?)"
            r"\s*(?:old|after\s+(?:the\s+)?birth|after\s+(?:she|he|the\s+baby)\s+was\s+born)$",
            re.IGNORECASE,
        ),
    ),
    ("day", re.compile(rf"^{_HEDGE}{_AT}day\s+(?P<count>\d{{1,3}})(?:\s+after\s+birth)?$", re.I)),
)
_WORD_NUMBERS = {
    "one": "1",
    "a": "1",
    "an": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}


@dataclass(frozen=True)
class Approximate:
    """What an approximate expression stands for.

    ``estimate`` is the best single date; ``earliest`` and ``latest`` bound it (the whole
    week for "week 32", a week either side of "about 20 weeks", a fortnight either side of
    "around 3 months old").
    """

    text: str
    estimate: date
    earliest: date
    latest: date
    hedged: bool


def _normalise(text: str) -> str:
    words = [_WORD_NUMBERS.get(word.lower(), word) for word in text.strip().split()]
    return " ".join(words).rstrip(".").replace("’", "'")


def parse_approximate(text: str, dates: PregnancyDates) -> Approximate:
    """Read "about 20 weeks", "20+3 weeks", "week 32", "around 3 months old", "two weeks after
    birth", "day 5" or "at birth" and place it in this pregnancy.

    Raises ValueError with a sentence for the user when the text is not understood, or when it
    counts from a birth that has not happened (or is not recorded) yet.
    """
    cleaned = _normalise(text)
    for kind, pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        hedged = bool(match["hedge"])
        if kind in ("week", "gestation"):
            weeks = int(match["weeks"])
            extra = int(match.groupdict().get("days") or 0)
            if weeks > 44 or extra > 6:
                raise ValueError(f"{text!r}: a gestation must be at most 44 weeks (days 0 to 6).")
            days = weeks * 7 + extra
            if kind == "week":
                # "week 32" is the 32nd week: 31+0 to 31+6.
                start = max(days - 7, 0)
                estimate = _gestation_date(dates, start + 3)
                return Approximate(
                    text,
                    estimate,
                    _gestation_date(dates, start),
                    _gestation_date(dates, start + 6),
                    hedged,
                )
            spread = 7 if hedged else (0 if match.groupdict().get("days") else 3)
            return Approximate(
                text,
                _gestation_date(dates, days),
                _gestation_date(dates, max(days - spread, 0)),
                _gestation_date(dates, days + spread),
                hedged,
            )
        born = dates.birth_date
        if born is None:
            raise ValueError(
                f"{text!r} counts from the birth, and no birth date is recorded for her yet."
            )
        if kind == "birth":
            spread = 1 if hedged else 0
            return Approximate(
                text,
                born,
                born - timedelta(days=spread),
                born + timedelta(days=spread),
                hedged,
            )
        count = int(match["count"])
        unit = (match.groupdict().get("unit") or "day").lower().rstrip("s")
        if unit == "month":
            estimate = add_months(born, count)
            spread = 14 if hedged else 7
        elif unit == "week":
            estimate = born + timedelta(days=7 * count)
            spread = 7 if hedged else 3
        else:
            estimate = born + timedelta(days=count)
            spread = 2 if hedged else 0
        return Approximate(
            text,
            estimate,
            max(estimate - timedelta(days=spread), born),
            estimate + timedelta(days=spread),
            hedged,
        )
    raise ValueError(
        f'{text!r} is not a time we can place: write e.g. "about 20 weeks", "week 32", '
        '"at birth", "day 5" or "around 3 months old".'
    )


def _gestation_date(dates: PregnancyDates, days: int) -> date:
    return dates.edd - timedelta(days=FULL_TERM_DAYS - days)


# --- checking a list of events -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One fault, with the row it is on (1-based data rows of a file; None for a form)."""

    row: int | None
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}" if self.row is not None else self.message


@dataclass(frozen=True)
class EventCheck:
    """What :func:`validate` needs to know about one event."""

    row: int | None
    case: str  # the woman's pseudonym
    type_code: str
    on: date | None
    latest: date | None = None  # the end of a range
    ends_on: date | None = None  # the end of a period
    infant: str = ""


@dataclass
class CheckContext:
    """The cases the events may belong to and the event types that exist."""

    cases: Mapping[str, PregnancyDates]
    type_codes: frozenset[str]
    today: date
    infants: Mapping[str, frozenset[str]] = field(default_factory=dict)


def validate(events: Sequence[EventCheck], context: CheckContext) -> list[Problem]:
    """Every fault in ``events``: a missing or unknown woman, infant or event type, a missing
    date, a date in the future, before conception or after 18 months, a range or period that
    ends before it starts, and an impossible order (discharge, NAS care or separation before the
    birth; reunification before the separation; a birth on another day than her record's).

    The birth date is the cohort's record or, if none is recorded, the list's own birth event.
    """
    problems: list[Problem] = []
    births = _births(events, context)
    for event in events:
        problems.extend(_check_one(event, context, births))
    problems.extend(_check_order(events, births))
    return sorted(problems, key=lambda p: p.row if p.row is not None else -1)


def _births(events: Iterable[EventCheck], context: CheckContext) -> dict[str, date]:
    births = {
        case: dates.birth_date
        for case, dates in context.cases.items()
        if dates.birth_date is not None
    }
    for event in events:
        if event.type_code == "birth" and event.on is not None and event.case not in births:
            births[event.case] = event.on
    return births


def _check_one(
    event: EventCheck, context: CheckContext, births: Mapping[str, date]
) -> list[Problem]:
    found: list[Problem] = []

    def fault(message: str) -> None:
        found.append(Problem(event.row, message))

    dates = context.cases.get(event.case) if event.case else None
    if not event.case:
        fault("no woman (case) is given.")
    elif dates is None:
        fault(f"{event.case} is not one of the women you can add events for.")
    if not event.type_code:
        fault("no event type is given.")
    elif event.type_code not in context.type_codes:
        fault(f"{event.type_code!r} is not an event type in the catalogue.")
    if event.infant and dates is not None:
        known = context.infants.get(event.case, frozenset())
        if event.infant not in known:
            fault(f"{event.infant} is not an infant of {event.case}.")
    if event.on is None:
        fault("no date is given.")
        return found
    if event.on > context.today:
        fault(f"{event.on.isoformat()} is in the future.")
    for end, what in ((event.latest, "range"), (event.ends_on, "period")):
        if end is not None and end < event.on:
            fault(f"the {what} ends ({end.isoformat()}) before it starts ({event.on.isoformat()}).")
    if dates is None:
        return found
    if event.on < dates.conception:
        fault(
            f"{event.on.isoformat()} is before conception ({dates.conception.isoformat()}, "
            "280 days before the due date)."
        )
    birth = births.get(event.case)
    end = add_months(birth if birth is not None else dates.edd, MAP_MONTHS)
    last = max(d for d in (event.on, event.latest, event.ends_on) if d is not None)
    if last > end:
        fault(f"{last.isoformat()} is after the journey's end, 18 months after the birth.")
    return found


_ORDER_NAMES = {
    "discharge-infant": "the baby's discharge",
    "discharge-mother": "her discharge",
    "nas-scoring": "NAS scoring",
    "nas-treatment": "NAS treatment",
    "neonatal-unit": "neonatal care",
    "separation": "the separation",
    "placement": "the placement",
    "placement-change": "a placement change",
    "reunification": "the reunification",
    "post-birth-conference": "the post-birth conference",
}


def _check_order(events: Sequence[EventCheck], births: Mapping[str, date]) -> list[Problem]:
    found: list[Problem] = []
    separations: dict[tuple[str, str], date] = {}
    for event in events:
        if event.type_code == "separation" and event.on is not None:
            key = (event.case, event.infant)
            separations[key] = min(event.on, separations.get(key, event.on))
    for event in events:
        if event.on is None or not event.case:
            continue
        birth = births.get(event.case)
        if birth is not None and event.type_code in AFTER_BIRTH_CODES and event.on < birth:
            found.append(
                Problem(
                    event.row,
                    f"{_ORDER_NAMES[event.type_code]} on {event.on.isoformat()} comes before "
                    f"the birth on {birth.isoformat()}.",
                )
            )
        if event.type_code == "birth" and birth is not None and event.on != birth:
            found.append(
                Problem(
                    event.row,
                    f"the birth is given as {event.on.isoformat()} but her record says "
                    f"{birth.isoformat()}.",
                )
            )
        if event.type_code == "reunification":
            # A separation of the same infant, or one recorded without naming the infant.
            candidates = [
                day
                for (case, infant), day in separations.items()
                if case == event.case and (infant == event.infant or not infant or not event.infant)
            ]
            separated = min(candidates) if candidates else None
            if separated is not None and event.on < separated:
                found.append(
                    Problem(
                        event.row,
                        f"the reunification on {event.on.isoformat()} comes before the "
                        f"separation on {separated.isoformat()}.",
                    )
                )
    return found


# --- reading a "when" cell ---------------------------------------------------------------

_RANGE = re.compile(
    r"^\s*(?:between\s+)?(?P<first>\d{4}-\d{2}-\d{2})\s*(?:to|and|/|–|—|\.\.)\s*"
    r"(?P<last>\d{4}-\d{2}-\d{2})\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class When:
    """A date as entered: ``precision`` is "exact", "approximate" or "range"."""

    precision: str
    on: date
    latest: date | None = None
    approximate_text: str = ""


def read_when(text: str, dates: PregnancyDates | None) -> When:
    """Read an ISO date ("2024-03-01"), a range ("2024-03-01 to 2024-03-14") or an approximate
    expression ("about 20 weeks"; needs ``dates``). Raises ValueError with a sentence."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("no date is given.")
    ranged = _RANGE.match(cleaned)
    if ranged is not None:
        first, last = _iso(ranged["first"]), _iso(ranged["last"])
        if last < first:
            raise ValueError(f"the range {cleaned!r} ends before it starts.")
        return When("range", first, last)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
        return When("exact", _iso(cleaned))
    if dates is None:
        raise ValueError(f"{cleaned!r} can only be placed for a woman with a due date.")
    approximate = parse_approximate(cleaned, dates)
    return When("approximate", approximate.estimate, None, cleaned)


def _iso(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (write YYYY-MM-DD).") from None
