"""Event logs: the canonical table, import and export, and the checks every import passes.

The canonical event log is an Arrow table with four columns first:

``case_id``   string (or dictionary-encoded string): the case, e.g. one mother–infant journey
``activity``  string (or dictionary-encoded string): what happened
``timestamp`` ``timestamp[us, tz=UTC]``: when; naive source times are taken as ``naive_timezone``
``seq``       int64: the event's place in the source (row of a CSV, event of an XES file), which
              orders events of one case that share a timestamp. Analyses order events by
              ``(case_id, timestamp, seq)`` and nothing else, so shuffling rows changes nothing.

Any further column is an attribute of the event; attributes of the case (XES trace attributes,
OCEL object attributes) are named ``case:<key>``.

Readers: :func:`read_csv`, :func:`read_parquet`, :func:`read_xes` (IEEE 1849 XES, plain or
gzipped, parsed as a stream with entity declarations and external references refused) and
:func:`read_ocel_json` (OCEL 2.0 JSON, flattened on one object type). Writers: :func:`write_csv`,
:func:`write_parquet`, :func:`write_xes`, :func:`write_ocel_json`.

An import is all-or-nothing: it returns a whole table or raises :class:`EventLogError`, whose
``problems`` name each bad row (CSV and Parquet rows count from 1; a CSV header is row 1, as in
a spreadsheet) or element (``trace 3 (case '17'), event 5`` for XES, ``events[12]`` for OCEL).
An event without a case, an activity or a date, a date that cannot be read, and a date in the
future (later than ``now``, by default the time of the import) are problems.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, cast
from xml.parsers import expat
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from defusedxml import DefusedXmlException
from defusedxml.common import EntitiesForbidden, ExternalReferenceForbidden

CASE = "case_id"
ACTIVITY = "activity"
TIMESTAMP = "timestamp"
SEQ = "seq"
CANONICAL = (CASE, ACTIVITY, TIMESTAMP, SEQ)
CASE_PREFIX = "case:"
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
MAX_PROBLEMS = 1000  # problems kept on an error; all are counted

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
Destination = str | os.PathLike[str] | BinaryIO


# --------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where: a ``row`` or an ``element`` (and a ``line``)."""

    message: str
    row: int | None = None
    element: str | None = None
    line: int | None = None

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.element is not None:
            parts.append(self.element)
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class EventLogError(ValueError):
    """An event log that cannot be imported (or exported), with every problem found.

    ``problems`` holds the first :data:`MAX_PROBLEMS`; ``count`` counts them all. ``row`` and
    ``element`` are those of the first problem.
    """

    def __init__(self, problems: Sequence[Problem] | str, *, count: int | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: list[Problem] = list(problems)[:MAX_PROBLEMS]
        self.count = max(count or 0, len(problems))
        shown = "; ".join(str(p) for p in self.problems[:10])
        more = f" (and {self.count - 10} more)" if self.count > 10 else ""
        noun = "problem" if self.count == 1 else "problems"
        super().__init__(f"{self.count} {noun} in the event log: {shown}{more}")

    @property
    def row(self) -> int | None:
        return self.problems[0].row if self.problems else None

    @property
    def element(self) -> str | None:
        return self.problems[0].element if self.problems else None


class _Problems:
    """Collects problems up to :data:`MAX_PROBLEMS`, counting the rest."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.count = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(problem)

    def raise_if_any(self) -> None:
        if self.count:
            raise EventLogError(self.items, count=self.count)


# --------------------------------------------------------------------------------------------
# Timestamps


_OFFSET_RE = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"
_SLASH_DATE_RE = r"^(\d{4})/(\d{2})/(\d{2})"


def _now_us(now: datetime | None) -> int:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return _datetime_us(now)


def _datetime_us(value: datetime) -> int:
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _parse_one(text: str, zone: ZoneInfo | None) -> int | None:
    """One ISO 8601 timestamp (or ``YYYY/MM/DD …``) as microseconds since the epoch, or None."""
    text = text.strip()
    if re.match(_SLASH_DATE_RE, text):
        text = text[:10].replace("/", "-") + text[10:]
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or UTC)
    return _datetime_us(value)


def parse_timestamps(
    values: pa.Array | pa.ChunkedArray,
    *,
    timestamp_format: str | None = None,
    naive_timezone: str = "UTC",
) -> tuple[pa.Array, np.ndarray]:
    """Strings to ``timestamp[us, UTC]``; returns the array and the indices that did not parse.

    Without ``timestamp_format`` it reads ISO 8601 with or without an offset, with ``T`` or a
    space, down to a date alone (``2014-10-22`` is midnight), and ``2014/10/22 11:15:41.000``.
    Times without an offset are taken to be in ``naive_timezone``. A value that does not parse
    is null in the array and its index is returned; a null stays null and is not reported.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    values = pc.utf8_trim_whitespace(values)
    was_null = values.is_null().to_numpy(zero_copy_only=False)
    if timestamp_format is not None:
        parsed = pc.strptime(values, format=timestamp_format, unit="us", error_is_null=True)
        if parsed.type.tz is None:
            parsed = pc.assume_timezone(parsed, naive_timezone)
        parsed = parsed.cast(TIMESTAMP_TYPE)
        bad = np.flatnonzero(parsed.is_null().to_numpy(zero_copy_only=False) & ~was_null)
        return parsed, bad
    # Parse each distinct string once: real logs repeat timestamps (day-only dates) a lot.
    encoded = pc.dictionary_encode(values)
    uniques = encoded.dictionary
    indices = encoded.indices
    parsed_uniques, bad_uniques = _parse_uniques(uniques, naive_timezone)
    parsed = parsed_uniques.take(indices)
    if bad_uniques.size:
        bad_mask = np.zeros(len(uniques), dtype=bool)
        bad_mask[bad_uniques] = True
        idx = pc.fill_null(indices, 0).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(~was_null & bad_mask[idx])
    else:
        bad = np.zeros(0, dtype=np.int64)
    return parsed, bad


def _parse_uniques(uniques: pa.Array, naive_timezone: str) -> tuple[pa.Array, np.ndarray]:
    """Vectorised parse of distinct strings; falls back to one by one only where Arrow fails."""
    norm = pc.replace_substring_regex(uniques, _SLASH_DATE_RE, r"\1-\2-\3")
    aware = pc.match_substring_regex(norm, _OFFSET_RE).to_numpy(zero_copy_only=False)
    out = np.zeros(len(norm), dtype=np.int64)
    ok = np.ones(len(norm), dtype=bool)
    for mask, tz_aware in ((aware, True), (~aware, False)):
        where = np.flatnonzero(mask)
        if not where.size:
            continue
        part = norm.take(pa.array(where))
        try:
            if tz_aware:
                stamps = pc.cast(part, TIMESTAMP_TYPE)
            else:
                stamps = pc.cast(part, pa.timestamp("us"))
                if naive_timezone != "UTC":
                    stamps = pc.assume_timezone(stamps, naive_timezone)
            out[where] = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            zone = ZoneInfo(naive_timezone)
            for i, text in zip(where, part.to_pylist(), strict=True):
                value = _parse_one(text, zone)
                if value is None:
                    ok[i] = False
                else:
                    out[i] = value
    parsed = pa.array(out, type=pa.int64(), mask=~ok).cast(TIMESTAMP_TYPE)
    return parsed, np.flatnonzero(~ok)


def format_timestamps(values: pa.Array | pa.ChunkedArray) -> list[str | None]:
    """``timestamp[us, UTC]`` values as ISO 8601 strings with ``+00:00``."""
    values = pc.cast(values, TIMESTAMP_TYPE)
    text = pc.strftime(values, format="%Y-%m-%dT%H:%M:%S", locale="C")
    out: list[str | None] = [None if s is None else s + "+00:00" for s in text.to_pylist()]
    return out


def _to_utc(column: pa.Array | pa.ChunkedArray, naive_timezone: str) -> pa.ChunkedArray:
    """A typed date or timestamp column as ``timestamp[us, UTC]``."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if pa.types.is_date(column.type):
        column = pc.cast(column, pa.timestamp("us"))
    if column.type.tz is None:
        if naive_timezone != "UTC":
            column = pc.assume_timezone(column, naive_timezone)
        else:
            column = pc.cast(column, pa.timestamp(column.type.unit, tz="UTC"))
    return pc.cast(column, TIMESTAMP_TYPE)


# --------------------------------------------------------------------------------------------
# The canonical table and its checks


def _string_column(column: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    return column


def _missing(column: pa.ChunkedArray) -> np.ndarray:
    """Indices where a string column is null or blank."""
    blank = pc.or_kleene(column.is_null(), pc.equal(pc.utf8_trim_whitespace(column), ""))
    return np.flatnonzero(pc.fill_null(blank, True).to_numpy(zero_copy_only=False))


def check_events(
    case: pa.ChunkedArray,
    activity: pa.ChunkedArray,
    timestamp: pa.ChunkedArray,
    *,
    unreadable: np.ndarray | None = None,
    raw_timestamp: pa.Array | pa.ChunkedArray | None = None,
    now: datetime | None = None,
    allow_future: bool = False,
) -> list[tuple[int, str]]:
    """Event indices with what is wrong: no case, no activity, no or unreadable date, future date.

    ``unreadable`` lists dates that were present but did not parse (``raw_timestamp`` gives
    their text for the message). Returns ``(index, message)`` sorted by index.
    """
    found: list[tuple[int, str]] = []
    for i in _missing(case):
        found.append((int(i), "no case"))
    for i in _missing(activity):
        found.append((int(i), "no activity"))
    unreadable = np.zeros(0, np.int64) if unreadable is None else unreadable
    raw = None
    if raw_timestamp is not None and unreadable.size:
        raw = raw_timestamp.take(pa.array(unreadable[:MAX_PROBLEMS])).to_pylist()
    for j, i in enumerate(unreadable):
        text = raw[j] if raw is not None and j < len(raw) else None
        found.append((int(i), f"date {text!r} not understood" if text else "date not understood"))
    null_ts = np.flatnonzero(timestamp.is_null().to_numpy(zero_copy_only=False))
    if unreadable.size:
        null_ts = np.setdiff1d(null_ts, unreadable)
    for i in null_ts:
        found.append((int(i), "no date"))
    if not allow_future and len(timestamp):
        limit = pa.scalar(_now_us(now), pa.int64()).cast(TIMESTAMP_TYPE)
        future = pc.fill_null(pc.greater(timestamp, limit), False)
        where = np.flatnonzero(future.to_numpy(zero_copy_only=False))
        if where.size:
            shown = format_timestamps(timestamp.take(pa.array(where[:MAX_PROBLEMS])))
            for j, i in enumerate(where):
                text = shown[j] if j < len(shown) else None
                found.append((int(i), f"date {text} is in the future" if text else "future date"))
    found.sort(key=lambda item: item[0])
    return found


def validate(
    table: pa.Table, *, now: datetime | None = None, allow_future: bool = False
) -> list[Problem]:
    """The problems of a canonical table, by row (1-based), as the readers report them."""
    missing = [c for c in CANONICAL if c not in table.column_names]
    if missing:
        return [Problem(f"no column {name!r}") for name in missing]
    problems = [
        Problem(message, row=i + 1)
        for i, message in check_events(
            _string_column(table[CASE]),
            _string_column(table[ACTIVITY]),
            table[TIMESTAMP],
            now=now,
            allow_future=allow_future,
        )
    ]
    if pc.count_distinct(table[SEQ]).as_py() != table.num_rows:
        problems.append(Problem("seq is not unique: it must order the events of the source"))
    return problems


def _arrow(values: Any) -> pa.Array | pa.ChunkedArray:
    return values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)


def make_table(
    case: Any,
    activity: Any,
    timestamp: Any,
    seq: Any = None,
    attributes: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> pa.Table:
    """Assemble a canonical table from Arrow arrays or sequences (no checks: the readers check
    before they call this). ``seq`` defaults to the given order."""
    n = len(case)
    columns: dict[str, Any] = {
        CASE: _string_column(_arrow(case)),
        ACTIVITY: _string_column(_arrow(activity)),
        TIMESTAMP: pc.cast(_arrow(timestamp), TIMESTAMP_TYPE),
        SEQ: pa.array(np.arange(n, dtype=np.int64))
        if seq is None
        else pc.cast(_arrow(seq), pa.int64()),
    }
    for name, column in (attributes or {}).items():
        key = name if name not in columns else f"source:{name}"
        columns[key] = _arrow(column)
    table = pa.table(columns)
    if metadata:
        table = table.replace_schema_metadata(metadata)
    return table


def sort_canonical(table: pa.Table) -> pa.Table:
    """Rows in canonical order: case, then timestamp, then source sequence."""
    keys = [(CASE, "ascending"), (TIMESTAMP, "ascending"), (SEQ, "ascending")]
    plain = table.select([CASE, TIMESTAMP, SEQ])
    if pa.types.is_dictionary(plain.schema.field(CASE).type):
        plain = plain.set_column(0, CASE, _string_column(plain[CASE]))
    return table.take(pc.sort_indices(plain, sort_keys=keys))


def _raise_for(found: list[tuple[int, str]], place: Callable[[int], Problem]) -> None:
    problems = _Problems()
    for i, message in found:
        base = place(i)
        problems.add(Problem(message, row=base.row, element=base.element, line=base.line))
    problems.raise_if_any()


# --------------------------------------------------------------------------------------------
# Sources


@contextlib.contextmanager
def _binary(source: Source) -> Iterator[IO[bytes]]:
    """A binary stream over a path, bytes or a file, gunzipped when it starts like gzip."""
    opened: IO[bytes] | None = None
    stream: Any
    if isinstance(source, bytes | bytearray | memoryview):
        stream = io.BytesIO(bytes(source))
    elif isinstance(source, str | os.PathLike):
        opened = stream = open(source, "rb")  # noqa: SIM115 - closed below
    else:
        stream = source
    try:
        if not stream.seekable():
            stream = io.BufferedReader(stream)
            head = stream.peek(2)[:2]
        else:
            start = stream.tell()
            head = stream.read(2)
            stream.seek(start)
        if head == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
                yield cast(IO[bytes], unzipped)
        else:
            yield stream
    finally:
        if opened is not None:
            opened.close()


@contextlib.contextmanager
def _output(dest: Destination, *, compress: bool | None = None) -> Iterator[IO[bytes]]:
    """A binary stream to a path or file; gzipped for ``.gz`` paths or ``compress=True``."""
    if isinstance(dest, str | os.PathLike):
        path = Path(dest)
        if compress is None:
            compress = path.suffix == ".gz"
        with open(path, "wb") as raw:
            if compress:
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
                    yield cast(IO[bytes], zipped)
            else:
                yield raw
    else:
        if compress:
            with gzip.GzipFile(fileobj=dest, mode="wb", mtime=0) as zipped:
                yield cast(IO[bytes], zipped)
        else:
            yield dest


# --------------------------------------------------------------------------------------------
# CSV


def _sniff(header: str, delimiter: str | None) -> tuple[str, list[str]]:
    if delimiter is None:
        counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    names = next(csv.reader([header], delimiter=delimiter))
    return delimiter, names


def read_csv(
    source: Source,
    *,
    case: str = CASE,
    activity: str = ACTIVITY,
    timestamp: str = TIMESTAMP,
    delimiter: str | None = None,
    timestamp_format: str | None = None,
    naive_timezone: str = "UTC",
    encoding: str = "utf-8",
    now: datetime | None = None,
    allow_future: bool = False,
) -> pa.Table:
    """Read a CSV event log (plain or gzipped) into a canonical table.

    ``case``, ``activity`` and ``timestamp`` name the source columns; the delimiter is sniffed
    from the header (``,``, ``;``, tab or ``|``) unless given. Every value is read as text, so a
    case named ``NA`` stays ``NA`` and only an empty field is missing; the other columns are
    kept as string attributes. ``seq`` is the record's place in the file (0-based). Problems
    are reported by row, the header being row 1.
    """
    with _binary(source) as stream:
        data = stream.read()
    text_head = data[: data.find(b"\n") + 1 if b"\n" in data else len(data)]
    header = text_head.decode(encoding).lstrip("\ufeff").rstrip("\r\n")
    if not header.strip():
        raise EventLogError([Problem("the file is empty: no header", row=1)])
    delimiter, names = _sniff(header, delimiter)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise EventLogError([Problem(f"repeated column names {dupes}", row=1)])
    absent = [name for name in (case, activity, timestamp) if name not in names]
    if absent:
        raise EventLogError(
            [Problem(f"no column {name!r} (columns: {', '.join(names)})", row=1) for name in absent]
        )
    problems = _Problems()
    bad_rows: list[tuple[int | None, int, int]] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    table = _read_csv_body(data, names, delimiter, encoding, threads=True, handler=on_invalid)
    if bad_rows and any(number is None for number, _, _ in bad_rows):
        bad_rows.clear()
        table = _read_csv_body(data, names, delimiter, encoding, threads=False, handler=on_invalid)
    for number, actual, expected in bad_rows:
        problems.add(Problem(f"{actual} fields where the header has {expected}", row=number))
    problems.raise_if_any()

    raw_ts = table[timestamp]
    parsed, unreadable = parse_timestamps(
        raw_ts, timestamp_format=timestamp_format, naive_timezone=naive_timezone
    )
    case_col = pc.utf8_trim_whitespace(table[case])
    activity_col = pc.utf8_trim_whitespace(table[activity])
    found = check_events(
        case_col,
        activity_col,
        pa.chunked_array([parsed]),
        unreadable=unreadable,
        raw_timestamp=raw_ts,
        now=now,
        allow_future=allow_future,
    )
    _raise_for(found, lambda i: Problem("", row=i + 2))
    attributes = {
        name: table[name] for name in table.column_names if name not in (case, activity, timestamp)
    }
    return make_table(case_col, activity_col, parsed, attributes=attributes)


def _read_csv_body(
    data: bytes,
    names: list[str],
    delimiter: str,
    encoding: str,
    *,
    threads: bool,
    handler: Callable[[Any], str] | None = None,
) -> pa.Table:
    read = pacsv.ReadOptions(
        column_names=names, skip_rows=1, encoding=encoding, use_threads=threads
    )
    parse = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler)
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        return pacsv.read_csv(
            io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        row = _row_in_message(str(exc))
        raise EventLogError([Problem(f"unreadable CSV: {exc}", row=row)]) from exc


def _row_in_message(message: str) -> int | None:
    match = re.search(r"[Rr]ow #?(\d+)", message)
    return int(match.group(1)) if match else None


def write_csv(table: pa.Table, dest: Destination, *, delimiter: str = ",") -> None:
    """Write a canonical table as CSV (``.gz`` paths gzipped), dates as ISO 8601 in UTC."""
    out = {}
    for name in table.column_names:
        column = table[name]
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if pa.types.is_timestamp(column.type):
            column = pa.array(format_timestamps(column), pa.string())
        out[name] = column
    plain = pa.table(out)
    with _output(dest) as stream:
        pacsv.write_csv(plain, stream, write_options=pacsv.WriteOptions(delimiter=delimiter))


# --------------------------------------------------------------------------------------------
# Parquet


def read_parquet(
    source: Source,
    *,
    case: str = CASE,
    activity: str = ACTIVITY,
    timestamp: str = TIMESTAMP,
    seq: str | None = SEQ,
    timestamp_format: str | None = None,
    naive_timezone: str = "UTC",
    now: datetime | None = None,
    allow_future: bool = False,
) -> pa.Table:
    """Read a Parquet event log into a canonical table.

    Timestamps may be typed (naive ones are taken as ``naive_timezone``) or text. ``seq`` is
    taken from the ``seq`` column when there is one (as :func:`write_parquet` writes), else
    from the row order. Problems are reported by row, counting from 1.
    """
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            table = pq.read_table(pa.BufferReader(bytes(source)))
        else:
            table = pq.read_table(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise EventLogError([Problem(f"unreadable Parquet: {exc}")]) from exc
    absent = [name for name in (case, activity, timestamp) if name not in table.column_names]
    if absent:
        cols = ", ".join(table.column_names)
        raise EventLogError([Problem(f"no column {n!r} (columns: {cols})") for n in absent])
    raw_ts = table[timestamp]
    unreadable = np.zeros(0, np.int64)
    if pa.types.is_timestamp(raw_ts.type) or pa.types.is_date(raw_ts.type):
        parsed = _to_utc(raw_ts, naive_timezone)
    else:
        parsed_arr, unreadable = parse_timestamps(
            raw_ts, timestamp_format=timestamp_format, naive_timezone=naive_timezone
        )
        parsed = pa.chunked_array([parsed_arr])
    case_col = _string_column(table[case])
    activity_col = _string_column(table[activity])
    found = check_events(
        case_col,
        activity_col,
        parsed,
        unreadable=unreadable,
        raw_timestamp=raw_ts,
        now=now,
        allow_future=allow_future,
    )
    seq_col = None
    if seq is not None and seq in table.column_names:
        seq_col = table[seq]
        if not pa.types.is_integer(seq_col.type) or seq_col.null_count:
            found.append((-1, f"column {seq!r} must be whole numbers, none missing"))
        elif pc.count_distinct(seq_col).as_py() != table.num_rows:
            found.append((-1, f"column {seq!r} repeats values: it must order the source"))
    _raise_for(
        sorted(found, key=lambda f: f[0]), lambda i: Problem("", row=i + 1 if i >= 0 else None)
    )
    skip = {case, activity, timestamp} | ({seq} if seq_col is not None else set())
    attributes = {name: table[name] for name in table.column_names if name not in skip}
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    meta = {k: v for k, v in meta.items() if not k.startswith("ARROW:")}
    return make_table(case_col, activity_col, parsed, seq_col, attributes, meta or None)


def write_parquet(table: pa.Table, dest: Destination) -> None:
    """Write a canonical table as Parquet, keeping ``seq``, types and schema metadata."""
    if isinstance(dest, str | os.PathLike):
        pq.write_table(table, str(dest))
    else:
        pq.write_table(table, dest)


# --------------------------------------------------------------------------------------------
# XES (IEEE 1849)


_XES_TYPES = ("string", "date", "int", "float", "boolean", "id")
_XES_NS = "http://www.xes-standard.org/"
_EXTENSIONS = {
    "concept": ("Concept", "http://www.xes-standard.org/concept.xesext"),
    "time": ("Time", "http://www.xes-standard.org/time.xesext"),
    "lifecycle": ("Lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    "org": ("Organizational", "http://www.xes-standard.org/org.xesext"),
    "cost": ("Cost", "http://www.xes-standard.org/cost.xesext"),
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Columns:
    """Typed attribute values gathered per key, aligned to the rows (events or traces)."""

    def __init__(self) -> None:
        self.values: dict[str, list[str | None]] = {}
        self.types: dict[str, set[str]] = {}
        self.rows = 0

    def add_row(self, attrs: dict[str, tuple[str, str]]) -> None:
        row = self.rows
        for key, (kind, value) in attrs.items():
            column = self.values.get(key)
            if column is None:
                column = self.values[key] = []
                self.types[key] = set()
            if len(column) < row:
                column.extend([None] * (row - len(column)))
            column.append(value)
            self.types[key].add(kind)
        self.rows += 1

    def finish(self) -> None:
        for column in self.values.values():
            if len(column) < self.rows:
                column.extend([None] * (self.rows - len(column)))


def _typed_column(
    values: list[str | None], kinds: set[str], naive_timezone: str
) -> tuple[pa.Array, list[tuple[int, str]]]:
    """An attribute column typed from its XES type; bad values come back as (index, message)."""
    kind = next(iter(kinds)) if len(kinds) == 1 else "string"
    bad: list[tuple[int, str]] = []
    if kind == "date":
        raw = pa.array(values, pa.string())
        parsed, unreadable = parse_timestamps(raw, naive_timezone=naive_timezone)
        bad = [(int(i), f"date {values[i]!r} not understood") for i in unreadable]
        return parsed, bad
    if kind in ("int", "float"):
        out: list[Any] = []
        convert: Callable[[str], Any] = int if kind == "int" else float
        for i, value in enumerate(values):
            if value is None:
                out.append(None)
                continue
            try:
                out.append(convert(value))
            except ValueError:
                out.append(None)
                bad.append((i, f"{kind} {value!r} not understood"))
        return pa.array(out, pa.int64() if kind == "int" else pa.float64()), bad
    if kind == "boolean":
        flags: list[bool | None] = []
        for i, value in enumerate(values):
            if value is None:
                flags.append(None)
            elif value.lower() in ("true", "false"):
                flags.append(value.lower() == "true")
            else:
                flags.append(None)
                bad.append((i, f"boolean {value!r} not understood"))
        return pa.array(flags, pa.bool_()), bad
    return pa.array(values, pa.string()), bad


def _hardened_expat() -> Any:
    """An expat parser with defusedxml's defences: no entity declarations, no external refs."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def entity_decl(name: str, *args: Any) -> None:
        raise EntitiesForbidden(name, None, None, None, None, None)

    def unparsed_entity_decl(name: str, *args: Any) -> None:
        raise EntitiesForbidden(name, None, None, None, None, None)

    def external_ref(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = unparsed_entity_decl
    parser.ExternalEntityRefHandler = external_ref
    parser.buffer_text = True
    return parser


class _XesReader:
    """Streaming XES reader: expat callbacks fill column buffers; no tree is ever built."""

    def __init__(self) -> None:
        self.problems = _Problems()
        self.events = _Columns()
        self.traces = _Columns()
        self.event_trace: list[int] = []  # trace number (0-based) of each event
        self.event_number: list[int] = []  # event number within its trace (1-based)
        self.case_names: list[str | None] = []
        self.stack: list[str] = []
        self.trace_attrs: dict[str, tuple[str, str]] = {}
        self.event_attrs: dict[str, tuple[str, str]] = {}
        self.n_in_trace = 0
        self.fatal = False  # the file could not be read to its end
        self.parser = _hardened_expat()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end

    def place(self, trace: int, event: int | None = None) -> str:
        name = self.case_names[trace] if trace < len(self.case_names) else None
        text = f"trace {trace + 1}" + (f" (case {name!r})" if name is not None else "")
        return text if event is None else f"{text}, event {event}"

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        stack = self.stack
        parent = stack[-1] if stack else None
        stack.append(tag)
        if parent == "event":
            if tag in _XES_TYPES:
                self.attribute(tag, attrs, self.event_attrs, event=True)
        elif parent == "trace":
            if tag == "event":
                self.event_attrs = {}
                self.n_in_trace += 1
            elif tag in _XES_TYPES:
                self.attribute(tag, attrs, self.trace_attrs, event=False)
        elif parent == "log":
            if tag == "trace":
                self.trace_attrs = {}
                self.n_in_trace = 0
            elif tag == "event":
                self.problems.add(Problem("event outside a trace", element="log", line=self.line()))
        elif parent is None and tag != "log":
            raise EventLogError([Problem(f"not an XES log: the root element is <{tag}>")])

    def attribute(
        self, tag: str, attrs: dict[str, str], into: dict[str, tuple[str, str]], *, event: bool
    ) -> None:
        key = attrs.get("key")
        value = attrs.get("value")
        if key is None or value is None:
            where = self.place(len(self.case_names), self.n_in_trace if event else None)
            self.problems.add(
                Problem(f"<{tag}> without key or value", element=where, line=self.line())
            )
        else:
            into[key] = (tag, value)

    def end(self, name: str) -> None:
        stack = self.stack
        tag = stack.pop()
        parent = stack[-1] if stack else None
        if tag == "event" and parent == "trace":
            self.events.add_row(self.event_attrs)
            self.event_trace.append(len(self.case_names))
            self.event_number.append(self.n_in_trace)
        elif tag == "trace" and parent == "log":
            named = self.trace_attrs.get("concept:name")
            case = named[1] if named and named[1].strip() else None
            self.case_names.append(case)
            self.traces.add_row(self.trace_attrs)
            if case is None:
                where = self.place(len(self.case_names) - 1)
                self.problems.add(
                    Problem("trace without concept:name (no case)", element=where, line=self.line())
                )

    def line(self) -> int:
        return int(self.parser.CurrentLineNumber)

    def feed(self, stream: IO[bytes]) -> None:
        try:
            self.parser.ParseFile(stream)
        except expat.ExpatError as exc:
            where = None
            if self.stack:
                event = self.n_in_trace if "event" in self.stack else None
                where = self.place(len(self.case_names), event)
            message = f"malformed XML: {expat.ErrorString(exc.code)} (column {exc.offset})"
            self.problems.add(Problem(message, element=where, line=exc.lineno))
            self.fatal = True
        except DefusedXmlException as exc:
            self.problems.add(
                Problem(
                    f"refused: {exc}", element="DTD (entities are not allowed)", line=self.line()
                )
            )
            self.fatal = True
        self.events.finish()
        self.traces.finish()


def read_xes(
    source: Source,
    *,
    naive_timezone: str = "UTC",
    now: datetime | None = None,
    allow_future: bool = False,
) -> pa.Table:
    """Read an XES log (IEEE 1849; plain or gzipped) into a canonical table.

    The file is parsed as a stream by expat with defusedxml's defences (entity declarations and
    external references are refused, so an entity-expansion or XXE file is an error, not a hang
    or a leak), and no element tree is built. Cases are trace ``concept:name``s; activities and
    times are each event's ``concept:name`` and ``time:timestamp``; other event attributes
    become typed columns, trace attributes ``case:<key>`` columns; nested attributes are not
    kept. ``seq`` is the event's place in the file. Problems name the trace and event, counting
    from 1 (``trace 3 (case '17'), event 5``), and the line where the parser knows it.
    """
    reader = _XesReader()
    with _binary(source) as stream:
        reader.feed(stream)
    if reader.fatal:
        reader.problems.raise_if_any()
    return _xes_table(
        reader.events,
        reader.traces,
        reader.event_trace,
        reader.event_number,
        reader.case_names,
        reader.place,
        reader.problems,
        naive_timezone=naive_timezone,
        now=now,
        allow_future=allow_future,
    )


def _xes_table(
    events: _Columns,
    traces: _Columns,
    event_trace: list[int],
    event_number: list[int],
    case_names: list[str | None],
    place: Callable[[int, int | None], str],
    problems: _Problems,
    *,
    naive_timezone: str,
    now: datetime | None,
    allow_future: bool,
) -> pa.Table:
    n = events.rows
    trace_index = np.asarray(event_trace, dtype=np.int64)

    def event_place(i: int) -> Problem:
        return Problem("", element=place(event_trace[i], event_number[i]))

    activity_raw = events.values.pop("concept:name", [None] * n)
    events.types.pop("concept:name", None)
    time_raw = events.values.pop("time:timestamp", [None] * n)
    events.types.pop("time:timestamp", None)
    time_text = pa.array(time_raw, pa.string())
    parsed, unreadable = parse_timestamps(time_text, naive_timezone=naive_timezone)
    cases = pa.array(case_names, pa.string()).take(pa.array(trace_index))
    found = check_events(
        pa.chunked_array([cases]),
        pa.chunked_array([pa.array(activity_raw, pa.string())]),
        pa.chunked_array([parsed]),
        unreadable=unreadable,
        raw_timestamp=time_text,
        now=now,
        allow_future=allow_future,
    )
    # A trace without a name is reported once, for the trace, not for each of its events.
    found = [
        (i, m) for i, m in found if not (m == "no case" and case_names[event_trace[i]] is None)
    ]
    attributes: dict[str, pa.Array] = {}
    for key, values in traces.values.items():
        if key == "concept:name":
            continue
        column, bad = _typed_column(values, traces.types[key], naive_timezone)
        for t, message in bad:
            problems.add(Problem(f"{key}: {message}", element=place(t, None)))
        attributes[CASE_PREFIX + key] = column.take(pa.array(trace_index))
    for key, values in events.values.items():
        column, bad = _typed_column(values, events.types[key], naive_timezone)
        found.extend((i, f"{key}: {message}") for i, message in bad)
        attributes[key] = column
    for i, message in sorted(found, key=lambda f: f[0]):
        problems.add(Problem(message, element=event_place(i).element))
    problems.raise_if_any()
    return make_table(cases, pa.array(activity_raw, pa.string()), parsed, attributes=attributes)


def _xes_kind(dtype: pa.DataType) -> str:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        return "date"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "int"
    if pa.types.is_floating(dtype):
        return "float"
    return "string"


def _xes_values(column: pa.ChunkedArray, kind: str) -> list[str | None]:
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if kind == "date":
        return format_timestamps(_to_utc(column, "UTC"))
    if kind == "boolean":
        return [None if v is None else ("true" if v else "false") for v in column.to_pylist()]
    if kind == "float":
        return [None if v is None else repr(float(v)) for v in column.to_pylist()]
    return [None if v is None else str(v) for v in column.to_pylist()]


_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def _attr(kind: str, key: str, value: str) -> str:
    return f'<{kind} key="{key.translate(_ESCAPES)}" value="{value.translate(_ESCAPES)}"/>'


def write_xes(table: pa.Table, dest: Destination, *, compress: bool | None = None) -> None:
    """Write a canonical table as XES (IEEE 1849-2016); ``.gz`` paths are gzipped.

    One trace per case, events in canonical order (so reading the file back gives the same
    order), ``case:<key>`` columns as trace attributes (from the case's first event), other
    columns as event attributes typed from their Arrow types. ``seq`` is not written: the order
    of the events in the file carries it.
    """
    table = sort_canonical(table)
    names = [c for c in table.column_names if c not in CANONICAL]
    case_cols = [c for c in names if c.startswith(CASE_PREFIX)]
    event_cols = [c for c in names if not c.startswith(CASE_PREFIX)]
    cases = _string_column(table[CASE]).to_pylist()
    activities = _string_column(table[ACTIVITY]).to_pylist()
    times = format_timestamps(table[TIMESTAMP])
    event_attrs = []
    for name in event_cols:
        kind = _xes_kind(table.schema.field(name).type)
        event_attrs.append((kind, name, _xes_values(table[name], kind)))
    case_attrs = []
    for name in case_cols:
        kind = _xes_kind(table.schema.field(name).type)
        case_attrs.append((kind, name[len(CASE_PREFIX) :], _xes_values(table[name], kind)))
    prefixes = {"concept", "time"} | {
        key.split(":", 1)[0] for _, key, _ in event_attrs + case_attrs if ":" in key
    }
    head = ['<?xml version="1.0" encoding="UTF-8"?>']
    head.append(f'<log xes.version="1849-2016" xes.features="" xmlns="{_XES_NS}">')
    for prefix in sorted(prefixes & set(_EXTENSIONS)):
        ext_name, uri = _EXTENSIONS[prefix]
        head.append(f'  <extension name="{ext_name}" prefix="{prefix}" uri="{uri}"/>')
    head.append('  <classifier name="Activity" keys="concept:name"/>')
    meta = table.schema.metadata or {}
    if meta.get(b"synthetic") == b"true":
        head.append("  " + _attr("string", "synthetic", "true"))
        description = meta.get(b"description", b"synthetic event log").decode()
        head.append("  " + _attr("string", "description", description))
    with _output(dest, compress=compress) as stream:
        out = io.TextIOWrapper(stream, encoding="utf-8", newline="\n", write_through=False)
        out.write("\n".join(head) + "\n")
        start = 0
        n = len(cases)
        while start < n:
            end = start + 1
            while end < n and cases[end] == cases[start]:
                end += 1
            out.write("  <trace>\n    " + _attr("string", "concept:name", str(cases[start])) + "\n")
            for kind, key, values in case_attrs:
                value = values[start]
                if value is not None:
                    out.write("    " + _attr(kind, key, value) + "\n")
            for i in range(start, end):
                parts = [
                    _attr("string", "concept:name", str(activities[i])),
                    _attr("date", "time:timestamp", str(times[i])),
                ]
                parts += [_attr(k, key, str(v[i])) for k, key, v in event_attrs if v[i] is not None]
                out.write("    <event>\n      " + "\n      ".join(parts) + "\n    </event>\n")
            out.write("  </trace>\n")
            start = end
        out.write("</log>\n")
        out.flush()
        out.detach()


# --------------------------------------------------------------------------------------------
# OCEL 2.0 JSON


def _ocel_kind(dtype: pa.DataType) -> str:
    kind = _xes_kind(dtype)
    return {"date": "time", "int": "integer"}.get(kind, kind)


def write_ocel_json(table: pa.Table, dest: Destination, *, object_type: str = "case") -> None:
    """Write a canonical table as OCEL 2.0 JSON: one object per case, of ``object_type``.

    Each event relates to its case's object with the qualifier ``case``; ``case:<key>`` columns
    become object attributes, other columns event attributes. Event ids are ``e<seq>`` unless
    there is an ``ocel:eid`` column.
    """
    table = sort_canonical(table)
    names = [c for c in table.column_names if c not in CANONICAL and c != "ocel:eid"]
    case_cols = [c for c in names if c.startswith(CASE_PREFIX)]
    event_cols = [c for c in names if not c.startswith(CASE_PREFIX)]
    cases = _string_column(table[CASE]).to_pylist()
    activities = _string_column(table[ACTIVITY]).to_pylist()
    times = [t[:-6] + "Z" if t else t for t in format_timestamps(table[TIMESTAMP])]
    if "ocel:eid" in table.column_names:
        ids = [str(v) for v in _string_column(table["ocel:eid"]).to_pylist()]
    else:
        ids = [f"e{s}" for s in table[SEQ].to_pylist()]

    def values(name: str) -> tuple[str, list[Any]]:
        column = table[name]
        kind = _ocel_kind(column.type)
        if kind == "time":
            return kind, [
                t[:-6] + "Z" if t else t for t in format_timestamps(_to_utc(column, "UTC"))
            ]
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        return kind, column.to_pylist()

    event_values = {name: values(name) for name in event_cols}
    case_values = {name: values(name) for name in case_cols}
    event_types: dict[str, set[str]] = {}
    events_out = []
    for i, activity in enumerate(activities):
        attrs = [
            {"name": name, "value": vals[i]}
            for name, (_, vals) in event_values.items()
            if vals[i] is not None
        ]
        event_types.setdefault(activity, set()).update(a["name"] for a in attrs)
        events_out.append(
            {
                "id": ids[i],
                "type": activity,
                "time": times[i],
                "attributes": attrs,
                "relationships": [{"objectId": cases[i], "qualifier": "case"}],
            }
        )
    objects_out = []
    first: dict[str, int] = {}
    for i, case in enumerate(cases):
        first.setdefault(case, i)
    for case, i in first.items():
        attrs = [
            {"name": name[len(CASE_PREFIX) :], "time": "1970-01-01T00:00:00Z", "value": vals[i]}
            for name, (_, vals) in case_values.items()
            if vals[i] is not None
        ]
        objects_out.append(
            {"id": case, "type": object_type, "attributes": attrs, "relationships": []}
        )
    document = {
        "objectTypes": [
            {
                "name": object_type,
                "attributes": [
                    {"name": name[len(CASE_PREFIX) :], "type": kind}
                    for name, (kind, _) in case_values.items()
                ],
            }
        ],
        "eventTypes": [
            {
                "name": activity,
                "attributes": [
                    {"name": name, "type": event_values[name][0]}
                    for name in event_cols
                    if name in used
                ],
            }
            for activity, used in sorted(event_types.items())
        ],
        "objects": objects_out,
        "events": events_out,
    }
    with _output(dest) as stream:
        stream.write(json.dumps(document, ensure_ascii=False).encode("utf-8"))


def read_ocel_json(
    source: Source,
    *,
    object_type: str | None = None,
    naive_timezone: str = "UTC",
    now: datetime | None = None,
    allow_future: bool = False,
) -> pa.Table:
    """Read an OCEL 2.0 JSON log, flattened on one object type, into a canonical table.

    Each event related to an object of ``object_type`` becomes an event of that object's case
    (an event related to two such objects appears in both cases; events related to none are
    left out). ``object_type`` may be omitted when the log has one object type. Event
    attributes are typed from ``eventTypes``; the objects' attributes become ``case:<name>``
    columns (the latest value). The event id is kept as ``ocel:eid``; ``seq`` is the event's
    place in the file. Problems name the JSON element: ``events[12]``, ``objects[3]``.
    """
    with _binary(source) as stream:
        try:
            document = json.load(stream)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise EventLogError([Problem(f"malformed JSON: {exc}", line=line)]) from exc
    problems = _Problems()
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise EventLogError([Problem("not an OCEL 2.0 JSON log: no 'events' list")])
    objects = document.get("objects") or []
    types = sorted({str(o.get("type")) for o in objects if isinstance(o, dict)})
    if object_type is None:
        if len(types) != 1:
            raise EventLogError([Problem(f"choose object_type: the log has object types {types}")])
        object_type = types[0]
    elif object_type not in types:
        raise EventLogError([Problem(f"no objects of type {object_type!r} (types: {types})")])
    kinds: dict[str, str] = {}
    for et in document.get("eventTypes") or []:
        for attr in et.get("attributes") or []:
            kinds[str(attr.get("name"))] = str(attr.get("type", "string"))
    object_kinds: dict[str, str] = {}
    for ot in document.get("objectTypes") or []:
        if ot.get("name") == object_type:
            for attr in ot.get("attributes") or []:
                object_kinds[str(attr.get("name"))] = str(attr.get("type", "string"))
    wanted: dict[str, dict[str, Any]] = {}
    for j, obj in enumerate(objects):
        if not isinstance(obj, dict) or "id" not in obj:
            problems.add(Problem("object without an id", element=f"objects[{j}]"))
            continue
        if obj.get("type") != object_type:
            continue
        latest: dict[str, tuple[str, Any]] = {}
        for attr in obj.get("attributes") or []:
            name, when = str(attr.get("name")), str(attr.get("time", ""))
            if name not in latest or when >= latest[name][0]:
                latest[name] = (when, attr.get("value"))
        wanted[str(obj["id"])] = {k: v for k, (_, v) in latest.items()}
    known = {str(o.get("id")) for o in objects if isinstance(o, dict)}
    rows_case: list[str] = []
    rows_activity: list[str | None] = []
    rows_time: list[str | None] = []
    rows_seq: list[int] = []
    rows_event: list[int] = []
    rows_id: list[str] = []
    attr_rows: list[dict[str, Any]] = []
    for i, event in enumerate(document["events"]):
        where = f"events[{i}]"
        if not isinstance(event, dict):
            problems.add(Problem("not an object", element=where))
            continue
        if "id" in event:
            where += f" (id {str(event['id'])!r})"
        related = []
        for rel in event.get("relationships") or []:
            oid = str(rel.get("objectId"))
            if oid not in known:
                problems.add(Problem(f"relationship to unknown object {oid!r}", element=where))
            elif oid in wanted and oid not in related:
                related.append(oid)
        attrs = {str(a.get("name")): a.get("value") for a in event.get("attributes") or []}
        for oid in related:
            rows_case.append(oid)
            rows_activity.append(None if event.get("type") is None else str(event["type"]))
            rows_time.append(None if event.get("time") is None else str(event["time"]))
            rows_seq.append(i)
            rows_event.append(i)
            rows_id.append(str(event.get("id", f"e{i}")))
            attr_rows.append(attrs)
    time_text = pa.array(rows_time, pa.string())
    parsed, unreadable = parse_timestamps(time_text, naive_timezone=naive_timezone)
    found = check_events(
        pa.chunked_array([pa.array(rows_case, pa.string())]),
        pa.chunked_array([pa.array(rows_activity, pa.string())]),
        pa.chunked_array([parsed]),
        unreadable=unreadable,
        raw_timestamp=time_text,
        now=now,
        allow_future=allow_future,
    )
    seen: set[tuple[int, str]] = set()
    for r, message in found:
        key = (rows_event[r], message)
        if key not in seen:  # an event in two cases is reported once
            seen.add(key)
            label = f"events[{rows_event[r]}] (id {rows_id[r]!r})"
            problems.add(Problem(message, element=label))
    problems.raise_if_any()
    attributes: dict[str, pa.Array] = {"ocel:eid": pa.array(rows_id, pa.string())}
    names = list(dict.fromkeys(name for attrs in attr_rows for name in attrs))
    for name in names:
        column = [attrs.get(name) for attrs in attr_rows]
        attributes[name] = _ocel_column(column, kinds.get(name, "string"), naive_timezone)
    obj_names = list(dict.fromkeys(name for attrs in wanted.values() for name in attrs))
    for name in obj_names:
        column = [wanted[c].get(name) for c in rows_case]
        kind = object_kinds.get(name, "string")
        attributes[CASE_PREFIX + name] = _ocel_column(column, kind, naive_timezone)
    return make_table(
        pa.array(rows_case, pa.string()),
        pa.array(rows_activity, pa.string()),
        parsed,
        pa.array(rows_seq, pa.int64()),
        attributes,
    )


def _ocel_column(values: list[Any], kind: str, naive_timezone: str) -> pa.Array:
    """OCEL attribute values typed from their declared type (text when they do not fit)."""
    try:
        if kind == "time":
            text = pa.array([None if v is None else str(v) for v in values], pa.string())
            parsed, bad = parse_timestamps(text, naive_timezone=naive_timezone)
            if not bad.size:
                return parsed
        elif kind == "integer":
            return pa.array(values, pa.int64())
        elif kind == "float":
            return pa.array(values, pa.float64())
        elif kind == "boolean":
            return pa.array(values, pa.bool_())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        pass
    return pa.array([None if v is None else str(v) for v in values], pa.string())
