"""Importing and exporting cohort tables (women, infants, interviews) as CSV or XLSX.

Plain Python, no Django. An import is read with `read_tables`, checked and converted with
`validate`, and refused whole (`TableError`, listing every bad cell by row and column) if any
cell is bad. Exports go through `write_csv` / `write_xlsx`, which write every value as text made
safe by `spreadsheet_safe`, so that nothing in the file runs as a formula.

Row numbers are those the user sees in the file: the header is row 1, the first data row row 2.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import PureWindowsPath
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from steppingstones.core.exports import FORMULA_TRIGGERS, spreadsheet_safe

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "CellError",
    "Column",
    "Kind",
    "Row",
    "TableError",
    "data_dictionary",
    "read_tables",
    "validate",
    "write_csv",
    "write_xlsx",
]

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
# An xlsx is a zip: refuse one that would unpack to more than this many times MAX_BYTES.
MAX_EXPANSION = 20
MAX_LISTED_ERRORS = 20
TABLE_WORDS = ("women", "infants", "interviews")
ACCEPTED = ".csv or .xlsx"

Kind = Literal["text", "int", "decimal", "date", "bool", "choice", "gestation"]
KINDS: tuple[str, ...] = ("text", "int", "decimal", "date", "bool", "choice", "gestation")

TRUE_WORDS = frozenset({"yes", "true", "1"})
FALSE_WORDS = frozenset({"no", "false", "0"})
INT_RE = re.compile(r"[+-]?[0-9]+(?:\.0*)?")
DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
GESTATION_RE = re.compile(r"([0-9]{1,2})\s*\+\s*([0-9])")
MAX_GESTATION_WEEKS = 45


@dataclass(frozen=True)
class Column:
    """One column of a cohort table: its header name, kind and constraints.

    `minimum`/`maximum` apply to int and decimal values (and to gestation, in days);
    `max_length` applies to text.
    """

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")
        if not self.name or self.name != self.name.strip().lower():
            raise ValueError(f"column {self.name!r}: names must be stripped and lower-case")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"column {self.name!r}: a choice column needs choices")


@dataclass(frozen=True)
class CellError:
    """One problem in an imported file, located as the user sees it."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return f"{self.sheet} row {self.row}, column {self.column}: {self.message}"
        return f"{self.sheet} row {self.row}: {self.message}"


class TableError(Exception):
    """A file refused whole. `errors` lists every bad cell; it is empty for whole-file problems
    (too large, wrong type, unreadable), which are described by the message alone."""

    def __init__(self, errors: Iterable[CellError] = (), message: str | None = None) -> None:
        self.errors: list[CellError] = list(errors)
        if message is None:
            message = _summary(self.errors)
        self.message = message
        super().__init__(message)


def _summary(errors: Sequence[CellError]) -> str:
    count = len(errors)
    noun = "problem" if count == 1 else "problems"
    lines = [f"{count} {noun} found; nothing was imported:"]
    lines += [f"  {error}" for error in errors[:MAX_LISTED_ERRORS]]
    if count > MAX_LISTED_ERRORS:
        lines.append(f"  … and {count - MAX_LISTED_ERRORS} more")
    return "\n".join(lines)


