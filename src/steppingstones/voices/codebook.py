"""The codebook as plain data: the tree, safe moves, merges and splits, versions and their
differences, and the codebook file formats (REFI-QDA ``.qdc``, CSV and XLSX).

Codes are :class:`CodeRecord` values identified by their GUID (the identity REFI-QDA uses and
that survives export and import); a parent is referred to by GUID. Codings are
:class:`CodingRecord` values identified by their database id. Nothing here touches Django:
:mod:`steppingstones.voices.coding_service` reads the records from the database, calls these
functions and writes the outcome back in one transaction.

File formats
------------
``.qdc`` (REFI-QDA Codebook.xsd) carries a code's name, GUID, colour, whether it is codable and
one ``Description``. The inclusion and exclusion criteria and the example travel inside that
description as labelled paragraphs (``Inclusion criteria: ...``), which :func:`from_qdc` reads
back; other software shows them as ordinary description text.

CSV and XLSX have one row per code, parents before children, with the columns of
:data:`COLUMNS`. Only ``name`` is required. A row's parent is given by ``parent_guid`` (a GUID in
the file or already in the codebook) or, when that is empty, by ``path``: the names from the top
of the tree down to the code, joined by ``" > "``. Every faulty cell is reported by row and
column and nothing is read when one is found.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from steppingstones.core.exports import spreadsheet_safe
from steppingstones.voices import refiqda

PATH_SEPARATOR = " > "
DEFAULT_COLOUR = "#1f77b4"
COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
GUID_RE = re.compile(r"^\{?[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?$")
COLUMNS = (
    "guid",
    "parent_guid",
    "path",
    "name",
    "description",
    "inclusion",
    "exclusion",
    "example",
    "colour",
    "codable",
)
TEXT_FIELDS = ("name", "description", "inclusion", "exclusion", "example", "colour")
EDITABLE_FIELDS = (*TEXT_FIELDS, "is_codable")
MAX_ROWS = 10_000
MAX_NAME = 200
_SECTIONS = (
    ("inclusion", "Inclusion criteria:"),
    ("exclusion", "Exclusion criteria:"),
    ("example", "Example:"),
)
_TRUE = {"yes", "y", "true", "1", "codable"}
_FALSE = {"no", "n", "false", "0", "not codable"}


class CodebookError(ValueError):
    """A change that would break the codebook (a cycle, an unknown code, a bad value)."""


class CodebookImportError(ValueError):
    """A codebook file that cannot be read; ``errors`` names each fault and where it is."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


def new_guid() -> str:
    return str(uuid.uuid4()).upper()


def canonical_guid(value: str) -> str:
    return value.strip().strip("{}").upper()


@dataclass(frozen=True)
class CodeRecord:
    guid: str
    name: str
    parent: str | None = None
    description: str = ""
    inclusion: str = ""
    exclusion: str = ""
    example: str = ""
    colour: str = DEFAULT_COLOUR
    is_codable: bool = True
    position: int = 0


@dataclass(frozen=True)
class CodingRecord:
    """One coding, enough to tell two codings of the same passage by the same coder apart."""

    id: int
    code: str  # the code's GUID
    source: int
    coder: str
    start: int | None = None
    end: int | None = None
    region: tuple[tuple[str, float], ...] | None = None
    time_start: float | None = None
    time_end: float | None = None

    def place(self) -> tuple[Any, ...]:
        """Where the coding is and who made it: two codings with the same place are one."""
        return (
            self.source,
            self.coder,
            self.start,
            self.end,
            self.region,
            self.time_start,
            self.time_end,
        )


@dataclass
class TreeNode:
    code: CodeRecord
    depth: int
    children: list[TreeNode] = field(default_factory=list)

    def walk(self) -> Iterator[TreeNode]:
        yield self
        for child in self.children:
            yield from child.walk()


# ------------------------------------------------------------------------------------ the tree


