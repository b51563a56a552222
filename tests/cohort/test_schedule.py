"""Interview windows and the due list.

Hand-worked anchor: EDD 2024-03-01 puts gestation day 0 on 2023-05-26 (see test_dates). Days
from 2023-05-26: 1 Jun 6, 1 Jul 36, 1 Aug 67, 1 Sep 98, 1 Oct 128, 1 Nov 159, 1 Dec 189,
1 Jan 220, 1 Feb 251, 1 Mar 280 (leap February). Hence:

- wave 1 (8/14/20 weeks = 56/98/140 days): 2023-07-21, 2023-09-01, 2023-10-13;
- wave 2 (28/32/38 weeks = 196/224/266 days): 2023-12-08, 2024-01-05, 2024-02-16;
- wave 3 counted from the EDD (56/91/140 days after 1 Mar 2024; 1 Apr is +31, 1 May +61,
  1 Jun +92, 1 Jul +122): 2024-04-26, 2024-05-31, 2024-07-19.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steppingstones.cohort.schedule import (
    DEFAULT_WAVES,
    DueItem,
    WaveRule,
    Window,
    WomanSchedule,
    due_interviews,
    wave_window,
    windows_for,
)

EDD = date(2024, 3, 1)
W1, W2, W3, W4, W5 = DEFAULT_WAVES
GESTATION_RULES = [r for r in DEFAULT_WAVES if r.anchor == "gestation"]
BIRTH_RULES = [r for r in DEFAULT_WAVES if r.anchor == "birth"]
RANK = {"overdue": 0, "due": 1, "due soon": 2}

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def woman(
    woman_id: int = 1,
    pseudonym: str = "Ann",
    edd: date = EDD,
    birth_date: date | None = None,
    *,
    active: bool = True,
    resolved: frozenset[int] = frozenset(),
    booked: dict[int, date] | None = None,
) -> WomanSchedule:
    return WomanSchedule(
        woman_id=woman_id,
        pseudonym=pseudonym,
        site_code="EL",
        edd=edd,
        birth_date=birth_date,
        active=active,
        interviewer_id=7,
        resolved_waves=resolved,
        booked=booked or {},
    )


class TestRules:
    def test_default_waves(self) -> None:
        assert [
            (r.number, r.anchor, r.opens_weeks, r.target_weeks, r.closes_weeks)
            for r in DEFAULT_WAVES
        ] == [
            (1, "gestation", 8, 14, 20),
            (2, "gestation", 28, 32, 38),
            (3, "birth", 8, 13, 20),
            (4, "birth", 34, 39, 46),
            (5, "birth", 72, 78, 86),
        ]
        assert W1.name == "Early pregnancy"
        assert W5.name == "About 18 months after birth"

    @pytest.mark.parametrize(("opens", "target", "closes"), [(10, 8, 12), (8, 14, 12), (9, 9, 8)])
    def test_out_of_order_rejected(self, opens: float, target: float, closes: float) -> None:
        with pytest.raises(ValueError, match="opens <= target <= closes"):
            WaveRule(9, "Bad", "gestation", opens, target, closes)

    def test_equal_weeks_allowed(self) -> None:
        rule = WaveRule(9, "One week", "birth", 4, 4, 4)
        window = wave_window(rule, EDD, date(2024, 3, 1))
        assert window is not None
        assert window.opens == window.target == window.closes == date(2024, 3, 29)

    def test_unknown_anchor_rejected(self) -> None:
        with pytest.raises(ValueError, match="anchor"):
            WaveRule(9, "Bad", "conception", 1, 2, 3)  # type: ignore[arg-type]


class TestGestationWindows:
    def test_wave_1(self) -> None:
        assert wave_window(W1, EDD, None) == Window(
            1, date(2023, 7, 21), date(2023, 9, 1), date(2023, 10, 13), "gestation"
        )

    def test_wave_2_across_leap_february(self) -> None:
        assert wave_window(W2, EDD, None) == Window(
            2, date(2023, 12, 8), date(2024, 1, 5), date(2024, 2, 16), "gestation"
        )

    def test_birth_after_close_changes_nothing(self) -> None:
        assert wave_window(W2, EDD, date(2024, 2, 17)) == wave_window(W2, EDD, None)
        assert wave_window(W1, EDD, date(2023, 12, 8)) == wave_window(W1, EDD, None)

    def test_birth_on_close_day_cuts_one_day(self) -> None:
        window = wave_window(W2, EDD, date(2024, 2, 16))
        assert window is not None
        assert window.closes == date(2024, 2, 15)
        assert window.target == date(2024, 1, 5)

    def test_birth_before_target_cuts_target_too(self) -> None:
        window = wave_window(W2, EDD, date(2023, 12, 20))
        assert window == Window(
            2, date(2023, 12, 8), date(2023, 12, 19), date(2023, 12, 19), "gestation"
        )

    def test_birth_the_day_after_opening_leaves_one_day(self) -> None:
        window = wave_window(W2, EDD, date(2023, 12, 9))
        assert window is not None
        assert window.opens == window.target == window.closes == date(2023, 12, 8)

    def test_birth_on_opening_day_overtakes_the_wave(self) -> None:
        assert wave_window(W2, EDD, date(2023, 12, 8)) is None
        assert wave_window(W2, EDD, date(2023, 11, 1)) is None

    def test_fractional_weeks_round_to_days(self) -> None:
        # 10.5 weeks = 73.5 days -> 74 (round half to even); 2023-05-26 + 74: 1 Aug is 67,
        # so 8 Aug.
        rule = WaveRule(9, "Half", "gestation", 10.5, 11, 12)
        window = wave_window(rule, EDD, None)
        assert window is not None
        assert window.opens == date(2023, 8, 8)


class TestBirthWindows:
    def test_from_due_date_while_unborn(self) -> None:
        assert wave_window(W3, EDD, None) == Window(
            3, date(2024, 4, 26), date(2024, 5, 31), date(2024, 7, 19), "due date"
        )

    def test_wave_4_from_due_date(self) -> None:
        # +238/+273/+322 from 1 Mar 2024: 1 Oct is +214 -> 25 Oct; 1 Nov +245 -> 29 Nov;
        # 1 Jan 2025 is +306 -> 17 Jan.
        assert wave_window(W4, EDD, None) == Window(
            4, date(2024, 10, 25), date(2024, 11, 29), date(2025, 1, 17), "due date"
        )

    def test_wave_5_opens(self) -> None:
        # 72 weeks = 504 days. 1 Mar 2025 is +365 (no 29 Feb 2025); 1 Jul 2025 +487 -> 18 Jul.
        window = wave_window(W5, EDD, None)
        assert window is not None
        assert window.opens == date(2025, 7, 18)

    def test_early_birth_moves_window_earlier(self) -> None:
        # Born 16 Feb 2024 (38+0). +56: 29 Feb is +13, 1 Mar +14, 1 Apr +45 -> 12 Apr.
        window = wave_window(W3, EDD, date(2024, 2, 16))
        assert window == Window(3, date(2024, 4, 12), date(2024, 5, 17), date(2024, 7, 5), "birth")

    def test_birth_on_due_date_same_dates_new_anchor(self) -> None:
        unborn = wave_window(W3, EDD, None)
        born = wave_window(W3, EDD, EDD)
        assert unborn is not None and born is not None
        assert (born.opens, born.target, born.closes) == (
            unborn.opens,
            unborn.target,
            unborn.closes,
        )
        assert born.anchored_on == "birth"

    @given(edd=dates, first=dates, second=dates, rule=st.sampled_from(BIRTH_RULES))
    def test_moves_by_exactly_the_change(
        self, edd: date, first: date, second: date, rule: WaveRule
    ) -> None:
        a = wave_window(rule, edd, first)
        b = wave_window(rule, edd, second)
        assert a is not None and b is not None
        shift = second - first
        assert b.opens - a.opens == shift
        assert b.target - a.target == shift
        assert b.closes - a.closes == shift
        assert a.anchored_on == b.anchored_on == "birth"

    @given(edd=dates, rule=st.sampled_from(BIRTH_RULES))
    def test_entering_birth_date_moves_window(self, edd: date, rule: WaveRule) -> None:
        unborn = wave_window(rule, edd, None)
        born = wave_window(rule, edd, edd - timedelta(days=10))
        assert unborn is not None and born is not None
        assert unborn.opens - born.opens == timedelta(days=10)


class TestGestationProperties:
    @given(
        edd=dates,
        offset=st.integers(min_value=-300, max_value=60),
        rule=st.sampled_from(GESTATION_RULES),
    )
    def test_never_past_the_birth(self, edd: date, offset: int, rule: WaveRule) -> None:
        birth = edd + timedelta(days=offset)
        window = wave_window(rule, edd, birth)
        unborn = wave_window(rule, edd, None)
        assert unborn is not None
        if window is None:
            assert unborn.opens >= birth
        else:
            assert window.opens <= window.target <= window.closes < birth
            assert window.opens == unborn.opens
            assert window.closes == min(unborn.closes, birth - timedelta(days=1))

    @given(edd=dates, rule=st.sampled_from(DEFAULT_WAVES))
    def test_windows_are_ordered(self, edd: date, rule: WaveRule) -> None:
        window = wave_window(rule, edd, None)
        assert window is not None
        assert window.wave == rule.number
        assert window.opens <= window.target <= window.closes


class TestDueInterviews:
    def test_too_far_ahead_not_listed(self) -> None:
        # Wave 1 opens 21 Jul; 6 Jul + 14 = 20 Jul.
        assert due_interviews([woman()], DEFAULT_WAVES, date(2023, 7, 6)) == []

    def test_due_soon_at_the_horizon(self) -> None:
        # 7 Jul + 14 = 21 Jul, the opening day. 7 Jul -> 13 Oct: 7 Aug +31, 7 Sep +62,
        # 7 Oct +92, 13 Oct +98.
        items = due_interviews([woman()], DEFAULT_WAVES, date(2023, 7, 7))
        assert items == [
            DueItem(
                woman_id=1,
                pseudonym="Ann",
                site_code="EL",
                interviewer_id=7,
                wave=1,
                wave_name="Early pregnancy",
                window=Window(
                    1, date(2023, 7, 21), date(2023, 9, 1), date(2023, 10, 13), "gestation"
                ),
                status="due soon",
                booked_for=None,
                days_to_close=98,
            )
        ]

    def test_within_days_zero(self) -> None:
        assert due_interviews([woman()], DEFAULT_WAVES, date(2023, 7, 20), within_days=0) == []
        [item] = due_interviews([woman()], DEFAULT_WAVES, date(2023, 7, 21), within_days=0)
        assert item.status == "due"

    @pytest.mark.parametrize(
        ("today", "status", "days_to_close"),
        [
            (date(2023, 7, 20), "due soon", 85),
            (date(2023, 7, 21), "due", 84),
            (date(2023, 9, 1), "due", 42),
            (date(2023, 9, 2), "overdue", 41),
            (date(2023, 10, 13), "overdue", 0),
            (date(2023, 10, 20), "overdue", -7),
        ],
    )
    def test_status_through_wave_1(self, today: date, status: str, days_to_close: int) -> None:
        [item] = due_interviews([woman()], DEFAULT_WAVES, today)
        assert item.wave == 1
        assert item.status == status
        assert item.days_to_close == days_to_close

    def test_resolved_wave_not_listed(self) -> None:
        assert (
            due_interviews([woman(resolved=frozenset({1}))], DEFAULT_WAVES, date(2023, 9, 1)) == []
        )

    @pytest.mark.parametrize("today", [date(2023, 7, 21), date(2023, 9, 2), date(2024, 1, 5)])
    def test_inactive_woman_not_listed(self, today: date) -> None:
        assert due_interviews([woman(active=False)], DEFAULT_WAVES, today) == []

    def test_booking_shown(self) -> None:
        booked = {1: date(2023, 8, 30), 2: date(2024, 1, 2)}
        [item] = due_interviews([woman(booked=booked)], DEFAULT_WAVES, date(2023, 8, 1))
        assert item.booked_for == date(2023, 8, 30)

    def test_overtaken_wave_not_listed(self) -> None:
        # Born 1 Dec 2023, before wave 2 opened on 8 Dec. On 10 Dec: wave 1 is overdue
        # (closed 13 Oct, unresolved); wave 3 opens 1 Dec + 56 = 26 Jan, past 24 Dec.
        items = due_interviews(
            [woman(birth_date=date(2023, 12, 1))], DEFAULT_WAVES, date(2023, 12, 10)
        )
        assert [(i.wave, i.status) for i in items] == [(1, "overdue")]

    def test_birth_date_brings_wave_3_forward(self) -> None:
        # Unborn, wave 3 opens 26 Apr 2024; born 16 Feb it opens 12 Apr. On 1 Apr the horizon
        # is 15 Apr.
        done = frozenset({1, 2})
        today = date(2024, 4, 1)
        assert due_interviews([woman(resolved=done)], DEFAULT_WAVES, today) == []
        [item] = due_interviews(
            [woman(resolved=done, birth_date=date(2024, 2, 16))], DEFAULT_WAVES, today
        )
        assert (item.wave, item.status, item.window.anchored_on) == (3, "due soon", "birth")

    def test_sorted_overdue_due_due_soon_then_close_then_pseudonym(self) -> None:
        # Today 10 Jan 2024, horizon 24 Jan.
        # Bea (EDD 1 Mar): wave 1 closed 13 Oct, overdue; wave 2 target 5 Jan passed, overdue,
        #   closes 16 Feb.
        # Ann and Dee (EDD 15 Mar, 14 days later): wave 2 22 Dec / 19 Jan / 1 Mar -> due.
        # Cat (EDD 10 Apr, 40 days later): wave 2 opens 8 Dec + 40 = 17 Jan -> due soon.
        # Eve is withdrawn.
        one = frozenset({1})
        women = [
            woman(5, "Eve", active=False),
            woman(4, "Cat", date(2024, 4, 10), resolved=one),
            woman(3, "Dee", date(2024, 3, 15), resolved=one),
            woman(2, "Bea"),
            woman(1, "Ann", date(2024, 3, 15), resolved=one),
        ]
        items = due_interviews(women, DEFAULT_WAVES, date(2024, 1, 10))
        assert [(i.pseudonym, i.wave, i.status, i.window.closes) for i in items] == [
            ("Bea", 1, "overdue", date(2023, 10, 13)),
            ("Bea", 2, "overdue", date(2024, 2, 16)),
            ("Ann", 2, "due", date(2024, 3, 1)),
            ("Dee", 2, "due", date(2024, 3, 1)),
            ("Cat", 2, "due soon", date(2024, 3, 27)),
        ]

    def test_overdue_ahead_of_due_even_if_it_closes_later(self) -> None:
        # Two made-up waves. Today, 25 Aug 2023, is gestation day 91 (1 Aug is 67, +24).
        # "Long": target day 70 passed -> overdue; closes day 210 = 1 Dec (189) + 21 = 22 Dec.
        # "Short": opened day 84, target day 98 -> due; closes day 112 = 1 Sep (98) + 14 = 15 Sep.
        rules = [
            WaveRule(1, "Long", "gestation", 8, 10, 30),
            WaveRule(2, "Short", "gestation", 12, 14, 16),
        ]
        items = due_interviews([woman()], rules, date(2023, 8, 25))
        assert [(i.wave, i.status, i.window.closes) for i in items] == [
            (1, "overdue", date(2023, 12, 22)),
            (2, "due", date(2023, 9, 15)),
        ]

    def test_rules_subset(self) -> None:
        assert due_interviews([woman()], [W2], date(2023, 9, 1)) == []

    def test_empty(self) -> None:
        assert due_interviews([], DEFAULT_WAVES, date(2024, 1, 1)) == []


@st.composite
def women_lists(draw: st.DrawFn) -> list[WomanSchedule]:
    count = draw(st.integers(min_value=0, max_value=8))
    women = []
    for woman_id in range(1, count + 1):
        edd = draw(st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31)))
        born = draw(st.none() | st.integers(min_value=-120, max_value=21))
        women.append(
            WomanSchedule(
                woman_id=woman_id,
                pseudonym=draw(st.sampled_from(["Ann", "Bea", "Cat", "Dee"])),
                site_code=draw(st.sampled_from(["EL", "GG"])),
                edd=edd,
                birth_date=None if born is None else edd + timedelta(days=born),
                active=draw(st.booleans()),
                interviewer_id=draw(st.none() | st.integers(min_value=1, max_value=3)),
                resolved_waves=frozenset(draw(st.sets(st.integers(min_value=1, max_value=5)))),
            )
        )
    return women


class TestDueProperties:
    @given(
        women=women_lists(),
        today=st.dates(min_value=date(2022, 6, 1), max_value=date(2027, 12, 31)),
        within=st.integers(min_value=0, max_value=60),
    )
    def test_invariants(self, women: list[WomanSchedule], today: date, within: int) -> None:
        items = due_interviews(women, DEFAULT_WAVES, today, within_days=within)
        by_id = {w.woman_id: w for w in women}
        horizon = today + timedelta(days=within)
        for item in items:
            owner = by_id[item.woman_id]
            assert owner.active
            assert item.wave not in owner.resolved_waves
            assert item.window.opens <= horizon
            assert item.days_to_close == (item.window.closes - today).days
            if item.status == "due soon":
                assert today < item.window.opens
            elif item.status == "due":
                assert item.window.opens <= today <= item.window.target
            else:
                assert item.window.target < today
            if item.window.anchored_on == "gestation" and owner.birth_date is not None:
                assert item.window.closes < owner.birth_date

        # Ordered by status rank, then close date, then pseudonym.
        keys = [(RANK[i.status], i.window.closes, i.pseudonym) for i in items]
        assert keys == sorted(keys)

        # Nothing missing: every unresolved, not overtaken wave of an active woman that opens
        # by the horizon is listed, once.
        expected = {
            (w.woman_id, rule.number)
            for w in women
            if w.active
            for rule, window in windows_for(w, DEFAULT_WAVES)
            if rule.number not in w.resolved_waves
            and window is not None
            and window.opens <= horizon
        }
        listed = [(i.woman_id, i.wave) for i in items]
        assert len(listed) == len(set(listed))
        assert set(listed) == expected


class TestWindowsFor:
    def test_early_birth_page(self) -> None:
        rows = windows_for(woman(birth_date=date(2023, 12, 8)), DEFAULT_WAVES)
        assert [rule.number for rule, _ in rows] == [1, 2, 3, 4, 5]
        assert rows[0][1] == Window(
            1, date(2023, 7, 21), date(2023, 9, 1), date(2023, 10, 13), "gestation"
        )
        assert rows[1][1] is None
        # 8 Dec 2023 + 56: 1 Jan is +24, 1 Feb +55 -> 2 Feb 2024.
        third = rows[2][1]
        assert third is not None
        assert (third.opens, third.anchored_on) == (date(2024, 2, 2), "birth")

    def test_unborn_page(self) -> None:
        rows = windows_for(woman(), DEFAULT_WAVES)
        assert [w.anchored_on for _, w in rows if w is not None] == [
            "gestation",
            "gestation",
            "due date",
            "due date",
            "due date",
        ]

    def test_schedule_is_hashable_with_bookings(self) -> None:
        assert hash(woman(booked={1: date(2023, 8, 1)})) == hash(woman())


def test_a_wave_that_closed_before_recruitment_is_never_due() -> None:
    # EDD 2024-07-01; wave 1 (8 to 20 weeks) closes at 20+0 = 2024-07-01 - 140 days = 2024-02-12.
    # Recruited on 2024-03-01 (22+4), so wave 1 was never hers; wave 2 opens at 28+0 = 2024-04-15.
    woman = WomanSchedule(
        woman_id=1,
        pseudonym="EL-W01",
        site_code="EL",
        edd=date(2024, 7, 1),
        birth_date=None,
        active=True,
        interviewer_id=None,
        resolved_waves=frozenset(),
        recruited_on=date(2024, 3, 1),
    )
    items = due_interviews([woman], DEFAULT_WAVES, today=date(2024, 4, 20), within_days=14)
    assert [(item.wave, item.status) for item in items] == [(2, "due")]
