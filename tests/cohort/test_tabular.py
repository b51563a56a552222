"""Cohort table import and export: CSV/XLSX round trips, per-cell errors, spreadsheet safety."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from steppingstones.cohort import tabular
from steppingstones.cohort.tabular import (
    CellError,
    Column,
    TableError,
    data_dictionary,
    read_tables,
    validate,
    write_csv,
    write_xlsx,
)

WOMEN = (
    Column("study_id", "text", required=True, max_length=20, description="Study identifier"),
    Column("age", "int", minimum=12, maximum=60),
    Column("weight_kg", "decimal"),
    Column("edd", "date", description="Estimated date of delivery"),
    Column("consented", "bool"),
    Column("site", "choice", choices=("Glasgow", "Ayrshire and Arran — Cumnock")),
    Column("gestation", "gestation"),
    Column("notes", "text"),
)

RECORDS: list[dict[str, Any]] = [
    {
        "study_id": "W001",
        "age": 29,
        "weight_kg": Decimal("64.5"),
        "edd": date(2024, 3, 1),
        "consented": True,
        "site": "Glasgow",
        "gestation": 12 * 7 + 3,
        "notes": 'Zoë, first visit; "quoted"\nsecond line',
    },
    {
        "study_id": "W002",
        "age": None,
        "weight_kg": Decimal("-0"),
        "edd": None,
        "consented": False,
        "site": "Ayrshire and Arran — Cumnock",
        "gestation": 0,
        "notes": '=HYPERLINK("http://x")',
    },
    {
        "study_id": "-W003",
        "age": 60,
        "weight_kg": None,
        "edd": date(2023, 12, 31),
        "consented": None,
        "site": None,
        "gestation": 45 * 7 + 6,
        "notes": "'=already quoted",
    },
]

HEADER = "study_id,age,weight_kg,edd,consented,site,gestation,notes\n"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode(encoding)


def errors_of(excinfo: pytest.ExceptionInfo[TableError]) -> list[tuple[str, int, str]]:
    return [(error.sheet, error.row, error.column) for error in excinfo.value.errors]


# --- round trips ---------------------------------------------------------------------------


def test_csv_round_trip() -> None:
    text = write_csv(WOMEN, RECORDS)
    tables = read_tables(text.encode("utf-8-sig"), "Women-2024.csv")
    assert list(tables) == ["women"]
    assert validate("women", tables["women"], WOMEN) == RECORDS


def test_xlsx_round_trip_with_dictionary() -> None:
    infants = (Column("infant_id", "text", required=True), Column("born", "date"))
    infant_records = [{"infant_id": "I1", "born": date(2024, 2, 29)}]
    data = write_xlsx({"women": (WOMEN, RECORDS), "infants": (infants, infant_records)})
    tables = read_tables(data, "export.xlsx")
    assert list(tables) == ["women", "infants", "dictionary"]
    assert validate("women", tables["women"], WOMEN) == RECORDS
    assert validate("infants", tables["infants"], infants) == infant_records
    assert tables["dictionary"][0] == {
        "sheet": "women",
        "column": "study_id",
        "type": "text",
        "required": "yes",
        "allowed values": "up to 20 characters",
        "description": "Study identifier",
    }
    assert len(tables["dictionary"]) == len(WOMEN) + len(infants)


def test_xlsx_without_dictionary() -> None:
    data = write_xlsx({"women": (WOMEN, RECORDS)}, dictionary=False)
    assert list(read_tables(data, "women.xlsx")) == ["women"]


def test_writers_format_values() -> None:
    text = write_csv(WOMEN, RECORDS[:1])
    row = text.splitlines()[1]
    assert row.startswith("W001,29,64.5,2024-03-01,yes,Glasgow,12+3,")
    assert "12+3" in text
    assert write_csv(WOMEN, [{"study_id": "W9"}]).splitlines()[1] == "W9,,,,,,,"


def test_data_dictionary() -> None:
    entries = data_dictionary({"women": WOMEN})
    by_column = {entry["column"]: entry for entry in entries}
    assert by_column["site"]["allowed values"] == "Glasgow, Ayrshire and Arran — Cumnock"
    assert by_column["age"]["allowed values"] == "12 to 60"
    assert by_column["edd"]["allowed values"] == "YYYY-MM-DD"
    assert by_column["consented"]["allowed values"] == "yes, no"
    assert by_column["edd"]["description"] == "Estimated date of delivery"
    assert {entry["sheet"] for entry in entries} == {"women"}


def test_xlsx_cells_from_a_spreadsheet() -> None:
    """Real typed cells: dates become ISO text, whole numbers lose their ".0"."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = " Women "
    sheet.append([" Study_ID ", "AGE", "Weight_kg", "EDD", "consented"])
    sheet.append(["W1", 29.0, 64.5, date(2024, 3, 1), True])
    sheet.append([])
    sheet.append(["W2", 30, None, None, None])
    out = io.BytesIO()
    workbook.save(out)
    tables = read_tables(out.getvalue(), "upload.XLSX")
    assert tables["women"] == [
        {
            "study_id": "W1",
            "age": "29",
            "weight_kg": "64.5",
            "edd": "2024-03-01",
            "consented": "yes",
        },
        {"study_id": "W2", "age": "30", "weight_kg": "", "edd": "", "consented": ""},
    ]
    assert [row.number for row in tables["women"]] == [2, 4]  # type: ignore[attr-defined]