def build_tree(codes: Iterable[CodeRecord]) -> list[TreeNode]:
    """The codes as a forest, siblings ordered by position then name. A code whose parent is
    missing (or that sits on a cycle) becomes a top-level code rather than disappearing."""
    records = list(codes)
    by_guid = {code.guid: code for code in records}
    children: dict[str | None, list[CodeRecord]] = defaultdict(list)
    for code in records:
        parent = code.parent if code.parent in by_guid and code.parent != code.guid else None
        children[parent].append(code)
    for siblings in children.values():
        siblings.sort(key=lambda c: (c.position, c.name.casefold(), c.guid))
    placed: set[str] = set()

    def grow(code: CodeRecord, depth: int) -> TreeNode:
        placed.add(code.guid)
        node = TreeNode(code, depth)
        for child in children.get(code.guid, []):
            if child.guid not in placed:
                node.children.append(grow(child, depth + 1))
        return node

    forest = [grow(code, 0) for code in children.get(None, [])]
    for code in records:  # codes on a cycle were never reached from a root
        if code.guid not in placed:
            forest.append(grow(code, 0))
    return forest


def walk(forest: Sequence[TreeNode]) -> Iterator[TreeNode]:
    """Every node, depth first, in display order."""
    for node in forest:
        yield from node.walk()


def paths(codes: Iterable[CodeRecord]) -> dict[str, str]:
    """Each code's path from the top of the tree: ``"Care > Midwife > Named midwife"``."""
    result: dict[str, str] = {}

    def visit(node: TreeNode, prefix: str) -> None:
        result[node.code.guid] = prefix + node.code.name
        for child in node.children:
            visit(child, result[node.code.guid] + PATH_SEPARATOR)

    for root in build_tree(codes):
        visit(root, "")
    return result


def descendants(codes: Iterable[CodeRecord], guid: str) -> set[str]:
    """The GUIDs below ``guid`` (not including it)."""
    children: dict[str, list[str]] = defaultdict(list)
    for code in codes:
        if code.parent:
            children[code.parent].append(code.guid)
    found: set[str] = set()
    stack = list(children.get(guid, []))
    while stack:
        current = stack.pop()
        if current in found or current == guid:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def check_move(codes: Iterable[CodeRecord], guid: str, new_parent: str | None) -> None:
    """Refuse a move that would put a code under itself or under one of its descendants."""
    records = list(codes)
    known = {code.guid for code in records}
    if guid not in known:
        raise CodebookError("the code to move is not in this codebook")
    if new_parent is None:
        return
    if new_parent not in known:
        raise CodebookError("the new parent is not in this codebook")
    if new_parent == guid:
        raise CodebookError("a code cannot be its own parent")
    if new_parent in descendants(records, guid):
        raise CodebookError("a code cannot move under one of its own sub-codes")


# ------------------------------------------------------------------------- merge and split


@dataclass(frozen=True)
class MergePlan:
    reassign: tuple[int, ...]  # codings that move to the target
    delete: tuple[int, ...]  # codings that would duplicate one the target already has
    reparent: tuple[str, ...]  # child codes of the merged codes, moving under the target


def plan_merge(
    codes: Iterable[CodeRecord],
    codings: Iterable[CodingRecord],
    merged: Iterable[str],
    target: str,
) -> MergePlan:
    """Merge the ``merged`` codes into ``target``: their codings move to the target, a coding
    the target already has (same source, coder and place) collapses into it, and the merged
    codes' own sub-codes move under the target. The target cannot be one of the merged codes
    or below one of them."""
    records = list(codes)
    known = {code.guid for code in records}
    merged_set = set(merged)
    if target not in known:
        raise CodebookError("the target code is not in this codebook")
    if not merged_set:
        raise CodebookError("choose at least one code to merge")
    if unknown := merged_set - known:
        raise CodebookError(f"{len(unknown)} of the codes to merge are not in this codebook")
    if target in merged_set:
        raise CodebookError("a code cannot be merged into itself")
    for guid in merged_set:
        if target in descendants(records, guid):
            raise CodebookError("a code cannot be merged into one of its own sub-codes")
    seen: set[tuple[Any, ...]] = set()
    moving: list[CodingRecord] = []
    for coding in codings:
        if coding.code == target:
            seen.add(coding.place())
        elif coding.code in merged_set:
            moving.append(coding)
    reassign: list[int] = []
    delete: list[int] = []
    for coding in sorted(moving, key=lambda c: c.id):
        if coding.place() in seen:
            delete.append(coding.id)
        else:
            seen.add(coding.place())
            reassign.append(coding.id)
    reparent = tuple(
        sorted(
            code.guid
            for code in records
            if code.parent in merged_set and code.guid not in merged_set
        )
    )
    return MergePlan(tuple(reassign), tuple(delete), reparent)


