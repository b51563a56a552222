"""The framework method: a cases x themes x waves matrix, each cell a summary with its passages.

The framework method (Ritchie & Spencer 1994; Gale, Heath, Cameron, Rashid & Redwood 2013,
"Using the framework method for the analysis of qualitative data in multi-disciplinary health
research", BMC Medical Research Methodology 13: 117) charts the coded data into a matrix: one row
per case (here a woman's or a staff member's pseudonym), one column per theme, and, for a
longitudinal study, one matrix per wave. Each cell holds the analyst's summary of what that case
said on that theme at that wave, with references back to the coded passages it summarises, so a
reader can go from summary to transcript.

Read it along a row across waves (``case_trajectory``: how one woman's account changes), down a
wave (``cross_section``: all cases at one time point), and check it (``coverage``: cells with coded
passages but no summary yet, and summaries with no passage behind them). ``to_xlsx`` and ``to_docx``
export it; every text cell of the spreadsheet goes through ``spreadsheet_safe``.

Plain Python: no Django.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from steppingstones.core.exports import spreadsheet_safe
from steppingstones.voices.agreement import Coding

# Characters XML 1.0 (and so XLSX and DOCX) cannot hold: control characters but tab and newlines.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
CUBE_SHEET = "Cube"


@dataclass(frozen=True, slots=True, order=True)
class PassageRef:
    """A passage of a document: characters ``start`` to ``end`` (exclusive)."""

    document_id: str
    start: int
    end: int

    def label(self) -> str:
        return f"{self.document_id} [{self.start}-{self.end}]"


@dataclass(frozen=True, slots=True)
class Cell:
    case: str
    theme: str
    wave: str
    summary: str = ""
    passages: tuple[PassageRef, ...] = ()

    @property
    def summarised(self) -> bool:
        return bool(self.summary.strip())


@dataclass(frozen=True)
class FrameworkMatrix:
    """Cases x themes x waves. Every combination has a cell (an empty one when nothing is there)."""

    cases: tuple[str, ...]
    themes: tuple[str, ...]
    waves: tuple[str, ...]
    cells: Mapping[tuple[str, str, str], Cell] = field(default_factory=dict)

    def cell(self, case: str, theme: str, wave: str) -> Cell:
        if case not in self.cases or theme not in self.themes or wave not in self.waves:
            raise KeyError(f"no cell ({case!r}, {theme!r}, {wave!r}) in this matrix")
        return self.cells.get((case, theme, wave)) or Cell(case, theme, wave)

    def __iter__(self) -> Iterator[Cell]:
        """Every cell, wave by wave, case by case, theme by theme."""
        for wave in self.waves:
            for case in self.cases:
                for theme in self.themes:
                    yield self.cell(case, theme, wave)


@dataclass(frozen=True, slots=True)
class Coverage:
    cells: int
    summarised: int
    missing_summaries: tuple[Cell, ...]  # passages coded but no summary written
    unsupported_summaries: tuple[Cell, ...]  # a summary with no coded passage behind it

    @property
    def complete(self) -> bool:
        return not self.missing_summaries


def _unique(name: str, values: Sequence[str]) -> tuple[str, ...]:
    result = tuple(values)
    if len(set(result)) != len(result):
        raise ValueError(f"{name} must be distinct")
    return result


def _merge(refs: Iterable[PassageRef]) -> tuple[PassageRef, ...]:
    """Overlapping or touching passages of one document joined into one, sorted."""
    merged: list[PassageRef] = []
    for ref in sorted(refs):
        last = merged[-1] if merged else None
        if last and last.document_id == ref.document_id and ref.start <= last.end:
            merged[-1] = PassageRef(ref.document_id, last.start, max(last.end, ref.end))
        else:
            merged.append(ref)
    return tuple(merged)


def build_matrix(
    cases: Sequence[str],
    themes: Sequence[str] | Mapping[str, Iterable[str]],
    waves: Sequence[str],
    summaries: Mapping[tuple[str, str, str], str],
    codings: Iterable[Coding],
    documents: Mapping[str, tuple[str, str]],
    coder: str | None = None,
) -> FrameworkMatrix:
    """Chart summaries and coded passages into a framework matrix.

    ``themes`` is a list of code ids (each code its own theme) or a mapping of theme name to the
    code ids it gathers. ``summaries`` maps (case, theme, wave) to the analyst's summary.
    ``documents`` maps a document id to its (case, wave): an interview with that woman at that wave.
    ``coder`` keeps only that coder's codings (for example the consensus coding).

    Codings of codes outside every theme, or of documents whose case or wave is not in the matrix,
    are left out; a summary for a cell outside the matrix is an error.
    """
    cases = _unique("cases", cases)
    waves = _unique("waves", waves)
    if isinstance(themes, Mapping):
        theme_codes = {theme: tuple(codes) for theme, codes in themes.items()}
    else:
        theme_codes = {theme: (theme,) for theme in themes}
    theme_names = _unique("themes", list(theme_codes))
    themes_of_code: dict[str, list[str]] = defaultdict(list)
    for theme, codes in theme_codes.items():
        for code in codes:
            themes_of_code[code].append(theme)

    for case, theme, wave in summaries:
        if case not in cases or theme not in theme_names or wave not in waves:
            raise ValueError(
                f"summary for ({case!r}, {theme!r}, {wave!r}) is outside the matrix: "
                "unknown case, theme or wave"
            )

    passages: dict[tuple[str, str, str], list[PassageRef]] = defaultdict(list)
    case_set, wave_set = set(cases), set(waves)
    for coding in codings:
        if coder is not None and coding.coder != coder:
            continue
        where = documents.get(coding.document_id)
        if where is None or where[0] not in case_set or where[1] not in wave_set:
            continue
        for theme in themes_of_code.get(coding.code_id, ()):
            passages[where[0], theme, where[1]].append(
                PassageRef(coding.document_id, coding.start, coding.end)
            )

    cells = {}
    for key in set(passages) | set(summaries):
        case, theme, wave = key
        cells[key] = Cell(case, theme, wave, summaries.get(key, ""), _merge(passages.get(key, ())))
    return FrameworkMatrix(cases, theme_names, waves, cells)


def case_trajectory(matrix: FrameworkMatrix, case: str) -> dict[str, tuple[Cell, ...]]:
    """One case across waves: theme -> that theme's cells in wave order."""
    if case not in matrix.cases:
        raise KeyError(f"no case {case!r} in this matrix")
    return {
        theme: tuple(matrix.cell(case, theme, wave) for wave in matrix.waves)
        for theme in matrix.themes
    }