# --- per-cell errors -----------------------------------------------------------------------


def test_one_bad_cell_is_listed_exactly() -> None:
    data = csv_bytes(
        "W1,29,64.5,2024-03-01,yes,Glasgow,12+3,ok",
        "W2,30,70,31/02/2024,no,glasgow,13+0,ok",
    )
    rows = read_tables(data, "women.csv")["women"]
    with pytest.raises(TableError) as excinfo:
        validate("women", rows, WOMEN)
    assert excinfo.value.errors == [
        CellError("women", 3, "edd", '"31/02/2024" is not a date (use YYYY-MM-DD)')
    ]
    assert str(excinfo.value.errors[0]) == (
        'women row 3, column edd: "31/02/2024" is not a date (use YYYY-MM-DD)'
    )
    assert "women row 3, column edd" in str(excinfo.value)


def test_several_bad_cells_are_all_listed() -> None:
    data = csv_bytes(
        "",  # a blank line: skipped, but still counted in row numbers
        "W1,eleven,64.5,2024-02-30,maybe,Leith,12+7,ok",
        ",11,1.2.3,2024-03-01,yes,GLASGOW,46+0,ok",
        "W3,29,64.5,2024-03-01,yes,Glasgow,39+2,ok",
    )
    rows = read_tables(data, "women.csv")["women"]
    with pytest.raises(TableError) as excinfo:
        validate("women", rows, WOMEN)
    assert errors_of(excinfo) == [
        ("women", 3, "age"),
        ("women", 3, "edd"),
        ("women", 3, "consented"),
        ("women", 3, "site"),
        ("women", 3, "gestation"),
        ("women", 4, "study_id"),
        ("women", 4, "age"),
        ("women", 4, "weight_kg"),
        ("women", 4, "gestation"),
    ]
    messages = [str(error) for error in excinfo.value.errors]
    assert messages[5] == "women row 4, column study_id: is required"
    assert messages[6] == 'women row 4, column age: "11" is less than the minimum, 12'
    assert "10 problems" not in str(excinfo.value)
    assert str(excinfo.value).startswith("9 problems found; nothing was imported:")


def test_unknown_and_missing_columns_are_errors_on_row_1() -> None:
    data = b"Age,Colour\n29,blue\n"
    rows = read_tables(data, "women.csv")["women"]
    with pytest.raises(TableError) as excinfo:
        validate("women", rows, WOMEN)
    assert errors_of(excinfo) == [("women", 1, "colour"), ("women", 1, "study_id")]


def test_error_message_lists_the_first_20() -> None:
    data = csv_bytes(*[f"W{i},old,,,,,," for i in range(25)])
    rows = read_tables(data, "women.csv")["women"]
    with pytest.raises(TableError) as excinfo:
        validate("women", rows, WOMEN)
    assert len(excinfo.value.errors) == 25
    message = str(excinfo.value)
    assert "row 21," in message
    assert "row 22," not in message
    assert "… and 5 more" in message