def plan_split(
    codings: Iterable[CodingRecord], code: str, assignment: Mapping[int, int], parts: int
) -> dict[int, int]:
    """Check a split of ``code`` into ``parts`` new codes: ``assignment`` maps a coding id to
    the index of the new code it moves to; codings left out stay with the original code."""
    if parts < 1:
        raise CodebookError("a split needs at least one new code")
    own = {coding.id for coding in codings if coding.code == code}
    plan: dict[int, int] = {}
    for coding_id, index in assignment.items():
        if coding_id not in own:
            raise CodebookError(f"coding {coding_id} is not a coding of this code")
        if not 0 <= index < parts:
            raise CodebookError(f"coding {coding_id} is assigned to a new code that is not there")
        plan[coding_id] = index
    return plan


# ------------------------------------------------------------------ versions and differences


def snapshot(codes: Iterable[CodeRecord]) -> list[dict[str, Any]]:
    """The codebook as JSON-ready data in tree order (what a version freezes)."""
    records = list(codes)
    code_paths = paths(records)
    rows = []
    for node in walk(build_tree(records)):
        row = asdict(node.code)
        row["path"] = code_paths[node.code.guid]
        row["depth"] = node.depth
        rows.append(row)
    return rows


def from_snapshot(rows: Iterable[Mapping[str, Any]]) -> list[CodeRecord]:
    names = set(CodeRecord.__dataclass_fields__)
    return [CodeRecord(**{k: v for k, v in row.items() if k in names}) for row in rows]


@dataclass(frozen=True)
class Difference:
    kind: str  # "added", "removed", "renamed", "moved", "edited"
    guid: str
    name: str
    detail: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        if self.kind == "renamed":
            old, new = self.detail["name"]
            return f"renamed “{old}” to “{new}”"
        if self.kind == "moved":
            old, new = self.detail["path"]
            return f"moved “{self.name}” from {old} to {new}"
        if self.kind == "edited":
            return f"edited “{self.name}”: " + ", ".join(sorted(self.detail))
        return f"{self.kind} “{self.name}”"


def diff(before: Iterable[CodeRecord], after: Iterable[CodeRecord]) -> list[Difference]:
    """What changed from one codebook to another, code by code (matched by GUID)."""
    old = {code.guid: code for code in before}
    new = {code.guid: code for code in after}
    old_paths, new_paths = paths(old.values()), paths(new.values())

    def parent_path(code_paths: Mapping[str, str], parent: str | None) -> str:
        return code_paths.get(parent, "the top level") if parent else "the top level"

    changes: list[Difference] = []
    for guid, code in new.items():
        if guid not in old:
            changes.append(Difference("added", guid, code.name))
            continue
        previous = old[guid]
        if previous.name != code.name:
            changes.append(
                Difference("renamed", guid, code.name, {"name": (previous.name, code.name)})
            )
        if previous.parent != code.parent:
            move = (parent_path(old_paths, previous.parent), parent_path(new_paths, code.parent))
            changes.append(Difference("moved", guid, code.name, {"path": move}))
        edited = {
            name: (getattr(previous, name), getattr(code, name))
            for name in EDITABLE_FIELDS
            if name != "name" and getattr(previous, name) != getattr(code, name)
        }
        if edited:
            changes.append(Difference("edited", guid, code.name, edited))
    for guid, code in old.items():
        if guid not in new:
            changes.append(Difference("removed", guid, code.name))
    order = {guid: index for index, guid in enumerate(new_paths)}
    changes.sort(key=lambda d: (order.get(d.guid, len(order)), d.kind))
    return changes