def cross_section(matrix: FrameworkMatrix, wave: str) -> dict[str, tuple[Cell, ...]]:
    """One wave across cases: case -> that case's cells in theme order."""
    if wave not in matrix.waves:
        raise KeyError(f"no wave {wave!r} in this matrix")
    return {
        case: tuple(matrix.cell(case, theme, wave) for theme in matrix.themes)
        for case in matrix.cases
    }


def coverage(matrix: FrameworkMatrix) -> Coverage:
    """Which cells still need a summary (passages but no summary) and which summaries lack data."""
    cells = list(matrix)
    return Coverage(
        cells=len(cells),
        summarised=sum(1 for cell in cells if cell.summarised),
        missing_summaries=tuple(c for c in cells if c.passages and not c.summarised),
        unsupported_summaries=tuple(c for c in cells if c.summarised and not c.passages),
    )


# --------------------------------------------------------------------------- exports


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)


def _safe(value: Any) -> str:
    """Text for a spreadsheet or table cell: formula-safe and without XML-illegal characters."""
    return spreadsheet_safe(_clean(str(value)) if isinstance(value, str) else value)


def _cell_text(cell: Cell) -> str:
    parts = [cell.summary.strip()] if cell.summarised else []
    if cell.passages:
        parts.append("Passages: " + "; ".join(ref.label() for ref in cell.passages))
    return "\n".join(parts)


def _sheet_titles(waves: Sequence[str]) -> list[str]:
    """Excel sheet names for the waves: no []:*?/\\, at most 31 characters, unique."""
    titles: list[str] = []
    taken = {CUBE_SHEET.casefold()}
    for index, wave in enumerate(waves, start=1):
        base = _SHEET_FORBIDDEN.sub("_", _clean(wave)).strip("' ")[:31] or f"Wave {index}"
        title, counter = base, 2
        while title.casefold() in taken:
            suffix = f" ({counter})"
            title = base[: 31 - len(suffix)] + suffix
            counter += 1
        taken.add(title.casefold())
        titles.append(title)
    return titles


def to_xlsx(matrix: FrameworkMatrix, handle: IO[bytes]) -> None:
    """Write the matrix as a workbook: one sheet per wave (cases x themes) and a long cube sheet.

    Each wave sheet has the case in column A and one column per theme, its cell the summary and
    the passage references. The cube sheet has one row per cell: case, theme, wave, summary,
    passages. Every text cell goes through ``spreadsheet_safe``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for wave, title in zip(matrix.waves, _sheet_titles(matrix.waves), strict=True):
        sheet = book.create_sheet(title)
        sheet.append([_safe("Case"), *(_safe(theme) for theme in matrix.themes)])
        for header in sheet[1]:
            header.font = bold
        for case, cells in cross_section(matrix, wave).items():
            sheet.append([_safe(case), *(_safe(_cell_text(cell)) for cell in cells)])
        for row in sheet.iter_rows(min_row=2):
            for item in row:
                item.alignment = wrap
        sheet.freeze_panes = "B2"
        sheet.column_dimensions["A"].width = 18
        for column in range(2, len(matrix.themes) + 2):
            sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = 40
    cube = book.create_sheet(CUBE_SHEET)
    cube.append([_safe(name) for name in ("Case", "Theme", "Wave", "Summary", "Passages")])
    for header in cube[1]:
        header.font = bold
    for cell in matrix:
        cube.append(
            [
                _safe(cell.case),
                _safe(cell.theme),
                _safe(cell.wave),
                _safe(cell.summary),
                _safe("; ".join(ref.label() for ref in cell.passages)),
            ]
        )
    cube.freeze_panes = "A2"
    book.save(handle)


def to_docx(matrix: FrameworkMatrix, handle: IO[bytes], title: str = "Framework matrix") -> None:
    """Write the matrix as a Word document: a heading and a cases x themes table per wave.

    Needs python-docx. Cell text goes through ``spreadsheet_safe`` too, so a table copied from
    Word into a spreadsheet cannot start a formula.
    """
    try:
        from docx import Document
        from docx.enum.section import WD_ORIENT
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError("DOCX export needs the python-docx package") from error

    document = Document()
    section = document.sections[-1]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(_clean(title), level=0)
    for wave in matrix.waves:
        document.add_heading(_safe(wave), level=1)
        table = document.add_table(rows=1, cols=len(matrix.themes) + 1)
        table.style = "Table Grid"
        header = table.rows[0].cells
        header[0].text = "Case"
        for index, theme in enumerate(matrix.themes, start=1):
            header[index].text = _safe(theme)
        for case, cells in cross_section(matrix, wave).items():
            row = table.add_row().cells
            row[0].text = _safe(case)
            for index, cell in enumerate(cells, start=1):
                row[index].text = _safe(_cell_text(cell))
    document.save(handle)