def test_validate_converts_values() -> None:
    rows = [
        {
            "study_id": " W1 ",
            "age": " 30.0 ",
            "consented": "TRUE",
            "site": "ayrshire and arran — cumnock",
        },
        {"study_id": "W2", "change": "'-1.50", "consented": "0", "gestation": " 9 + 1 ", "edd": ""},
    ]
    columns = (*WOMEN, Column("change", "decimal"))
    assert validate("women", rows, columns) == [
        {
            "study_id": " W1 ",
            "age": 30,
            "weight_kg": None,
            "edd": None,
            "consented": True,
            "site": "Ayrshire and Arran — Cumnock",
            "gestation": None,
            "notes": None,
            "change": None,
        },
        {
            "study_id": "W2",
            "age": None,
            "weight_kg": None,
            "edd": None,
            "consented": False,
            "site": None,
            "gestation": 64,
            "notes": None,
            "change": Decimal("-1.50"),
        },
    ]


def test_long_row_is_an_error_naming_the_row() -> None:
    data = b"study_id,age\nW1,29\nW2,30,extra\nW3,31,,\n"
    with pytest.raises(TableError) as excinfo:
        read_tables(data, "women.csv")
    assert errors_of(excinfo) == [("women", 3, "")]
    assert str(excinfo.value.errors[0]) == "women row 3: has 3 values but the header has 2 columns"