# --------------------------------------------------------------------------- REFI-QDA (.qdc)


def qdc_description(code: CodeRecord) -> str | None:
    """The description, then the criteria and example as labelled paragraphs."""
    parts = [code.description.strip()] if code.description.strip() else []
    for name, label in _SECTIONS:
        value = getattr(code, name).strip()
        if value:
            parts.append(f"{label} {value}")
    return "\n\n".join(parts) or None


def split_description(text: str | None) -> dict[str, str]:
    """Undo :func:`qdc_description`: the description and any labelled paragraphs."""
    found = {"description": "", "inclusion": "", "exclusion": "", "example": ""}
    if not text:
        return found
    current = "description"
    pieces: dict[str, list[str]] = defaultdict(list)
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        for name, label in _SECTIONS:
            if paragraph.startswith(label):
                current = name
                paragraph = paragraph[len(label) :].strip()
                break
        pieces[current].append(paragraph)
    for name, values in pieces.items():
        found[name] = "\n\n".join(v for v in values if v).strip()
    return found


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(value: str | None) -> str | None:
    """Text XML 1.0 can carry: control characters (never meaningful in a codebook) dropped."""
    return _XML_ILLEGAL.sub("", value) if value is not None else None


def to_qdc(codes: Iterable[CodeRecord]) -> refiqda.Codebook:
    def convert(node: TreeNode) -> refiqda.Code:
        return refiqda.Code(
            guid=node.code.guid,
            name=_xml_text(node.code.name) or "(unnamed)",
            is_codable=node.code.is_codable,
            color=node.code.colour if COLOUR_RE.match(node.code.colour) else None,
            description=_xml_text(qdc_description(node.code)),
            children=tuple(convert(child) for child in node.children),
        )

    return refiqda.Codebook(codes=tuple(convert(root) for root in build_tree(codes)))


def from_qdc(codebook: refiqda.Codebook) -> list[CodeRecord]:
    records: list[CodeRecord] = []
    seen: set[str] = set()

    def visit(code: refiqda.Code, parent: str | None, position: int) -> None:
        guid = canonical_guid(code.guid)
        if guid in seen:
            raise CodebookImportError([f'<Code name="{code.name}">: the GUID {guid} is used twice'])
        seen.add(guid)
        if not code.name.strip():
            raise CodebookImportError([f'<Code guid="{guid}">: the name is empty'])
        texts = split_description(code.description)
        records.append(
            CodeRecord(
                guid=guid,
                name=code.name.strip()[:MAX_NAME],
                parent=parent,
                colour=_six_digit(code.color) if code.color else DEFAULT_COLOUR,
                is_codable=code.is_codable,
                position=position,
                **texts,
            )
        )
        for index, child in enumerate(code.children):
            visit(child, guid, index)

    for index, code in enumerate(codebook.codes):
        visit(code, None, index)
    return records


def write_qdc(codes: Iterable[CodeRecord]) -> bytes:
    return refiqda.write_qdc(to_qdc(codes))


def read_qdc(data: bytes, label: str = "codebook.qdc") -> list[CodeRecord]:
    try:
        codebook = refiqda.read_qdc(data, label=label)
    except refiqda.RefiQdaError as error:
        raise CodebookImportError([str(error)]) from error
    records = from_qdc(codebook)
    if not records:
        raise CodebookImportError([f"{label}: <Codes> holds no <Code> element"])
    return records


def _six_digit(colour: str) -> str:
    colour = colour.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{3}", colour):
        colour = "#" + "".join(ch * 2 for ch in colour[1:])
    return colour.lower()


# ---------------------------------------------------------------------------- CSV and XLSX


