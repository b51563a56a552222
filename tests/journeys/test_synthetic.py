"""Synthetic perinatal event logs: deterministic, labelled, realistic enough to demo on."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steppingstones.journeys import analytics, eventlog, synthetic


def test_same_seed_same_table_other_seed_other_table() -> None:
    a = synthetic.generate(2000, seed=42)
    b = synthetic.generate(2000, seed=42)
    assert a.equals(b, check_metadata=True)
    c = synthetic.generate(2000, seed=43)
    assert not a.equals(c)
    # A smaller log is not a prefix of a larger one, but it is just as deterministic.
    assert synthetic.generate(10, seed=42).equals(synthetic.generate(10, seed=42))


def test_clearly_labelled_synthetic() -> None:
    table = synthetic.generate(500, seed=1)
    assert synthetic.is_synthetic(table)
    meta = table.schema.metadata
    assert meta[b"generator"] == b"steppingstones.journeys.synthetic"
    assert meta[b"seed"] == b"1"
    assert b"SYNTHETIC" in meta[b"description"]
    cases = table["case_id"].cast(pa.string()).to_pylist()
    assert all(c.startswith("SYN-") for c in cases)
    assert all(s.startswith("Synthetic site ") for s in table["site"].cast(pa.string()).to_pylist())
    assert all(
        r.startswith("Synthetic region ") for r in table["region"].cast(pa.string()).to_pylist()
    )
    assert not synthetic.is_synthetic(table.replace_schema_metadata(None))


def test_canonical_valid_and_in_source_order() -> None:
    table = synthetic.generate(3000, seed=2)
    assert table.column_names[:4] == ["case_id", "activity", "timestamp", "seq"]
    assert table["seq"].to_pylist() == list(range(table.num_rows))
    assert eventlog.sort_canonical(table)["seq"].to_pylist() == list(range(table.num_rows))
    assert eventlog.validate(table, now=datetime(2026, 1, 1, tzinfo=UTC)) == []
    assert 19 <= table.num_rows / 3000 <= 21  # about 20 events a case


def test_journeys_look_like_perinatal_pathways() -> None:
    table = synthetic.generate(5000, seed=3)
    assert set(table["activity"].cast(pa.string()).to_pylist()) == set(synthetic.ACTIVITIES)
    prepared = analytics.prepare(table)
    process_map = analytics.dfg(prepared)
    # Every journey has one referral, one birth and one discharge.
    for once in ("Referral", "Birth", "Discharge"):
        assert process_map.activities[once] == 5000
    # Most start at referral (some booked first); all end after birth.
    starts = process_map.start_activities
    assert max(starts, key=lambda a: starts[a]) == "Referral"
    assert set(starts) <= {"Referral", "Booking"}
    assert "Referral" not in process_map.end_activities
    birth_to_discharge = analytics.milestone_times(prepared, "Birth", "Discharge")
    assert birth_to_discharge.cases_reached == 5000
    assert birth_to_discharge.median_seconds is not None
    assert 1 * 86400 < birth_to_discharge.median_seconds < 7 * 86400
    referral_to_birth = analytics.milestone_times(prepared, "Referral", "Birth")
    assert referral_to_birth.median_seconds is not None
    assert 10 * 7 * 86400 < referral_to_birth.median_seconds < 30 * 7 * 86400
    # Separations happen, some at discharge (the same timestamp, discharge first in source).
    assert ("Discharge", "Separation") in process_map.counts()
    assert ("Separation", "Discharge") not in process_map.counts()
    variants = analytics.variants(prepared)
    assert 100 < len(variants) < 5000


def test_sites_regions_and_date_only_recording() -> None:
    table = synthetic.generate(20000, seed=4)
    sites = Counter(table["site"].cast(pa.string()).to_pylist())
    regions = set(table["region"].cast(pa.string()).to_pylist())
    assert len(regions) == synthetic.N_REGIONS
    assert len(sites) > 100
    assert max(sites.values()) > 5 * min(sites.values())  # sites differ in size
    micros = pc.cast(table["timestamp"], pa.int64()).to_numpy()
    midnight = micros % (86400 * 10**6) == 0
    assert 0.15 < midnight.mean() < 0.6  # about a third of sites record dates only
    # Date-only recording gives ties inside cases.
    case = table["case_id"].combine_chunks().indices.to_numpy()
    tie = (case[1:] == case[:-1]) & (micros[1:] == micros[:-1])
    assert tie.sum() > 1000
    site_of_case: dict[int, str] = {}
    for c, s in zip(case.tolist(), table["site"].cast(pa.string()).to_pylist(), strict=True):
        assert site_of_case.setdefault(c, s) == s  # one site per case


def test_case_ids_and_large_sizes_are_cheap() -> None:
    assert synthetic.case_ids(3).to_pylist() == ["SYN-0000001", "SYN-0000002", "SYN-0000003"]
    assert synthetic.case_ids(12_345_678)[-1].as_py() == "SYN-12345678"
    table = synthetic.generate(50_000, seed=5)
    assert table.nbytes < 40 * table.num_rows  # dictionary-encoded: compact
    assert np.all(np.diff(table["seq"].to_numpy()) == 1)
