"""Pathway measures checked against pandas and hand-computed values on small logs."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from steppingstones.journeys import pathways
from steppingstones.journeys.analytics import connect
from steppingstones.journeys.eventlog import TIMESTAMP_TYPE, make_table
from steppingstones.journeys.pathways import (
    BIRTH,
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    PREGNANCY,
    UNKNOWN,
    CaseFilter,
    Milestone,
    RuleSpec,
    StepSpec,
)


def ts(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


EDD = {"A": date(2024, 7, 1), "B": date(2024, 7, 1), "C": date(2024, 8, 1), "D": date(2024, 9, 1)}
BORN = {"A": date(2024, 6, 24), "B": date(2024, 7, 8), "C": None, "D": date(2024, 8, 20)}
SITE = {"A": "EL", "B": "EL", "C": "GG", "D": "GG"}
NATION = {"EL": "england", "GG": "scotland"}


def start(case: str) -> date:
    return EDD[case] - timedelta(days=280)


def gest(case: str, weeks: int, days: int = 0) -> date:
    return start(case) + timedelta(days=weeks * 7 + days)


def after_birth(case: str, days: int) -> date:
    born = BORN[case]
    assert born is not None
    return born + timedelta(days=days)


# (case, activity, date, latest date, service)
EVENTS: list[tuple[str, str, date, date | None, str]] = [
    ("A", "referral", gest("A", 7), None, "maternity"),
    ("A", "booking", gest("A", 9, 3), None, "maternity"),
    ("A", "drug-worker-contact", gest("A", 12), None, "drug-treatment"),
    ("A", "pre-birth-conference", gest("A", 33), None, "social-care"),
    ("A", "birth", after_birth("A", 0), None, "maternity"),
    ("A", "discharge-infant", after_birth("A", 6), None, "neonatal"),
    ("A", "drug-worker-contact", after_birth("A", 40), None, "drug-treatment"),
    ("B", "booking", gest("B", 12), None, "maternity"),
    ("B", "referral", gest("B", 13), None, "maternity"),
    ("B", "drug-worker-contact", gest("B", 30), None, "drug-treatment"),
    ("B", "drug-worker-contact", gest("B", 36), None, "drug-treatment"),
    ("B", "pre-birth-conference", gest("B", 34), gest("B", 36), "social-care"),
    ("B", "birth", after_birth("B", 0), None, "maternity"),
    ("B", "discharge-infant", after_birth("B", 3), None, "neonatal"),
    ("C", "booking", gest("C", 8), gest("C", 11), "maternity"),
    ("C", "ird", gest("C", 20), None, "social-care"),
    ("C", "pre-birth-conference", gest("C", 23), None, "social-care"),
    ("D", "referral", gest("D", 6), None, "maternity"),
    ("D", "booking", gest("D", 10), None, "maternity"),
    ("D", "ird", gest("D", 18), None, "social-care"),
    ("D", "pre-birth-conference", gest("D", 27), None, "social-care"),
    ("D", "birth", after_birth("D", 0), None, "maternity"),
    ("D", "discharge-infant", after_birth("D", 5), None, "neonatal"),
    ("D", "drug-worker-contact", after_birth("D", 10), None, "drug-treatment"),
    ("D", "drug-worker-contact", after_birth("D", 70), None, "drug-treatment"),
]
HORIZON = {"A": date(2024, 10, 1), "B": date(2024, 9, 1), "C": date(2024, 6, 1), "D": None}


def make_log() -> tuple[ibis.Table, ibis.Table]:
    events = make_table(
        [e[0] for e in EVENTS],
        [e[1] for e in EVENTS],
        pa.array([ts(e[2]) for e in EVENTS], TIMESTAMP_TYPE),
        attributes={
            "timestamp_latest": pa.array(
                [ts(e[3]) if e[3] else None for e in EVENTS], TIMESTAMP_TYPE
            ),
            "service": [e[4] for e in EVENTS],
        },
    )
    cases = pa.table(
        {
            "case_id": list(EDD),
            "site": [SITE[c] for c in EDD],
            "nation": [NATION[SITE[c]] for c in EDD],
            "parity": pa.array([0, 2, 1, None], pa.int64()),
            "earlier_removals": pa.array([0, 1, 0, 2], pa.int64()),
            "ost": [True, False, True, False],
            "substances": ["heroin", "crack cocaine; heroin", "", "alcohol"],
            "pregnancy_start": pa.array([ts(start(c)) for c in EDD], TIMESTAMP_TYPE),
            "edd": pa.array([ts(EDD[c]) for c in EDD], TIMESTAMP_TYPE),
            "birth": pa.array([ts(b) if (b := BORN[c]) else None for c in EDD], TIMESTAMP_TYPE),
            "day0": pa.array([ts(BORN[c] or EDD[c]) for c in EDD], TIMESTAMP_TYPE),
            "horizon": pa.array(
                [ts(h) if (h := HORIZON[c]) else None for c in EDD], TIMESTAMP_TYPE
            ),
        }
    )
    return ibis.memtable(events), ibis.memtable(cases)


@pytest.fixture
def log() -> tuple[ibis.Table, ibis.Table]:
    return make_log()


def frame() -> pd.DataFrame:
    return pd.DataFrame(EVENTS, columns=["case", "activity", "date", "latest", "service"])


def test_gestation_at_booking_by_site_matches_pandas(log) -> None:
    events, cases = log
    spec = Milestone("booking", "Gestation at booking", PREGNANCY, "booking", "weeks")
    result = pathways.milestone(events, cases, spec, connect())
    df = frame()
    first = df[df.activity == "booking"].groupby("case")["date"].min()
    days = pd.Series({c: (d - start(c)).days for c, d in first.items()}, dtype=float)
    sites = pd.Series(SITE)
    expected = days.groupby(sites[days.index]).describe()
    got = {d.group: d for d in result.by_group}
    assert result.reached == 4 and result.cases == 4
    for site, row in expected.iterrows():
        assert got[site].n == row["count"]
        assert got[site].median == pytest.approx(row["50%"])
        assert got[site].q1 == pytest.approx(row["25%"])
        assert got[site].q3 == pytest.approx(row["75%"])
        assert got[site].minimum == row["min"] and got[site].maximum == row["max"]
    assert got["All"].median == pytest.approx(days.median())
    assert got["All"].q3 == pytest.approx(days.quantile(0.75))
    # By hand: A booked at 9+3 (66 days), B 12+0 (84), C 8+0 (56), D 10+0 (70).
    assert sorted(result.per_case["value"].to_pylist()) == [56, 66, 70, 84]


def test_infant_length_of_stay_counts_only_events_after_the_birth(log) -> None:
    events, cases = log
    spec = Milestone("stay", "Length of stay", BIRTH, "discharge-infant")
    result = pathways.milestone(events, cases, spec, connect())
    assert dict(
        zip(
            result.per_case["case_id"].to_pylist(),
            result.per_case["value"].to_pylist(),
            strict=True,
        )
    ) == {
        "A": 6,
        "B": 3,
        "D": 5,
    }


def test_time_from_one_activity_to_the_next_follows_canonical_order(log) -> None:
    events, cases = log
    spec = Milestone("ref-conf", "Referral to conference", "referral", "pre-birth-conference")
    result = pathways.milestone(events, cases, spec, connect())
    values = dict(
        zip(
            result.per_case["case_id"].to_pylist(),
            result.per_case["value"].to_pylist(),
            strict=True,
        )
    )
    # B's conference (34 weeks) follows her referral (13 weeks); C has no referral.
    assert values == {"A": 26 * 7, "B": 21 * 7, "D": 21 * 7}


def test_case_filter_by_characteristics(log) -> None:
    events, cases = log
    backend = connect()

    def kept(**kwargs) -> list[str]:
        chosen = pathways.filter_cases(cases, CaseFilter(**kwargs))
        return sorted(backend.to_pyarrow(chosen)["case_id"].to_pylist())

    assert kept() == ["A", "B", "C", "D"]
    assert kept(sites=("GG",)) == ["C", "D"]
    assert kept(parity="first") == ["A"]
    assert kept(parity="later") == ["B", "C"]
    assert kept(removals="yes") == ["B", "D"]
    assert kept(ost="no") == ["B", "D"]
    assert kept(substance="HEROIN") == ["A", "B"]
    assert kept(sites=("EL",), removals="no") == ["A"]
    only = pathways.events_of(events, pathways.filter_cases(cases, CaseFilter(sites=("GG",))))
    assert set(backend.to_pyarrow(only)["case_id"].to_pylist()) == {"C", "D"}


RULES = [
    RuleSpec("booking", "Booking by 10 weeks", "booking", "gestation", 10),
    RuleSpec(
        "cppm", "CPPM by 28 weeks", "pre-birth-conference", "gestation", 28, nation="scotland"
    ),
    RuleSpec(
        "pbc34", "Conference by 34 weeks", "pre-birth-conference", "gestation", 34, nation="england"
    ),
    RuleSpec(
        "pbc10",
        "10 weeks before EDD",
        "pre-birth-conference",
        "before-edd",
        10,
        at_least=True,
        site="EL",
    ),
    RuleSpec("discharge", "Discharge day 5+", "discharge-infant", "birth", 5, at_least=True),
    RuleSpec(
        "cppm-ird",
        "CPPM 28 days after IRD",
        "pre-birth-conference",
        "after-event",
        28,
        after_event="ird",
    ),
]


def test_timing_rules_give_each_case_a_status_worked_by_hand(log) -> None:
    events, cases = log
    result = pathways.compliance(events, cases, RULES, connect())
    status = {(r["case_id"], r["rule"]): r["status"] for r in result.per_case.to_pylist()}
    expected = {
        # booking: A 9+3 met, B 12+0 not met, C 8+0..11+0 straddles 10+0: unknown, D 10+0 met.
        ("A", "booking"): MET,
        ("B", "booking"): NOT_MET,
        ("C", "booking"): UNKNOWN,
        ("D", "booking"): MET,
        # Scotland only: A and B are English.
        ("A", "cppm"): NOT_APPLICABLE,
        ("B", "cppm"): NOT_APPLICABLE,
        ("C", "cppm"): MET,
        ("D", "cppm"): MET,
        # England only: A at 33 met; B between 34 and 36 weeks: 34 is met, 36 not: unknown.
        ("A", "pbc34"): MET,
        ("B", "pbc34"): UNKNOWN,
        ("C", "pbc34"): NOT_APPLICABLE,
        ("D", "pbc34"): NOT_APPLICABLE,
        # EL site only; A 7 weeks before EDD: not met; B 6 (or 4) weeks before: not met.
        ("A", "pbc10"): NOT_MET,
        ("B", "pbc10"): NOT_MET,
        ("C", "pbc10"): NOT_APPLICABLE,
        ("D", "pbc10"): NOT_APPLICABLE,
        # discharge: A day 6 met, B day 3 not met, C not born: n/a, D day 5 met.
        ("A", "discharge"): MET,
        ("B", "discharge"): NOT_MET,
        ("C", "discharge"): NOT_APPLICABLE,
        ("D", "discharge"): MET,
        # after IRD: C 21 days met, D 63 days not met; A and B had no IRD.
        ("A", "cppm-ird"): NOT_APPLICABLE,
        ("B", "cppm-ird"): NOT_APPLICABLE,
        ("C", "cppm-ird"): MET,
        ("D", "cppm-ird"): NOT_MET,
    }
    assert status == expected
    values = {(r["case_id"], r["rule"]): r["value_days"] for r in result.per_case.to_pylist()}
    assert values[("A", "booking")] == 66
    assert values[("A", "pbc10")] == 49
    assert values[("D", "cppm-ird")] == 63
    summary = {(s.rule.key, s.group): s for s in result.summaries}
    assert summary[("booking", "EL")].counts == {MET: 1, NOT_MET: 1, NOT_APPLICABLE: 0, UNKNOWN: 0}
    assert summary[("booking", "All")].share_met == pytest.approx(2 / 3)
    assert summary[("cppm", "EL")].share_met is None
    assert summary[("cppm", "GG")].share_met == 1.0


def test_a_rule_whose_event_is_not_recorded_is_unknown(log) -> None:
    events, cases = log
    rule = RuleSpec("hv", "HV by day 14", "health-visitor-contact", "birth", 14)
    result = pathways.compliance(events, cases, [rule], connect())
    status = {r["case_id"]: r["status"] for r in result.per_case.to_pylist()}
    assert status == {"A": UNKNOWN, "B": UNKNOWN, "C": NOT_APPLICABLE, "D": UNKNOWN}


STEPS = [
    StepSpec(1, "referral", "Referral", -217),
    StepSpec(2, "booking", "Booking", -210),
    StepSpec(3, "ird", "IRD", None, required=False),
    StepSpec(4, "pre-birth-conference", "Conference", -84, required=False),
    StepSpec(5, "birth", "Birth", 0),
    StepSpec(6, "discharge-infant", "Discharge", 10),
]


def test_conformance_names_missing_late_and_out_of_order_steps(log) -> None:
    events, cases = log
    result = pathways.conformance(events, cases, STEPS, connect())
    by_case = {c.case_id: c for c in result.cases}
    a, b, c, d = by_case["A"], by_case["B"], by_case["C"], by_case["D"]
    # A: referral 7w, booking 9+3w (both on time: antenatal deadlines count from the due date,
    # though A was born a week early), conference at 33w is late (due by 28w: day -84).
    assert a.missing == [] and a.out_of_order == []
    assert [s for s, _d, _l in a.late] == ["Conference"]
    assert a.fitness == pytest.approx(4 / 5)
    # B booked before the referral: one of the two is out of order; both are late.
    assert b.out_of_order in (["Referral"], ["Booking"])
    assert {s for s, _d, _l in b.late} == {"Referral", "Booking", "Conference"}
    assert b.fitness == pytest.approx(2 / 5)
    # C is unborn and seen last at 20+? weeks: birth and discharge not yet due; no referral.
    assert c.missing == ["Referral"]
    assert c.not_yet_due == ["Birth", "Discharge"]
    assert c.checked == 4
    # D follows the pathway.
    assert d.conforms and d.fitness == 1.0
    steps = {s.step.label: s for s in result.by_step}
    assert steps["Referral"].missing == 1
    assert steps["Referral"].out_of_order + steps["Booking"].out_of_order == 1
    assert steps["Conference"].present == 4
    # Conference: on time for C and D; late for A and B.
    assert steps["Conference"].conforming == 2
    assert steps["Birth"].conforming == 3
    sites = {site: (n, ok) for site, n, ok, _f in result.by_site}
    assert sites == {"EL": (2, 0), "GG": (2, 1), "All": (4, 1)}
    assert result.table().num_rows == 4


def test_out_of_order_steps_are_the_fewest_that_explain_the_disorder() -> None:
    # One misplaced step among four: only it is out of order, not the three it jumped.
    assert pathways._in_order([2, 3, 4, 1]) == {0, 1, 2}
    assert pathways._in_order([1, 2, 3]) == {0, 1, 2}
    assert len(pathways._in_order([3, 1, 2])) == 2
    assert pathways._in_order([]) == set()


def test_dropoff_counts_contacts_per_service_and_month_against_pandas(log) -> None:
    events, cases = log
    result = pathways.dropoff(events, cases, connect(), months_before=9, months_after=6, window=3)
    df = frame()
    df = df[df.activity != "birth"]
    df["birth"] = df["case"].map(BORN)
    df = df[df["birth"].notna()]
    days = (pd.to_datetime(df["date"]) - pd.to_datetime(df["birth"])).dt.days
    df["month"] = np.floor(days / 30.4375).astype(int)
    df = df[(df.month >= -9) & (df.month < 6)]
    expected = df.groupby(["service", "month"]).size().to_dict()
    got = {(c.group, c.month): c.contacts for c in result.cells if c.contacts}
    assert got == expected
    assert result.births == 3
    # Observed after the birth: A to Oct 1 (3.2 months), B to Sep 1 (1.8), D to the end.
    women = {c.month: c.women for c in result.cells if c.group == "drug-treatment"}
    assert women[-1] == 3 and women[0] == 3 and women[1] == 2 and women[2] == 2 and women[3] == 1
    drug = next(s for s in result.summaries if s.group == "drug-treatment")
    # Before: B's contacts at 30w and 36w fall in months -2 and -1 (B born at 41 weeks);
    # D's at day 10 is month 0, A's at day 40 month 1, D's at day 70 month 2.
    before_contacts = sum(
        v for (g, m), v in expected.items() if g == "drug-treatment" and -3 <= m < 0
    )
    after_contacts = sum(
        v for (g, m), v in expected.items() if g == "drug-treatment" and 0 <= m < 3
    )
    assert drug.before == pytest.approx(before_contacts / 9)
    assert drug.after == pytest.approx(after_contacts / (3 + 2 + 2))


def test_the_process_map_svg_lays_out_every_activity_and_lists_every_edge() -> None:
    from steppingstones.journeys import analytics, processmap_svg

    table = make_table(
        ["1", "1", "1", "2", "2", "2", "2", "3", "3"],
        [
            "Referral",
            "Booking",
            "Birth",
            "Booking",
            "Referral",
            "Booking",
            "Birth",
            "Referral",
            "Birth",
        ],
        pa.array([ts(date(2024, 1, d)) for d in (1, 5, 30, 2, 4, 6, 28, 3, 29)], TIMESTAMP_TYPE),
    )
    process_map = analytics.dfg(table)
    nodes, edges, _width, _height = processmap_svg.layout(process_map)
    real = {k: n for k, n in nodes.items() if not n.virtual}
    assert set(process_map.activities) <= set(real)
    for a, b, _n, _m, points, reverse in edges:
        if points and not reverse:
            assert points[0][1] < points[-1][1], (a, b)  # forward edges point down the page
    by_layer: dict[int, list] = {}
    for node in real.values():
        by_layer.setdefault(node.layer, []).append(node)
    for layer in by_layer.values():
        layer.sort(key=lambda n: n.x)
        for left, right in itertools.pairwise(layer):
            assert left.x + left.width / 2 <= right.x - right.width / 2, "boxes do not overlap"
    svg = processmap_svg.process_map_svg(process_map, title="Test map")
    assert (
        svg.count("<rect") >= 5 and 'role="img"' in svg and '<title id="pm-title">Test map' in svg
    )
    rows = processmap_svg.edge_rows(process_map)
    # Referral→Booking twice (cases 1 and 2), Booking→Referral once, and the start/end rows.
    assert ("Referral", "Booking", 2, "3.0 d") in rows
    assert ("Start", "Referral", 2, "") in rows and ("Birth", "End", 3, "") in rows
    assert processmap_svg.format_duration(90) == "2 min"
    assert processmap_svg.format_duration(3 * 3600) == "3.0 h"
    assert processmap_svg.format_duration(70 * 86400) == "10.0 wk"


def test_charts_reach_the_largest_value_and_describe_themselves() -> None:
    from steppingstones.journeys import pathway_charts

    assert pathway_charts.nice_ticks(0, 26.4)[-1] >= 26.4
    assert pathway_charts.nice_ticks(0.7, 23.7)[0] <= 0.7
    svg = pathway_charts.share_bars(
        [("Booking — EL", 0.5, 4), ("Booking — GG", None, 0)], title="T"
    )
    assert "50% of 4" in svg and "no decided cases" in svg and 'role="img"' in svg