def table_rows(codes: Iterable[CodeRecord]) -> list[list[Any]]:
    """One row per code in tree order, the columns of :data:`COLUMNS`."""
    records = list(codes)
    code_paths = paths(records)
    rows = []
    for node in walk(build_tree(records)):
        code = node.code
        rows.append(
            [
                code.guid,
                code.parent or "",
                code_paths[code.guid],
                code.name,
                code.description,
                code.inclusion,
                code.exclusion,
                code.example,
                code.colour,
                "yes" if code.is_codable else "no",
            ]
        )
    return rows


def write_csv(codes: Iterable[CodeRecord]) -> bytes:
    """CSV (UTF-8 with a signature, so that spreadsheets open it with the right characters);
    every cell guarded against formula injection."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in table_rows(codes):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(codes: Iterable[CodeRecord]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "codebook"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table_rows(codes):
        sheet.append([spreadsheet_safe(ILLEGAL_CHARACTERS_RE.sub("", str(cell))) for cell in row])
    for letter, width in zip("ABCDEFGHIJ", (38, 38, 40, 28, 50, 40, 40, 40, 10, 9), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _unguard(value: str) -> str:
    """Undo the export's formula guard: a leading apostrophe before a formula trigger."""
    if (
        value.startswith("'")
        and value[1:2]
        and value[1:].startswith(("=", "+", "-", "@", "|", "%"))
    ):
        return value[1:]
    return value


def read_table(
    header: Sequence[Any], rows: Iterable[tuple[int, Sequence[Any]]], existing: Iterable[str] = ()
) -> list[CodeRecord]:
    """Codes from a table: ``header`` and numbered rows (the number a user sees in a spreadsheet).

    ``existing`` are GUIDs already in the codebook that a ``parent_guid`` may name.
    """
    names = [str(cell or "").strip().lower().replace(" ", "_") for cell in header]
    errors: list[str] = []
    aliases = {"color": "colour", "is_codable": "codable", "parent": "path", "code": "name"}
    names = [aliases.get(name, name) for name in names]
    if "name" not in names:
        raise CodebookImportError(["row 1: there is no “name” column"])
    for duplicate in sorted({n for n in names if n and names.count(n) > 1}):
        errors.append(f"row 1: the column “{duplicate}” appears twice")
    if errors:
        raise CodebookImportError(errors)
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        raise CodebookImportError(
            [f"row 1: unknown column “{n}” (expected: {', '.join(COLUMNS)})" for n in unknown]
        )
    existing_set = set(existing)
    parsed: list[tuple[int, dict[str, str]]] = []
    for number, row in rows:
        values = {
            name: _unguard(str(row[i]).strip()) if i < len(row) and row[i] is not None else ""
            for i, name in enumerate(names)
            if name
        }
        if not any(values.values()):
            continue
        parsed.append((number, values))
        if len(parsed) > MAX_ROWS:
            raise CodebookImportError([f"row {number}: more than {MAX_ROWS:,} codes"])
    guids: dict[str, int] = {}
    by_path: dict[str, str] = {}
    path_of: dict[str, str] = {}
    records: list[CodeRecord] = []
    positions: dict[str | None, int] = defaultdict(int)
    for number, values in parsed:
        row_errors: list[str] = []
        name = values.get("name", "")
        if not name:
            row_errors.append(f"row {number}, column name: a code needs a name")
        elif len(name) > MAX_NAME:
            row_errors.append(f"row {number}, column name: longer than {MAX_NAME} characters")
        guid = values.get("guid", "")
        if guid:
            if not GUID_RE.match(guid):
                row_errors.append(f"row {number}, column guid: “{guid}” is not a GUID")
            else:
                guid = canonical_guid(guid)
                if guid in guids:
                    row_errors.append(
                        f"row {number}, column guid: the GUID is already used in row {guids[guid]}"
                    )
        else:
            guid = new_guid()
        colour = values.get("colour", "") or DEFAULT_COLOUR
        if not COLOUR_RE.match(colour):
            row_errors.append(
                f"row {number}, column colour: “{colour}” is not a colour like #1f77b4"
            )
        codable_text = values.get("codable", "").lower()
        if codable_text and codable_text not in _TRUE | _FALSE:
            row_errors.append(f"row {number}, column codable: “{codable_text}” is not yes or no")
        parent: str | None = None
        parent_guid = values.get("parent_guid", "")
        path = values.get("path", "")
        if parent_guid:
            if not GUID_RE.match(parent_guid):
                row_errors.append(
                    f"row {number}, column parent_guid: “{parent_guid}” is not a GUID"
                )
            else:
                parent = canonical_guid(parent_guid)
                if parent not in guids and parent not in existing_set:
                    row_errors.append(
                        f"row {number}, column parent_guid: no code above this row or in the "
                        f"codebook has the GUID {parent}"
                    )
        elif path:
            segments = [s.strip() for s in path.split(PATH_SEPARATOR.strip())]
            if name and segments[-1] != name:
                row_errors.append(
                    f"row {number}, column path: the path should end with the code's name “{name}”"
                )
            elif len(segments) > 1:
                parent_path = PATH_SEPARATOR.join(segments[:-1])
                parent = by_path.get(parent_path)
                if parent is None:
                    row_errors.append(
                        f"row {number}, column path: no row above this one is “{parent_path}”"
                    )
        if row_errors:
            errors.extend(row_errors)
            continue
        guids[guid] = number
        records.append(
            CodeRecord(
                guid=guid,
                name=name,
                parent=parent,
                description=values.get("description", ""),
                inclusion=values.get("inclusion", ""),
                exclusion=values.get("exclusion", ""),
                example=values.get("example", ""),
                colour=_six_digit(colour),
                is_codable=codable_text not in _FALSE,
                position=positions[parent],
            )
        )
        positions[parent] += 1
        parent_path_text = path_of.get(parent) if parent else None
        path_of[guid] = (parent_path_text + PATH_SEPARATOR if parent_path_text else "") + name
        by_path[path_of[guid]] = guid
    if errors:
        raise CodebookImportError(errors)
    if not records:
        raise CodebookImportError(["the file holds no codes"])
    return records