class Row(dict[str, str]):
    """One data row as read from a file: column name -> raw text, plus its row `number`."""

    __slots__ = ("number",)

    def __init__(self, number: int, cells: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(cells)
        self.number = number


# --- reading -------------------------------------------------------------------------------


def read_tables(data: bytes, filename: str) -> dict[str, list[dict[str, str]]]:
    """Read an uploaded .csv or .xlsx into {sheet name: rows of {column: raw text}}.

    A CSV gives one sheet named after the file (or "women", "infants" or "interviews" if
    exactly one of these is in its name); an XLSX one sheet per worksheet. Each row is a `Row`
    carrying the row number shown in the file. Raises TableError for anything unreadable.
    """
    name = PureWindowsPath(filename).name or "the file"
    suffix = PureWindowsPath(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise TableError(message=f"{name} is not a {ACCEPTED} file; only {ACCEPTED} is accepted.")
    if len(data) > MAX_BYTES:
        raise TableError(
            message=f"{name} is {_megabytes(len(data))}; the limit is {_megabytes(MAX_BYTES)}."
        )
    if suffix == ".csv":
        return {_csv_sheet_name(name): _read_csv(data, name)}
    return _read_xlsx(data, name)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _csv_sheet_name(name: str) -> str:
    stem = PureWindowsPath(name).stem.strip().lower()
    found = [word for word in TABLE_WORDS if word in stem]
    return found[0] if len(found) == 1 else stem


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        try:
            return data.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError:
            encoding = "cp1252"  # Excel's "CSV" on Windows: Latin-1 with extras such as —
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].decode(encoding, errors="replace").count("\n") + 1
        raise TableError(
            message=(
                f"{name} line {line} is not readable text; "
                "save the file as CSV UTF-8 and try again."
            )
        ) from error


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _read_csv(data: bytes, name: str) -> list[dict[str, str]]:
    text = _decode(data, name)
    sheet = _csv_sheet_name(name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    records: Iterator[tuple[int, Sequence[Any]]] = _numbered_csv(reader, name)
    return _collect(sheet, name, records)


def _numbered_csv(reader: Any, name: str) -> Iterator[tuple[int, Sequence[Any]]]:
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise TableError(
                message=f"{name} line {reader.line_num} cannot be read as CSV: {error}"
            ) from error
        number += 1
        yield number, record


def _read_xlsx(data: bytes, name: str) -> dict[str, list[dict[str, str]]]:
    invalid = f"{name} is not a valid .xlsx file; save it from your spreadsheet as .xlsx."
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise TableError(message=invalid) from error
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_EXPANSION * MAX_BYTES:
        raise TableError(
            message=(
                f"{name} would unpack to {_megabytes(unpacked)}; "
                f"the limit is {_megabytes(MAX_EXPANSION * MAX_BYTES)}."
            )
        )
    if "[Content_Types].xml" not in {member.filename for member in members}:
        raise TableError(message=invalid)
    tables: dict[str, list[dict[str, str]]] = {}
    rows_left = MAX_ROWS
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of error for a broken file
        raise TableError(message=invalid) from error
    try:
        for worksheet in workbook.worksheets:
            sheet = str(worksheet.title).strip().lower()
            if sheet in tables:
                raise TableError(message=f"{name} has two worksheets named {sheet!r}.")
            if hasattr(worksheet, "reset_dimensions"):
                worksheet.reset_dimensions()  # do not trust the stored used range
            records = enumerate(worksheet.iter_rows(values_only=True), start=1)
            tables[sheet] = _collect(sheet, name, records, rows_left)
            rows_left -= len(tables[sheet])
    except TableError:
        raise
    except Exception as error:  # a broken worksheet only shows itself while being read
        raise TableError(message=invalid) from error
    finally:
        workbook.close()
    return tables


def _cell_text(value: Any) -> str:
    """Raw text for one spreadsheet cell value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def _collect(
    sheet: str,
    name: str,
    records: Iterable[tuple[int, Sequence[Any]]],
    rows_left: int | None = None,
) -> list[dict[str, str]]:
    """Turn numbered raw records into Rows keyed by the (first non-blank) header row."""
    if rows_left is None:
        rows_left = MAX_ROWS
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    errors: list[CellError] = []
    for number, record in records:
        cells = [_cell_text(value) for value in record]
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            seen: set[str] = set()
            for column in header:
                if column and column in seen:
                    errors.append(CellError(sheet, number, column, "appears twice in the header"))
                seen.add(column)
            continue
        if len(rows) >= rows_left:
            raise TableError(message=f"{name} has more than {MAX_ROWS:,} rows; split the file.")
        row = Row(number)
        for position, cell in enumerate(cells):
            column = header[position] if position < len(header) else ""
            if column:
                row[column] = cell
            elif cell.strip():
                if position < len(header):
                    problem = f"has a value in column {position + 1}, which has no header"
                else:
                    problem = f"has {len(cells)} values but the header has {len(header)} columns"
                errors.append(CellError(sheet, number, "", problem))
                break
        for column in header[len(cells) :]:
            if column:
                row[column] = ""
        rows.append(row)
    if errors:
        raise TableError(errors)
    return rows


# --- validating ----------------------------------------------------------------------------


def _quote(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[:limit] + "…"
    return '"' + shown.replace("\n", " ") + '"'


def _unescape(text: str) -> str:
    """Undo the apostrophe our export puts before text a spreadsheet would run as a formula."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _escape(text: str) -> str:
    """Text for one exported cell: `spreadsheet_safe`, plus one more apostrophe where the text
    already starts with apostrophes before a formula character, so that import gives it back."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return spreadsheet_safe(text)


def _check_range(column: Column, number: Decimal | int, shown: str) -> str | None:
    if column.minimum is not None and number < Decimal(str(column.minimum)):
        return f"{shown} is less than the minimum, {_number_text(column.minimum)}"
    if column.maximum is not None and number > Decimal(str(column.maximum)):
        return f"{shown} is more than the maximum, {_number_text(column.maximum)}"
    return None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _convert(column: Column, raw: str) -> Any:
    """Convert one non-empty cell, or raise ValueError with the message for the user."""
    if column.kind == "text":
        if column.max_length is not None and len(raw) > column.max_length:
            raise ValueError(f"is {len(raw)} characters long; the limit is {column.max_length}")
        return raw
    text = raw.strip()
    shown = _quote(text)
    if column.kind == "int":
        if not INT_RE.fullmatch(text):
            raise ValueError(f"{shown} is not a whole number")
        value = int(Decimal(text))
        problem = _check_range(column, value, shown)
        if problem:
            raise ValueError(problem)
        return value
    if column.kind == "decimal":
        if not DECIMAL_RE.fullmatch(text):
            raise ValueError(f"{shown} is not a number (use a point for decimals, e.g. 2.5)")
        try:
            number = Decimal(text)
        except InvalidOperation as error:  # pragma: no cover - the pattern rules this out
            raise ValueError(f"{shown} is not a number") from error
        problem = _check_range(column, number, shown)
        if problem:
            raise ValueError(problem)
        return number
    if column.kind == "date":
        try:
            if not DATE_RE.fullmatch(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{shown} is not a date (use YYYY-MM-DD)") from None
    if column.kind == "bool":
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"{shown} is not yes or no")
    if column.kind == "choice":
        for choice in column.choices:
            if choice.casefold() == text.casefold():
                return choice
        raise ValueError(f"{shown} is not one of: {', '.join(column.choices)}")
    # gestation
    match = GESTATION_RE.fullmatch(text)
    if not match:
        raise ValueError(f"{shown} is not a gestation (use weeks+days, e.g. 39+2)")
    weeks, days = int(match[1]), int(match[2])
    if weeks > MAX_GESTATION_WEEKS or days > 6:
        raise ValueError(f"{shown} is out of range (weeks 0 to {MAX_GESTATION_WEEKS}, days 0 to 6)")
    total = weeks * 7 + days
    problem = _check_range(column, total, shown)
    if problem:
        raise ValueError(problem + " days")
    return total


def validate(
    sheet: str, rows: Sequence[Mapping[str, str]], columns: Sequence[Column]
) -> list[dict[str, Any]]:
    """Check and convert every cell; return one {column: value} per row, empty cells as None.

    Values: text str, int int, decimal Decimal, date date, bool bool, choice the canonical
    choice, gestation int days. Every problem is collected and raised together as TableError.
    """
    by_name = {column.name: column for column in columns}
    errors: list[CellError] = []
    present: dict[str, None] = {}
    for row in rows:
        present.update(dict.fromkeys(row))
    if rows:
        expected = ", ".join(by_name)
        for name in present:
            if name not in by_name:
                errors.append(
                    CellError(sheet, 1, name, f"is not a column of {sheet} (expected: {expected})")
                )
        for column in columns:
            if column.required and column.name not in present:
                errors.append(CellError(sheet, 1, column.name, "is required but missing"))
    records: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        number = getattr(row, "number", index + 2)
        record: dict[str, Any] = {}
        for column in columns:
            raw = row.get(column.name)
            if raw is None:
                record[column.name] = None
                continue
            raw = _unescape(raw)
            if not raw.strip():
                record[column.name] = None
                if column.required:
                    errors.append(CellError(sheet, number, column.name, "is required"))
                continue
            try:
                record[column.name] = _convert(column, raw)
            except ValueError as error:
                errors.append(CellError(sheet, number, column.name, str(error)))
        records.append(record)
    if errors:
        raise TableError(errors)
    return records


# --- writing -------------------------------------------------------------------------------


def _format(column: Column, value: Any) -> str:
    """Unescaped text for one value, in the form `validate` reads back."""
    if value is None:
        return ""
    if column.kind == "gestation" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 7}+{value % 7}"
    if column.kind == "bool" and isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if column.kind == "date" else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _export_cells(columns: Sequence[Column], record: Mapping[str, Any]) -> list[str]:
    return [_escape(_format(column, record.get(column.name))) for column in columns]


def write_csv(columns: Sequence[Column], records: Iterable[Mapping[str, Any]]) -> str:
    """One table as CSV text (comma-delimited, header row first), every cell formula-safe.

    Encode it as "utf-8-sig" for a file that Excel opens with the right characters.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([_escape(column.name) for column in columns])
    for record in records:
        writer.writerow(_export_cells(columns, record))
    return out.getvalue()


def _xlsx_text(text: str) -> str:
    # XML cannot hold most control characters; openpyxl refuses them, so they are dropped, and
    # what is left is checked again: "\x01=HYPERLINK(...)" must not become a live formula.
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", text)
    return _escape(cleaned) if cleaned != text else cleaned


def write_xlsx(
    sheets: Mapping[str, tuple[Sequence[Column], Iterable[Mapping[str, Any]]]],
    dictionary: bool = True,
) -> bytes:
    """An .xlsx with one worksheet per table (every cell formula-safe text) and, unless
    `dictionary` is false, a "dictionary" worksheet describing every column."""
    workbook = Workbook(write_only=True)
    for sheet, (columns, records) in sheets.items():
        worksheet = workbook.create_sheet(title=sheet)
        worksheet.append([_xlsx_text(_escape(column.name)) for column in columns])
        for record in records:
            worksheet.append([_xlsx_text(cell) for cell in _export_cells(columns, record)])
    if dictionary:
        entries = data_dictionary({sheet: columns for sheet, (columns, _) in sheets.items()})
        worksheet = workbook.create_sheet(title="dictionary")
        worksheet.append(list(DICTIONARY_FIELDS))
        for entry in entries:
            worksheet.append([_xlsx_text(_escape(entry[field])) for field in DICTIONARY_FIELDS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


DICTIONARY_FIELDS = ("sheet", "column", "type", "required", "allowed values", "description")


def _allowed(column: Column) -> str:
    if column.kind == "choice":
        return ", ".join(column.choices)
    if column.kind == "bool":
        return "yes, no"
    if column.kind == "date":
        return "YYYY-MM-DD"
    if column.kind == "gestation":
        return f"weeks+days, e.g. 39+2 (weeks 0 to {MAX_GESTATION_WEEKS}, days 0 to 6)"
    if column.kind == "text":
        return f"up to {column.max_length} characters" if column.max_length is not None else ""
    low, high = column.minimum, column.maximum
    if low is not None and high is not None:
        return f"{_number_text(low)} to {_number_text(high)}"
    if low is not None:
        return f"at least {_number_text(low)}"
    if high is not None:
        return f"at most {_number_text(high)}"
    return ""


def data_dictionary(sheets: Mapping[str, Sequence[Column]]) -> list[dict[str, str]]:
    """One entry per column: sheet, column, type, required, allowed values, description."""
    return [
        {
            "sheet": sheet,
            "column": column.name,
            "type": column.kind,
            "required": "yes" if column.required else "no",
            "allowed values": _allowed(column),
            "description": column.description,
        }
        for sheet, columns in sheets.items()
        for column in columns
    ]
