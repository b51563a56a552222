"""Pregnancy and infancy date arithmetic, in whole days.

Gestation is counted the obstetric way: the estimated due date (EDD) is 40+0 weeks, so day 0
is 280 days before it. Everything here is plain ``datetime.date`` arithmetic, so the
interview schedule and the forms agree on one definition.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

FULL_TERM_DAYS = 280
"""Gestation on the estimated due date: 40+0 weeks."""

PRETERM_BEFORE_DAYS = 259
"""37+0 weeks: a birth before this is preterm and its age is corrected."""

MAX_GESTATION_WEEKS = 45
"""The largest weeks value ``parse_gestation`` accepts; anything bigger is a typing slip."""

_GESTATION = re.compile(
    r"""^\s*(?P<weeks>\d{1,3})\s*
    (?:
        \+\s*(?P<plus_days>\d{1,2})          # 12+3, 12 + 3
      | w(?:\s*(?P<w_days>\d{1,2})\s*d)?     # 12w, 12w3d, 12w 3d
    )?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)


def gestation_days(edd: date, on: date) -> int:
    """Days of gestation on ``on`` for a pregnancy due on ``edd``.

    Negative before day 0 and above 280 after the due date; callers decide what is plausible.
    """
    return FULL_TERM_DAYS - (edd - on).days


def format_gestation(days: int) -> str:
    """Write a gestation as weeks+days, e.g. 87 -> "12+3", the way clinicians record it."""
    if days < 0:
        raise ValueError(f"Gestation cannot be negative: {days} days.")
    weeks, rest = divmod(days, 7)
    return f"{weeks}+{rest}"


def parse_gestation(text: str) -> int:
    """Read a gestation typed as "12+3", "12 + 3", "12w3d" or "12" (weeks) and return days.

    Weeks must be 0 to 45 and days 0 to 6, so that slips such as "12+10" are caught rather
    than silently carried into the next week.
    """
    match = _GESTATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a gestation; write weeks+days, e.g. 12+3.")
    weeks = int(match["weeks"])
    extra = match["plus_days"] or match["w_days"] or "0"
    days = int(extra)
    if weeks > MAX_GESTATION_WEEKS:
        raise ValueError(f"{text!r}: weeks must be 0 to {MAX_GESTATION_WEEKS}.")
    if days > 6:
        raise ValueError(f"{text!r}: days must be 0 to 6.")
    return weeks * 7 + days


def date_at_gestation(edd: date, days: int) -> date:
    """The calendar date on which a pregnancy due on ``edd`` reaches ``days`` of gestation."""
    return edd - timedelta(days=FULL_TERM_DAYS - days)


def edd_from_gestation(on: date, days: int) -> date:
    """The due date implied by a gestation of ``days`` measured (e.g. by scan) on ``on``."""
    return on + timedelta(days=FULL_TERM_DAYS - days)


def infant_age_days(birth: date, on: date) -> int:
    """Chronological age in days on ``on`` (0 on the day of birth)."""
    return (on - birth).days


def corrected_age_days(birth: date, gestation_at_birth_days: int, on: date) -> int:
    """Age corrected for prematurity, as used for developmental milestones.

    A baby born before 37+0 has the weeks it arrived early (counted from 40+0) taken off its
    chronological age; a baby born at or after term keeps its chronological age.
    """
    age = infant_age_days(birth, on)
    if gestation_at_birth_days < PRETERM_BEFORE_DAYS:
        return age - (FULL_TERM_DAYS - gestation_at_birth_days)
    return age


def local_date(moment: datetime, zone: str = "Europe/London") -> date:
    """The calendar date of an aware ``moment`` in ``zone``.

    Timestamps are stored in UTC; an interview at 00:30 BST belongs to that (local) day.
    Naive datetimes are refused because their zone would be a guess.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("local_date needs an aware datetime, not a naive one.")
    return moment.astimezone(ZoneInfo(zone)).date()
