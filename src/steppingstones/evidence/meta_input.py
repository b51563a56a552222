"""Reading a meta-analysis data file: one row a study, columns named as metafor names them.

Rows are numbered as in the file, the header being row 1, so a message such as
``row 4 (trial 3), column ai: missing value`` points at the line to fix.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from steppingstones.evidence.meta import MetaInputError

MEASURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "RR": ("ai", "bi", "ci", "di"),
    "OR": ("ai", "bi", "ci", "di"),
    "RD": ("ai", "bi", "ci", "di"),
    "MD": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "SMD": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "PR": ("xi", "ni"),
    "PLO": ("xi", "ni"),
    "PAS": ("xi", "ni"),
    "PFT": ("xi", "ni"),
    "ZCOR": ("ri", "ni"),
    "GEN": ("yi", "vi"),
}
RATIO_MEASURES = frozenset({"RR", "OR"})
#: Cell values read as a missing value (besides an empty cell), as R and spreadsheets write it.
MISSING = frozenset({"na", "n/a", "nan", ".", "-"})


class MetaFileError(MetaInputError):
    """A data file that cannot be analysed; the message names the row and column.

    A :class:`~steppingstones.evidence.meta.MetaInputError` whose message already
    carries the file's row number (``row`` is ``None``).
    """


@dataclass(frozen=True)
class StudyTable:
    """The studies of a file: labels, the measure's columns and any extra columns asked for.

    ``rows`` holds each study's row number in the file (its line: header = row 1, blank
    lines skipped but counted), to name the row of a fault found later (e.g. by ``escalc``).
    """

    labels: list[str]
    columns: dict[str, list[float]]
    rows: list[int] = field(default_factory=list)
    text_columns: dict[str, list[str]] = field(default_factory=dict)
    number_columns: dict[str, list[float]] = field(default_factory=dict)

    def where(self, study: int) -> str:
        """``row N (label)`` for the 1-based study index ``study``."""
        index = study - 1
        if 0 <= index < len(self.labels):
            row = self.rows[index] if index < len(self.rows) else study + 1
            return f"row {row} ({self.labels[index]})"
        return f"study {study}"


def _number(text_value: str, number: int, label: str, name: str) -> float:
    if not text_value or text_value.lower() in MISSING:
        raise MetaFileError(f"row {number} ({label}), column {name}: missing value")
    try:
        value = float(text_value)
    except ValueError:
        raise MetaFileError(
            f"row {number} ({label}), column {name}: {text_value!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise MetaFileError(f"row {number} ({label}), column {name}: not finite")
    return value


def read_study_table(
    text: str,
    measure: str,
    *,
    text_columns: Sequence[str] = (),
    number_columns: Sequence[str] = (),
) -> StudyTable:
    """Parse CSV text: a ``study`` column and the measure's input columns, all numbers.

    ``text_columns`` (e.g. a subgroup) and ``number_columns`` (e.g. moderators) are read
    too, each cell required.  An empty cell (or NA, NaN, ``.``, ``-``) is a missing
    value; every fault raises :class:`MetaFileError` naming the row and the column.
    """
    if measure not in MEASURE_COLUMNS:
        raise MetaFileError(
            f"unknown measure {measure!r}: use one of {', '.join(sorted(MEASURE_COLUMNS))}"
        )
    needed = MEASURE_COLUMNS[measure]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in ("study", *needed) if name not in header]
    if missing:
        raise MetaFileError(
            f"row 1: missing column(s) {', '.join(missing)} (a {measure} analysis needs "
            f"study, {', '.join(needed)})"
        )
    asked = [name for name in (*text_columns, *number_columns) if name not in header]
    if asked:
        raise MetaFileError(
            f"row 1: no column {', '.join(repr(n) for n in asked)} in the file "
            f"(its columns: {', '.join(header)})"
        )
    labels: list[str] = []
    rows: list[int] = []
    columns: dict[str, list[float]] = {name: [] for name in needed}
    texts: dict[str, list[str]] = {name: [] for name in text_columns}
    numbers: dict[str, list[float]] = {name: [] for name in number_columns}
    for row in reader:
        number = reader.line_num  # the file's line (the csv module skips blank lines)
        row = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        if not any(row.values()):
            continue
        label = row["study"] or f"study {number - 1}"
        labels.append(label)
        rows.append(number)
        for name in needed:
            columns[name].append(_number(row[name], number, label, name))
        for name in text_columns:
            if not row[name] or row[name].lower() in MISSING:
                raise MetaFileError(f"row {number} ({label}), column {name}: missing value")
            texts[name].append(row[name])
        for name in number_columns:
            numbers[name].append(_number(row[name], number, label, name))
    if not labels:
        raise MetaFileError("the file has no studies")
    return StudyTable(labels, columns, rows, texts, numbers)