def read_csv(data: bytes, existing: Iterable[str] = ()) -> list[CodeRecord]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CodebookImportError(
            [f"byte {error.start + 1}: the file is not UTF-8 text (save it as CSV UTF-8)"]
        ) from error
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise CodebookImportError([f"the CSV cannot be read: {error}"]) from error
    if not table:
        raise CodebookImportError(["the file is empty"])
    return read_table(table[0], enumerate(table[1:], start=2), existing)


def read_xlsx(data: bytes, existing: Iterable[str] = ()) -> list[CodeRecord]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of error for a broken file
        raise CodebookImportError(["the file is not a readable XLSX workbook"]) from error
    try:
        sheet = (
            workbook["codebook"] if "codebook" in workbook.sheetnames else workbook.worksheets[0]
        )
        rows = list(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2))
    except Exception as error:  # a broken worksheet only shows itself while being read
        raise CodebookImportError(["the workbook's first worksheet cannot be read"]) from error
    finally:
        workbook.close()
    if not rows:
        raise CodebookImportError(["the worksheet is empty"])
    return read_table(rows[0], enumerate(rows[1:], start=2), existing)


def read_codebook(filename: str, data: bytes, existing: Iterable[str] = ()) -> list[CodeRecord]:
    """Read a ``.qdc``, ``.csv`` or ``.xlsx`` codebook by its file name's ending."""
    lower = filename.lower()
    if lower.endswith(".qdc") or lower.endswith(".xml"):
        return read_qdc(data, label=filename)
    if lower.endswith(".csv"):
        return read_csv(data, existing)
    if lower.endswith(".xlsx"):
        return read_xlsx(data, existing)
    raise CodebookImportError([f"{filename}: give a .qdc, .csv or .xlsx file"])
