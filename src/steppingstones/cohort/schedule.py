"""When each woman's interviews fall due.

Each wave has a window: two in pregnancy, counted in weeks of gestation from the due date,
and three after the birth, counted from the birth date (or from the due date until the baby
is born). Plain data in, plain data out, so the rules can be tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from steppingstones.cohort.dates import date_at_gestation

Anchor = Literal["gestation", "birth"]
AnchoredOn = Literal["gestation", "birth", "due date"]
Status = Literal["due soon", "due", "overdue"]

STATUS_ORDER: tuple[Status, ...] = ("overdue", "due", "due soon")
"""Most urgent first: the order ``due_interviews`` lists them in."""


def _days(weeks: float) -> int:
    """Weeks (possibly fractional) as the nearest whole number of days."""
    return round(weeks * 7)


@dataclass(frozen=True)
class WaveRule:
    """One wave's window, in weeks of gestation ("gestation") or weeks after birth ("birth")."""

    number: int
    name: str
    anchor: Anchor
    opens_weeks: float
    target_weeks: float
    closes_weeks: float

    def __post_init__(self) -> None:
        if self.anchor not in ("gestation", "birth"):
            raise ValueError(f"Wave {self.number}: anchor must be 'gestation' or 'birth'.")
        if not self.opens_weeks <= self.target_weeks <= self.closes_weeks:
            raise ValueError(
                f"Wave {self.number}: need opens <= target <= closes, got "
                f"{self.opens_weeks}, {self.target_weeks}, {self.closes_weeks}."
            )


DEFAULT_WAVES: tuple[WaveRule, ...] = (
    WaveRule(1, "Early pregnancy", "gestation", 8, 14, 20),
    WaveRule(2, "Late pregnancy", "gestation", 28, 32, 38),
    WaveRule(3, "About 3 months after birth", "birth", 8, 13, 20),
    WaveRule(4, "About 9 months after birth", "birth", 34, 39, 46),
    WaveRule(5, "About 18 months after birth", "birth", 72, 78, 86),
)


@dataclass(frozen=True)
class Window:
    """The dates one woman's wave opens, is aimed at and closes (all inclusive).

    ``anchored_on`` says what the dates were counted from; "due date" marks a provisional
    post-birth window that will move once the birth date is entered.
    """

    wave: int
    opens: date
    target: date
    closes: date
    anchored_on: AnchoredOn


def wave_window(rule: WaveRule, edd: date, birth_date: date | None) -> Window | None:
    """One wave's window for a pregnancy due on ``edd``, born on ``birth_date`` if known.

    A pregnancy window cannot run past the birth: it closes the day before, and is None when
    an early birth came before it could open. Post-birth windows count from the birth, or
    from the due date until the birth is recorded.
    """
    if rule.anchor == "gestation":
        opens = date_at_gestation(edd, _days(rule.opens_weeks))
        target = date_at_gestation(edd, _days(rule.target_weeks))
        closes = date_at_gestation(edd, _days(rule.closes_weeks))
        if birth_date is not None:
            last = birth_date - timedelta(days=1)
            if opens > last:
                return None
            closes = min(closes, last)
            target = min(target, closes)
        return Window(rule.number, opens, target, closes, "gestation")
    anchor = birth_date if birth_date is not None else edd
    return Window(
        rule.number,
        anchor + timedelta(days=_days(rule.opens_weeks)),
        anchor + timedelta(days=_days(rule.target_weeks)),
        anchor + timedelta(days=_days(rule.closes_weeks)),
        "birth" if birth_date is not None else "due date",
    )


@dataclass(frozen=True)
class WomanSchedule:
    """What the schedule needs to know about one woman.

    ``resolved_waves`` are waves with nothing more to do (done, missed, declined...);
    ``booked`` maps a wave to the date an interview is booked for; a wave whose window closed
    before ``recruited_on`` was never hers to do.
    """

    woman_id: int
    pseudonym: str
    site_code: str
    edd: date
    birth_date: date | None
    active: bool
    interviewer_id: int | None
    resolved_waves: frozenset[int]
    booked: Mapping[int, date] = field(default_factory=dict, hash=False)
    recruited_on: date | None = None


@dataclass(frozen=True)
class DueItem:
    """One interview to arrange or chase. ``days_to_close`` is negative once it has closed."""

    woman_id: int
    pseudonym: str
    site_code: str
    interviewer_id: int | None
    wave: int
    wave_name: str
    window: Window
    status: Status
    booked_for: date | None
    days_to_close: int


def _status(window: Window, today: date) -> Status:
    if window.opens > today:
        return "due soon"
    if today <= window.target:
        return "due"
    return "overdue"


def due_interviews(
    women: Iterable[WomanSchedule],
    rules: Sequence[WaveRule],
    today: date,
    within_days: int = 14,
) -> list[DueItem]:
    """Interviews open now, opening within ``within_days``, or past their target unresolved.

    Inactive women (withdrawn, lost) and resolved waves are left out, as are pregnancy waves
    overtaken by an early birth and waves that closed before the woman was recruited.
    Most urgent first (overdue, due, due soon), then by the
    date the window closes and the pseudonym.
    """
    horizon = today + timedelta(days=within_days)
    items: list[DueItem] = []
    for woman in women:
        if not woman.active:
            continue
        for rule in rules:
            if rule.number in woman.resolved_waves:
                continue
            window = wave_window(rule, woman.edd, woman.birth_date)
            if window is None or window.opens > horizon:
                continue
            if woman.recruited_on is not None and window.closes < woman.recruited_on:
                continue
            items.append(
                DueItem(
                    woman_id=woman.woman_id,
                    pseudonym=woman.pseudonym,
                    site_code=woman.site_code,
                    interviewer_id=woman.interviewer_id,
                    wave=rule.number,
                    wave_name=rule.name,
                    window=window,
                    status=_status(window, today),
                    booked_for=woman.booked.get(rule.number),
                    days_to_close=(window.closes - today).days,
                )
            )
    items.sort(
        key=lambda item: (
            STATUS_ORDER.index(item.status),
            item.window.closes,
            item.pseudonym,
            item.woman_id,
            item.wave,
        )
    )
    return items


def windows_for(
    woman: WomanSchedule, rules: Sequence[WaveRule]
) -> list[tuple[WaveRule, Window | None]]:
    """Every wave's window for one woman, in rule order; None where a birth overtook it."""
    return [(rule, wave_window(rule, woman.edd, woman.birth_date)) for rule in rules]
