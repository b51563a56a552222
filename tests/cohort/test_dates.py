"""Pregnancy and infancy date arithmetic.

Expected values are worked out by hand in the comments, not copied from the code. The anchor
used throughout: EDD 2024-03-01. Counting days from 2023-05-26 by adding each month's
length: 1 Jun is day 6, 1 Jul 36, 1 Aug 67, 1 Sep 98, 1 Oct 128, 1 Nov 159, 1 Dec 189,
1 Jan 220, 1 Feb 251 and, February 2024 having 29 days, 1 Mar 280. So 2023-05-26 is 280 days
before the EDD: gestation day 0.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steppingstones.cohort.dates import (
    FULL_TERM_DAYS,
    corrected_age_days,
    date_at_gestation,
    edd_from_gestation,
    format_gestation,
    gestation_days,
    infant_age_days,
    local_date,
    parse_gestation,
)

EDD = date(2024, 3, 1)
DAY_ZERO = date(2023, 5, 26)

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


def test_full_term_is_forty_weeks() -> None:
    assert FULL_TERM_DAYS == 40 * 7


class TestGestationDays:
    def test_day_zero(self) -> None:
        assert gestation_days(EDD, DAY_ZERO) == 0

    def test_on_the_due_date(self) -> None:
        assert gestation_days(EDD, EDD) == 280

    def test_12_plus_3(self) -> None:
        # 12+3 = 87 days after 2023-05-26: Jun 1 (+6), Jul 1 (+36), Aug 1 (+67), Aug 21 (+87).
        assert gestation_days(EDD, date(2023, 8, 21)) == 87

    def test_leap_day_counts(self) -> None:
        # 28 Feb -> 29 Feb -> 1 Mar is two days in 2024, so 280 - 2.
        assert gestation_days(EDD, date(2024, 2, 28)) == 278
        assert gestation_days(EDD, date(2024, 2, 29)) == 279

    def test_no_leap_day(self) -> None:
        # 2023 has no 29 Feb: 28 Feb -> 1 Mar is one day.
        assert gestation_days(date(2023, 3, 1), date(2023, 2, 28)) == 279

    def test_before_conception_is_negative(self) -> None:
        assert gestation_days(EDD, date(2023, 5, 19)) == -7

    def test_past_the_due_date(self) -> None:
        # 42+0 = 294: two weeks after 1 Mar is 15 Mar.
        assert gestation_days(EDD, date(2024, 3, 15)) == 294


class TestDateAtGestation:
    def test_day_zero(self) -> None:
        assert date_at_gestation(EDD, 0) == DAY_ZERO

    def test_12_plus_3(self) -> None:
        assert date_at_gestation(EDD, 87) == date(2023, 8, 21)

    def test_across_leap_day(self) -> None:
        # 38+0 = 266, 14 days before 1 Mar 2024: 29 Feb is 1 day before, so 16 Feb.
        assert date_at_gestation(EDD, 266) == date(2024, 2, 16)

    def test_negative_and_post_term(self) -> None:
        assert date_at_gestation(EDD, -1) == date(2023, 5, 25)
        assert date_at_gestation(EDD, 287) == date(2024, 3, 8)

    @given(edd=dates, days=st.integers(min_value=-400, max_value=400))
    def test_inverse_of_gestation_days(self, edd: date, days: int) -> None:
        assert gestation_days(edd, date_at_gestation(edd, days)) == days

    @given(edd=dates, on=dates)
    def test_gestation_days_inverse(self, edd: date, on: date) -> None:
        assert date_at_gestation(edd, gestation_days(edd, on)) == on


class TestEddFromGestation:
    def test_scan_at_12_plus_3(self) -> None:
        assert edd_from_gestation(date(2023, 8, 21), 87) == EDD

    def test_scan_on_leap_day(self) -> None:
        # 39+6 = 279 on 29 Feb 2024: due the next day.
        assert edd_from_gestation(date(2024, 2, 29), 279) == EDD

    @given(on=dates, days=st.integers(min_value=0, max_value=315))
    def test_round_trip(self, on: date, days: int) -> None:
        edd = edd_from_gestation(on, days)
        assert gestation_days(edd, on) == days
        assert date_at_gestation(edd, days) == on


class TestFormatGestation:
    @pytest.mark.parametrize(
        ("days", "text"),
        [(0, "0+0"), (6, "0+6"), (7, "1+0"), (87, "12+3"), (259, "37+0"), (280, "40+0")],
    )
    def test_examples(self, days: int, text: str) -> None:
        assert format_gestation(days) == text

    def test_negative_raises(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            format_gestation(-1)


class TestParseGestation:
    @pytest.mark.parametrize(
        ("text", "days"),
        [
            ("12+3", 87),
            ("12 + 3", 87),
            (" 12+3 ", 87),
            ("12w3d", 87),
            ("12W3D", 87),
            ("12w 3d", 87),
            ("12", 84),
            ("12w", 84),
            ("0+0", 0),
            ("40+0", 280),
            ("45+6", 321),
        ],
    )
    def test_accepted(self, text: str, days: int) -> None:
        assert parse_gestation(text) == days

    @pytest.mark.parametrize(
        "text",
        ["", "abc", "12+", "+3", "12+7", "12+10", "46", "46+0", "12w7d", "12.5", "-1+0", "12-3"],
    )
    def test_rejected_with_the_text_named(self, text: str) -> None:
        with pytest.raises(ValueError) as caught:
            parse_gestation(text)
        assert repr(text) in str(caught.value)

    @given(st.integers(min_value=0, max_value=300))
    def test_round_trip(self, days: int) -> None:
        assert parse_gestation(format_gestation(days)) == days

    @given(st.integers(min_value=0, max_value=45), st.integers(min_value=0, max_value=6))
    def test_all_spellings_agree(self, weeks: int, days: int) -> None:
        expected = weeks * 7 + days
        assert parse_gestation(f"{weeks}+{days}") == expected
        assert parse_gestation(f"{weeks} + {days}") == expected
        assert parse_gestation(f"{weeks}w{days}d") == expected


class TestAges:
    def test_infant_age_across_leap_day(self) -> None:
        # 28 Feb -> 29 Feb -> 1 Mar 2024.
        assert infant_age_days(date(2024, 2, 28), date(2024, 3, 1)) == 2
        assert infant_age_days(date(2024, 2, 28), date(2024, 2, 28)) == 0

    def test_infant_age_one_leap_year(self) -> None:
        assert infant_age_days(date(2024, 1, 1), date(2025, 1, 1)) == 366

    def test_corrected_age_preterm(self) -> None:
        # Born 1 Jan 2024 at 32+0 (224 days), 56 days early. On 1 Mar 2024 she is
        # 31 (Jan) + 29 (Feb) = 60 days old, corrected 60 - 56 = 4.
        assert corrected_age_days(date(2024, 1, 1), 224, date(2024, 3, 1)) == 4

    def test_corrected_age_can_be_negative_before_due_date(self) -> None:
        # Same baby on 1 Feb: 31 days old, 56 early -> -25.
        assert corrected_age_days(date(2024, 1, 1), 224, date(2024, 2, 1)) == -25

    def test_term_boundary(self) -> None:
        birth, on = date(2024, 1, 1), date(2024, 3, 1)
        # 37+0 (259) is term: no correction.
        assert corrected_age_days(birth, 259, on) == 60
        # 36+6 (258) is preterm: 280 - 258 = 22 days off.
        assert corrected_age_days(birth, 258, on) == 38

    def test_post_term_not_corrected(self) -> None:
        assert corrected_age_days(date(2024, 1, 1), 290, date(2024, 3, 1)) == 60


class TestLocalDate:
    # In 2024 BST began at 01:00 UTC on 31 March and ended at 01:00 UTC on 27 October.

    @pytest.mark.parametrize(
        ("moment", "expected"),
        [
            # 00:30 UTC on 31 Mar is still GMT: 00:30 local, same day.
            (datetime(2024, 3, 31, 0, 30, tzinfo=UTC), date(2024, 3, 31)),
            # 23:30 UTC on 30 Mar, GMT: same day.
            (datetime(2024, 3, 30, 23, 30, tzinfo=UTC), date(2024, 3, 30)),
            # 23:30 UTC on 31 Mar is BST: 00:30 on 1 April.
            (datetime(2024, 3, 31, 23, 30, tzinfo=UTC), date(2024, 4, 1)),
            # 23:30 UTC on 26 Oct is still BST: 00:30 on 27 Oct.
            (datetime(2024, 10, 26, 23, 30, tzinfo=UTC), date(2024, 10, 27)),
            # 23:30 UTC on 27 Oct is GMT again: same day.
            (datetime(2024, 10, 27, 23, 30, tzinfo=UTC), date(2024, 10, 27)),
            # Midsummer late evening rolls over; midwinter does not.
            (datetime(2024, 6, 30, 23, 30, tzinfo=UTC), date(2024, 7, 1)),
            (datetime(2024, 1, 15, 23, 30, tzinfo=UTC), date(2024, 1, 15)),
            # Leap day, BST not in force.
            (datetime(2024, 2, 29, 23, 59, tzinfo=UTC), date(2024, 2, 29)),
        ],
    )
    def test_london(self, moment: datetime, expected: date) -> None:
        assert local_date(moment) == expected

    def test_non_utc_input(self) -> None:
        # 01:00 at UTC+2 on 1 Jul is 23:00 UTC on 30 Jun, 00:00 BST on 1 Jul.
        moment = datetime(2024, 7, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
        assert local_date(moment) == date(2024, 7, 1)

    def test_other_zone(self) -> None:
        # 03:00 UTC on 1 Jan 2024 is 22:00 EST on 31 Dec 2023.
        assert local_date(datetime(2024, 1, 1, 3, 0, tzinfo=UTC), "America/New_York") == date(
            2023, 12, 31
        )

    def test_naive_raises(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            local_date(datetime(2024, 3, 31, 0, 30))
