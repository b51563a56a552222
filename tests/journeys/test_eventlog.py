"""Event-log interchange: CSV, Parquet, XES and OCEL 2.0 JSON; bad input reported by place."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from steppingstones.journeys import analytics, eventlog, synthetic
from steppingstones.journeys.eventlog import EventLogError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "event-logs"
SEPSIS = DATA / "sepsis.csv"
HOSPITAL = DATA / "Hospital_log.xes.gz"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

needs_sepsis = pytest.mark.skipif(
    not SEPSIS.exists(), reason=f"real log {SEPSIS.name} not found beside the project (shared/)"
)
needs_hospital = pytest.mark.skipif(
    not HOSPITAL.exists(), reason=f"real log {HOSPITAL.name} not found beside the project (shared/)"
)


def read_sepsis() -> pa.Table:
    return eventlog.read_csv(
        SEPSIS, case="Case ID", activity="Activity", timestamp="Complete Timestamp"
    )


def csv_bytes(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def core(table: pa.Table) -> list[tuple[str, str, datetime]]:
    """(case, activity, timestamp) in canonical order: what every analysis sees."""
    ordered = eventlog.sort_canonical(table)
    return list(
        zip(
            ordered["case_id"].cast(pa.string()).to_pylist(),
            ordered["activity"].cast(pa.string()).to_pylist(),
            ordered["timestamp"].to_pylist(),
            strict=True,
        )
    )


# ---------------------------------------------------------------------------- real logs


@needs_sepsis
def test_sepsis_csv_keeps_the_case_named_NA() -> None:
    table = read_sepsis()
    assert table.num_rows == 15214
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    cases = set(table["case_id"].to_pylist())
    assert len(cases) == 1050
    assert "NA" in cases  # not a missing value
    assert table["seq"].to_pylist() == list(range(table.num_rows))
    first = table.slice(0, 1).to_pylist()[0]
    assert first["case_id"] == "A" and first["activity"] == "ER Registration"
    assert first["timestamp"] == datetime(2014, 10, 22, 11, 15, 41, tzinfo=UTC)
    assert first["org:group"] == "A"


@needs_hospital
def test_hospital_xes_reads_with_day_only_timestamps_and_ties() -> None:
    table = eventlog.read_xes(HOSPITAL)
    assert table.num_rows == 150291
    assert pc.count_distinct(table["case_id"]).as_py() == 1143
    # Dates only (midnight, +01:00 or +02:00): many events of a case share a timestamp.
    pairs = pc.count_distinct(
        pc.binary_join_element_wise(table["case_id"], pc.cast(table["timestamp"], pa.string()), "|")
    ).as_py()
    assert pairs < table.num_rows / 2
    assert table.schema.field("case:Age").type == pa.int64()
    assert table.schema.field("case:Start date").type == pa.timestamp("us", tz="UTC")
    first = table.slice(0, 1).to_pylist()[0]
    assert first["case_id"] == "00000000"
    assert first["activity"] == "1e consult poliklinisch"
    assert first["timestamp"] == datetime(2005, 1, 2, 23, 0, tzinfo=UTC)  # 2005-01-03 +01:00
    assert first["org:group"] == "Radiotherapy"


@needs_hospital
@pytest.mark.filterwarnings("ignore:Install the optional requirement")
def test_our_xes_reader_agrees_with_pm4pys_on_the_real_file(tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    # The first 120 traces of the real file, cut at a trace boundary: a real, smaller XES.
    with gzip.open(HOSPITAL, "rb") as f:
        text = f.read()
    cut = 0
    for _ in range(120):
        cut = text.index(b"</trace>", cut) + len(b"</trace>")
    part = tmp_path / "part.xes"
    part.write_bytes(text[:cut] + b"\n</log>\n")
    ours = eventlog.read_xes(part)
    theirs = pm4py.read_xes(str(part))
    assert ours.num_rows == len(theirs)
    assert ours["case_id"].to_pylist() == theirs["case:concept:name"].tolist()
    assert ours["activity"].to_pylist() == theirs["concept:name"].tolist()
    stamps = [t.to_pydatetime().astimezone(UTC) for t in theirs["time:timestamp"]]
    assert ours["timestamp"].to_pylist() == stamps


# ---------------------------------------------------------------------------- CSV


def test_csv_reads_sniffed_delimiter_bytes_and_gzip() -> None:
    data = csv_bytes(
        "case;act;when;site",
        "NA;Referral;2020/01/02 10:00:00.000;North",
        "NA;Booking;2020-01-05;",
        "b;Referral;2020-01-03T08:00:00+01:00;South",
    )
    for source in (data, gzip.compress(data), io.BytesIO(data)):
        table = eventlog.read_csv(source, case="case", activity="act", timestamp="when", now=NOW)
        assert table.column_names == ["case_id", "activity", "timestamp", "seq", "site"]
        assert table["case_id"].to_pylist() == ["NA", "NA", "b"]
        assert table["timestamp"].to_pylist() == [
            datetime(2020, 1, 2, 10, tzinfo=UTC),
            datetime(2020, 1, 5, tzinfo=UTC),
            datetime(2020, 1, 3, 7, tzinfo=UTC),
        ]
        assert table["site"].to_pylist() == ["North", None, "South"]


def test_csv_bad_rows_are_reported_with_their_row_and_nothing_is_imported() -> None:
    data = csv_bytes(
        "case_id,activity,timestamp",
        "a,Referral,2020-01-01",  # row 2: fine
        ",Booking,2020-01-02",  # row 3: no case
        "a,Booking,",  # row 4: no date
        "a,Birth,31/31/2020",  # row 5: not a date
        "a,Discharge,2099-01-01T00:00:00Z",  # row 6: in the future
        "a,,2020-01-03",  # row 7: no activity
    )
    with pytest.raises(EventLogError) as caught:
        eventlog.read_csv(data, now=NOW)
    found = {(p.row, p.message) for p in caught.value.problems}
    assert (3, "no case") in found
    assert (4, "no date") in found
    assert (5, "date '31/31/2020' not understood") in found
    assert (6, "date 2099-01-01T00:00:00.000000+00:00 is in the future") in found
    assert (7, "no activity") in found
    assert caught.value.count == 5
    assert caught.value.row == 3
    assert "row 3: no case" in str(caught.value)


def test_csv_future_dates_can_be_allowed_and_naive_times_localised() -> None:
    data = csv_bytes("case_id,activity,timestamp", "a,Booking,2099-01-01 12:00")
    table = eventlog.read_csv(data, now=NOW, allow_future=True)
    assert table["timestamp"][0].as_py() == datetime(2099, 1, 1, 12, tzinfo=UTC)
    data = csv_bytes("case_id,activity,timestamp", "a,Booking,2020-07-01 12:00")
    table = eventlog.read_csv(data, now=NOW, naive_timezone="Europe/London")
    assert table["timestamp"][0].as_py() == datetime(2020, 7, 1, 11, tzinfo=UTC)


def test_csv_explicit_timestamp_format() -> None:
    data = csv_bytes("case_id,activity,timestamp", "a,Booking,02/01/2020 10:30", "a,Birth,x")
    with pytest.raises(EventLogError) as caught:
        eventlog.read_csv(data, timestamp_format="%d/%m/%Y %H:%M", now=NOW)
    assert [(p.row, p.message) for p in caught.value.problems] == [(3, "date 'x' not understood")]
    table = eventlog.read_csv(data[: data.rindex(b"a,Birth")], timestamp_format="%d/%m/%Y %H:%M")
    assert table["timestamp"][0].as_py() == datetime(2020, 1, 2, 10, 30, tzinfo=UTC)


def test_csv_rows_with_the_wrong_number_of_fields_are_reported() -> None:
    data = csv_bytes("case_id,activity,timestamp", "a,Referral,2020-01-01", "a,Booking", "b,x,y,z")
    with pytest.raises(EventLogError) as caught:
        eventlog.read_csv(data, now=NOW)
    assert [p.row for p in caught.value.problems] == [3, 4]
    assert "2 fields where the header has 3" in caught.value.problems[0].message


def test_csv_missing_columns_and_empty_file() -> None:
    with pytest.raises(EventLogError, match="no column 'timestamp'") as caught:
        eventlog.read_csv(csv_bytes("case_id,activity,date", "a,b,2020-01-01"))
    assert caught.value.row == 1
    with pytest.raises(EventLogError, match="empty"):
        eventlog.read_csv(b"")


def test_csv_round_trip(tmp_path: Path) -> None:
    table = synthetic.generate(50, seed=4)
    path = tmp_path / "log.csv.gz"
    eventlog.write_csv(table, path)
    back = eventlog.read_csv(path, now=NOW)
    assert core(back) == core(table)
    assert back["site"].to_pylist() == table["site"].cast(pa.string()).to_pylist()
    assert back["seq"].to_pylist() == table["seq"].to_pylist()


# ---------------------------------------------------------------------------- Parquet


def test_parquet_round_trip_keeps_seq_types_and_the_synthetic_label(tmp_path: Path) -> None:
    table = synthetic.generate(100, seed=5)
    shuffled = table.take(pa.array(list(range(table.num_rows))[::-1]))
    path = tmp_path / "log.parquet"
    eventlog.write_parquet(shuffled, path)
    back = eventlog.read_parquet(path, now=NOW)
    assert back["seq"].to_pylist() == shuffled["seq"].to_pylist()
    assert core(back) == core(table)
    assert synthetic.is_synthetic(back)
    buffer = io.BytesIO()
    eventlog.write_parquet(table, buffer)
    assert eventlog.read_parquet(buffer.getvalue(), now=NOW).num_rows == table.num_rows


def test_parquet_with_text_dates_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(
        pa.table(
            {
                "patient": ["p1", "p1", None],
                "step": ["Referral", "Birth", "Birth"],
                "at": ["2020-01-01", "soon", "2020-02-01"],
            }
        ),
        path,
    )
    with pytest.raises(EventLogError) as caught:
        eventlog.read_parquet(path, case="patient", activity="step", timestamp="at", now=NOW)
    assert [(p.row, p.message) for p in caught.value.problems] == [
        (2, "date 'soon' not understood"),
        (3, "no case"),
    ]
    pq.write_table(pa.table({"case_id": ["a"], "activity": ["x"], "timestamp": ["2020"]}), path)
    with pytest.raises(EventLogError):
        eventlog.read_parquet(path, now=NOW)


def test_parquet_seq_must_be_unique(tmp_path: Path) -> None:
    path = tmp_path / "seq.parquet"
    pq.write_table(
        pa.table(
            {
                "case_id": ["a", "a"],
                "activity": ["x", "y"],
                "timestamp": pa.array([0, 0], pa.timestamp("s")),
                "seq": [1, 1],
            }
        ),
        path,
    )
    with pytest.raises(EventLogError, match="repeats values"):
        eventlog.read_parquet(path, now=NOW)


# ---------------------------------------------------------------------------- XES


def test_xes_round_trip_keeps_events_order_and_typed_attributes(tmp_path: Path) -> None:
    ts = pa.array(
        [datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)] * 2,
        pa.timestamp("us", tz="UTC"),
    )
    table = pa.table(
        {
            "case_id": ["c1", "c1", "c2", "c2"],
            # Same timestamp within each case: the source order (seq) decides.
            "activity": ["Birth", "Discharge", "Discharge & <care>", "Separation"],
            "timestamp": ts,
            "seq": [0, 1, 3, 2],
            "org:resource": ["midwife", None, 'nurse "A"', "social worker"],
            "weight": pa.array([3.2, None, 2.9, None]),
            "visits": pa.array([1, 2, 3, 4], pa.int64()),
            "urgent": pa.array([True, False, None, True]),
            "case:region": ["North", "North", "South", "South"],
            "case:booked": pa.array([datetime(2019, 6, 1, 9, 30, tzinfo=UTC)] * 4),
        }
    )
    path = tmp_path / "log.xes.gz"
    eventlog.write_xes(table, path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    back = eventlog.read_xes(path, now=NOW)
    assert core(back) == core(table)
    # c2's events were in source order Separation (seq 2) then Discharge (seq 3).
    assert back["activity"].to_pylist() == [
        "Birth",
        "Discharge",
        "Separation",
        "Discharge & <care>",
    ]
    assert back.schema.field("weight").type == pa.float64()
    assert back.schema.field("visits").type == pa.int64()
    assert back.schema.field("urgent").type == pa.bool_()
    assert back.schema.field("case:booked").type == pa.timestamp("us", tz="UTC")
    assert back["org:resource"].to_pylist() == ["midwife", None, "social worker", 'nurse "A"']
    assert back["case:region"].to_pylist() == ["North", "North", "South", "South"]
    assert back["visits"].to_pylist() == [1, 2, 4, 3]


def test_xes_round_trip_of_a_synthetic_log_gives_the_same_analytics(tmp_path: Path) -> None:
    table = synthetic.generate(300, seed=6)
    buffer = io.BytesIO()
    eventlog.write_xes(table, buffer)
    back = eventlog.read_xes(buffer.getvalue(), now=NOW)
    assert core(back) == core(table)
    assert analytics.dfg(back) == analytics.dfg(table)
    assert analytics.variants(back) == analytics.variants(table)
    assert b'key="synthetic" value="true"' in buffer.getvalue()


XES_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n'


def xes(body: str) -> bytes:
    return (XES_HEAD + body + "</log>\n").encode()


def trace(name: str | None, *events: str) -> str:
    named = f'<string key="concept:name" value="{name}"/>' if name is not None else ""
    return f"<trace>{named}{''.join(events)}</trace>\n"


def event(activity: str | None, when: str | None, extra: str = "") -> str:
    parts = []
    if activity is not None:
        parts.append(f'<string key="concept:name" value="{activity}"/>')
    if when is not None:
        parts.append(f'<date key="time:timestamp" value="{when}"/>')
    return f"<event>{''.join(parts)}{extra}</event>"


def test_xes_bad_events_are_reported_by_trace_and_event() -> None:
    data = xes(
        trace("a", event("Referral", "2020-01-01T00:00:00Z"), event("Booking", None))
        + trace(None, event("Referral", "2020-01-01T00:00:00Z"))
        + trace(
            "c",
            event("Referral", "2020-13-01T00:00:00Z"),
            event(None, "2020-01-02T00:00:00Z"),
            event("Birth", "2020-01-03T00:00:00Z", '<int key="n" value="many"/>'),
            event("Birth", "2030-01-03T00:00:00Z"),
        )
    )
    with pytest.raises(EventLogError) as caught:
        eventlog.read_xes(data, now=NOW)
    found = {(p.element, p.message) for p in caught.value.problems}
    assert ("trace 1 (case 'a'), event 2", "no date") in found
    assert ("trace 2", "trace without concept:name (no case)") in found
    assert ("trace 3 (case 'c'), event 1", "date '2020-13-01T00:00:00Z' not understood") in found
    assert ("trace 3 (case 'c'), event 2", "no activity") in found
    assert ("trace 3 (case 'c'), event 3", "n: int 'many' not understood") in found
    assert (
        "trace 3 (case 'c'), event 4",
        "date 2030-01-03T00:00:00.000000+00:00 is in the future",
    ) in found
    assert caught.value.count == 6


def test_malformed_xes_is_reported_with_its_place() -> None:
    good = xes(trace("a", event("Referral", "2020-01-01T00:00:00Z")))
    truncated = good[: good.index(b"</event>") + 3]
    with pytest.raises(EventLogError) as caught:
        eventlog.read_xes(truncated)
    problem = caught.value.problems[0]
    assert problem.message.startswith("malformed XML")
    assert problem.element == "trace 1, event 1"
    assert problem.line == 3
    mismatched = good.replace(b"</trace>", b"</traces>")
    with pytest.raises(EventLogError, match="mismatched tag") as caught:
        eventlog.read_xes(mismatched)
    assert caught.value.problems[0].line == 3
    with pytest.raises(EventLogError, match="root element is <html>"):
        eventlog.read_xes(b"<html><body/></html>")
    with pytest.raises(EventLogError, match="malformed XML"):
        eventlog.read_xes(b"")


def test_xes_with_entities_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        b'<log><trace><string key="concept:name" value="&lol2;"/></trace></log>'
    )
    with pytest.raises(EventLogError, match="refused") as caught:
        eventlog.read_xes(laughs)
    assert caught.value.element == "DTD (entities are not allowed)"
    external = (
        b'<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b'<log><trace><string key="concept:name" value="&x;"/></trace></log>'
    )
    with pytest.raises(EventLogError, match="refused"):
        eventlog.read_xes(external)


def test_xes_nested_and_log_level_attributes_are_not_events() -> None:
    data = xes(
        '<global scope="event"><string key="concept:name" value="__INVALID__"/></global>'
        '<string key="source" value="test"/>'
        + trace(
            "a",
            event(
                "Referral",
                "2020-01-01T00:00:00.000+01:00",
                '<list key="l"><values><string key="x" value="1"/></values></list>'
                '<string key="outer" value="o"><string key="inner" value="i"/></string>',
            ),
        )
    )
    table = eventlog.read_xes(data, now=NOW)
    assert table.num_rows == 1
    assert table["timestamp"][0].as_py() == datetime(2019, 12, 31, 23, tzinfo=UTC)
    assert table["outer"].to_pylist() == ["o"]
    assert "inner" not in table.column_names and "x" not in table.column_names


# ---------------------------------------------------------------------------- OCEL 2.0


def test_ocel_round_trip(tmp_path: Path) -> None:
    table = synthetic.generate(80, seed=7)
    table = table.append_column("case:site", table["site"].cast(pa.string())).append_column(
        "weight", pa.array([float(i % 5) for i in range(table.num_rows)])
    )
    path = tmp_path / "log.jsonocel"
    eventlog.write_ocel_json(table, path)
    document = json.loads(path.read_text())
    assert set(document) == {"objectTypes", "eventTypes", "objects", "events"}
    assert document["objectTypes"][0]["name"] == "case"
    assert len(document["objects"]) == 80
    assert document["events"][0]["relationships"] == [
        {"objectId": document["events"][0]["relationships"][0]["objectId"], "qualifier": "case"}
    ]
    back = eventlog.read_ocel_json(path, now=NOW)
    assert core(back) == core(table)
    assert back.schema.field("weight").type == pa.float64()
    ordered = eventlog.sort_canonical(table)
    back_ordered = eventlog.sort_canonical(back)
    assert back_ordered["case:site"].to_pylist() == ordered["case:site"].to_pylist()
    assert back_ordered["weight"].to_pylist() == ordered["weight"].to_pylist()
    assert back_ordered["site"].to_pylist() == ordered["site"].cast(pa.string()).to_pylist()
    # Writing what was read gives the same document again (ids kept through ocel:eid).
    again = tmp_path / "again.jsonocel"
    eventlog.write_ocel_json(back, again)
    assert json.loads(again.read_text())["events"] == document["events"]


def ocel(events: list[dict[str, Any]], objects: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"objectTypes": [], "eventTypes": [], "objects": objects, "events": events}
    ).encode()


def test_ocel_flattening_on_an_object_type_and_its_problems() -> None:
    objects = [
        {"id": "m1", "type": "mother"},
        {"id": "i1", "type": "infant"},
        {"id": "i2", "type": "infant"},
    ]
    events = [
        {
            "id": "e1",
            "type": "Birth",
            "time": "2020-01-01T10:00:00Z",
            "relationships": [{"objectId": "m1"}, {"objectId": "i1"}, {"objectId": "i2"}],
        },
        {
            "id": "e2",
            "type": "NAS treatment",
            "time": "2020-01-02T10:00:00Z",
            "relationships": [{"objectId": "i2"}],
        },
        {
            "id": "e3",
            "type": "Booking",
            "time": "2019-06-01T10:00:00Z",
            "relationships": [{"objectId": "m1"}],
        },
    ]
    with pytest.raises(EventLogError, match="choose object_type"):
        eventlog.read_ocel_json(ocel(events, objects), now=NOW)
    infants = eventlog.read_ocel_json(ocel(events, objects), object_type="infant", now=NOW)
    assert core(infants) == [
        ("i1", "Birth", datetime(2020, 1, 1, 10, tzinfo=UTC)),
        ("i2", "Birth", datetime(2020, 1, 1, 10, tzinfo=UTC)),
        ("i2", "NAS treatment", datetime(2020, 1, 2, 10, tzinfo=UTC)),
    ]
    bad = [
        {"id": "e1", "type": "Birth", "relationships": [{"objectId": "i1"}]},
        {
            "id": "e2",
            "type": "Birth",
            "time": "2020-01-01T10:00:00Z",
            "relationships": [{"objectId": "ghost"}],
        },
    ]
    with pytest.raises(EventLogError) as caught:
        eventlog.read_ocel_json(ocel(bad, objects), object_type="infant", now=NOW)
    found = {(p.element, p.message) for p in caught.value.problems}
    assert ("events[1] (id 'e2')", "relationship to unknown object 'ghost'") in found
    assert ("events[0] (id 'e1')", "no date") in found
    with pytest.raises(EventLogError, match="malformed JSON"):
        eventlog.read_ocel_json(b'{"events": [')


# ---------------------------------------------------------------------------- helpers


def test_validate_a_canonical_table() -> None:
    table = pa.table(
        {
            "case_id": ["a", None],
            "activity": ["x", "y"],
            "timestamp": pa.array(
                [None, datetime(2020, 1, 1, tzinfo=UTC)], eventlog.TIMESTAMP_TYPE
            ),
            "seq": [0, 0],
        }
    )
    problems = eventlog.validate(table, now=NOW)
    assert [str(p) for p in problems] == [
        "row 1: no date",
        "row 2: no case",
        "seq is not unique: it must order the events of the source",
    ]
    assert eventlog.validate(synthetic.generate(20, 1), now=NOW) == []


def test_parse_timestamps_formats() -> None:
    values = pa.array(
        [
            "2014-10-22T11:15:41.000+01:00",
            "2014-10-22 11:15:41",
            "2014-10-22",
            "2014/10/22 11:15:41.500",
            "2014-10-22T11:15:41Z",
            "2014-10-22T11:15:41.123456789Z",
            "yesterday",
            None,
        ]
    )
    parsed, bad = eventlog.parse_timestamps(values)
    assert parsed.to_pylist() == [
        datetime(2014, 10, 22, 10, 15, 41, tzinfo=UTC),
        datetime(2014, 10, 22, 11, 15, 41, tzinfo=UTC),
        datetime(2014, 10, 22, tzinfo=UTC),
        datetime(2014, 10, 22, 11, 15, 41, 500000, tzinfo=UTC),
        datetime(2014, 10, 22, 11, 15, 41, tzinfo=UTC),
        datetime(2014, 10, 22, 11, 15, 41, 123456, tzinfo=UTC),
        None,
        None,
    ]
    assert bad.tolist() == [6]
