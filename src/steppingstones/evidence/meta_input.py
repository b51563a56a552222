"""Reading a meta-analysis data file: one row a study, columns named as metafor names them."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

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


class MetaFileError(ValueError):
    """A data file that cannot be analysed; the message names the row and column."""


@dataclass(frozen=True)
class StudyTable:
    labels: list[str]
    columns: dict[str, list[float]]


def read_study_table(text: str, measure: str) -> StudyTable:
    """Parse CSV text: a ``study`` column and the measure's input columns, all numbers."""
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
    labels: list[str] = []
    columns: dict[str, list[float]] = {name: [] for name in needed}
    for number, row in enumerate(reader, start=2):
        row = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        if not any(row.values()):
            continue
        labels.append(row["study"] or f"study {number - 1}")
        for name in needed:
            text_value = row[name]
            try:
                value = float(text_value)
            except ValueError:
                raise MetaFileError(
                    f"row {number} ({labels[-1]}), column {name}: {text_value!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise MetaFileError(f"row {number} ({labels[-1]}), column {name}: not finite")
            columns[name].append(value)
    if not labels:
        raise MetaFileError("the file has no studies")
    return StudyTable(labels, columns)