# --- encodings and delimiters --------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "cp1252", "utf-8", "utf-8-sig"])
def test_encodings(encoding: str) -> None:
    data = csv_bytes("W1,,,,,Ayrshire and Arran — Cumnock,,Zoë", encoding=encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    [record] = validate("women", read_tables(data, "women.csv")["women"], WOMEN)
    assert record["site"] == "Ayrshire and Arran — Cumnock"
    assert record["notes"] == "Zoë"


def test_latin1_file() -> None:
    data = "study_id;notes\r\nW1;Zoë\r\n".encode("latin-1")
    assert read_tables(data, "women.csv")["women"] == [{"study_id": "W1", "notes": "Zoë"}]


def test_undecodable_text_names_the_line() -> None:
    data = b"study_id,notes\nW1,ok\nW2,\x81\x8d\n"  # not UTF-8, and undefined in cp1252
    with pytest.raises(TableError, match=r"women\.csv line 3 is not readable text"):
        read_tables(data, "women.csv")


def test_semicolon_delimited_csv() -> None:
    data = b"Study_ID; Age ;Site\nW1;29;Glasgow, west\nW2;;glasgow\n"
    rows = read_tables(data, "interviews_women.csv")["interviews_women"]
    assert rows == [
        {"study_id": "W1", "age": "29", "site": "Glasgow, west"},
        {"study_id": "W2", "age": "", "site": "glasgow"},
    ]


def test_tab_delimited_csv() -> None:
    data = b"study_id\tage\nW1\t29\n"
    assert read_tables(data, "Infants.csv") == {"infants": [{"study_id": "W1", "age": "29"}]}


# --- spreadsheet safety --------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://x")'
NOTES = (Column("study_id", "text", required=True), Column("notes", "text"))


def test_formula_injection_csv() -> None:
    text = write_csv(NOTES, [{"study_id": "W1", "notes": FORMULA}])
    assert text.splitlines()[1] == 'W1,"\'=HYPERLINK(""http://x"")"'
    rows = read_tables(text.encode(), "women.csv")["women"]
    assert rows[0]["notes"] == "'" + FORMULA
    assert validate("women", rows, NOTES) == [{"study_id": "W1", "notes": FORMULA}]


def test_formula_injection_xlsx() -> None:
    data = write_xlsx({"women": (NOTES, [{"study_id": "W1", "notes": FORMULA}])})
    workbook = load_workbook(io.BytesIO(data))
    cell = workbook["women"]["B2"]
    assert cell.data_type == "s"
    assert cell.value == "'" + FORMULA
    assert not any(
        cell.data_type == "f"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
    )
    rows = read_tables(data, "women.xlsx")["women"]
    assert validate("women", rows, NOTES) == [{"study_id": "W1", "notes": FORMULA}]


# --- refused files -------------------------------------------------------------------------


BIG = "xl/worksheets/sheet1.xml"


def bomb(declared: int | None = None, size: int = 2 * 1024 * 1024) -> bytes:
    """A zip with a highly compressible member, optionally declaring a different size."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(BIG, b"\0" * size)
    data = bytearray(out.getvalue())
    if declared is not None:
        # Patch the uncompressed size in the member's local header and central directory entry.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            local = archive.getinfo(BIG).header_offset
        struct.pack_into("<I", data, local + 22, declared)
        central = data.index(b"PK\x01\x02")
        while data[central + 46 : central + 46 + len(BIG)] != BIG.encode():
            central = data.index(b"PK\x01\x02", central + 4)
        struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def no_parsing(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the workbook must not be parsed")


def test_xlsx_declaring_a_huge_size_is_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = bomb(declared=0xFFFF_FF00)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 0xFFFF_FF00
    monkeypatch.setattr(tabular, "load_workbook", no_parsing)
    with pytest.raises(TableError, match=r"bomb\.xlsx would unpack to 4096\.0 MB") as excinfo:
        read_tables(data, "bomb.xlsx")
    assert excinfo.value.errors == []


def test_highly_compressible_xlsx_is_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = bomb(size=4 * 1024 * 1024)
    assert len(data) < 20 * 1024
    monkeypatch.setattr(tabular, "MAX_BYTES", 100 * 1024)  # limit 2 MB unpacked
    monkeypatch.setattr(tabular, "load_workbook", no_parsing)
    with pytest.raises(TableError, match=r"bomb\.xlsx would unpack to 4\.0 MB"):
        read_tables(data, "bomb.xlsx")


@pytest.mark.parametrize(
    "data",
    [b"", b"not a zip at all \x00\x01\x02" * 50, b"PK\x03\x04 truncated", bomb(size=10)],
)
def test_non_xlsx_is_refused_with_a_clear_message(data: bytes) -> None:
    with pytest.raises(TableError) as excinfo:
        read_tables(data, "C:\\Users\\me\\cohort.xlsx")
    assert str(excinfo.value) == (
        "cohort.xlsx is not a valid .xlsx file; save it from your spreadsheet as .xlsx."
    )


def test_random_bytes_xlsx_is_refused() -> None:
    data = bytes(range(256)) * 40
    with pytest.raises(TableError, match=r"^junk\.xlsx is not a valid \.xlsx file"):
        read_tables(data, "junk.xlsx")


@pytest.mark.parametrize("filename", ["women.xls", "women.txt", "women", "women.csv.zip"])
def test_wrong_extension(filename: str) -> None:
    with pytest.raises(TableError, match=r"only \.csv or \.xlsx is accepted"):
        read_tables(b"study_id\nW1\n", filename)


def test_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_BYTES", 10)
    with pytest.raises(TableError, match=r"^women\.csv is 0\.0 MB; the limit is 0\.0 MB"):
        read_tables(b"study_id\nW1\nW2\n", "women.csv")


def test_too_many_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 2)
    assert len(read_tables(b"study_id\nW1\nW2\n", "women.csv")["women"]) == 2
    with pytest.raises(TableError, match=r"^women\.csv has more than 2 rows"):
        read_tables(b"study_id\nW1\nW2\nW3\n", "women.csv")
    data = write_xlsx({"women": (NOTES, [{"study_id": f"W{i}"} for i in range(3)])})
    with pytest.raises(TableError, match=r"^w\.xlsx has more than 2 rows"):
        read_tables(data, "w.xlsx")


# --- property ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=5))
def test_any_text_survives_a_csv_round_trip(texts: list[str]) -> None:
    records = [{"study_id": str(i), "notes": text} for i, text in enumerate(texts)]
    data = write_csv(NOTES, records).encode("utf-8")
    rows = read_tables(data, "women.csv")["women"]
    # Whitespace-only cells count as empty, and empty cells come back as None.
    expected = [
        {**record, "notes": record["notes"] if record["notes"].strip() else None}
        for record in records
    ]
    assert validate("women", rows, NOTES) == expected


def test_a_control_character_cannot_smuggle_a_formula_into_xlsx() -> None:
    hidden = "\x01" + FORMULA
    data = write_xlsx({"women": (NOTES, [{"study_id": "W1", "notes": hidden}])})
    cell = load_workbook(io.BytesIO(data))["women"]["B2"]
    assert cell.data_type == "s"
    assert cell.value == "'" + FORMULA
