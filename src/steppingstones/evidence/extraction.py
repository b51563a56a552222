"""Data-extraction forms for systematic reviews, as Covidence and DistillerSR offer them.

A review team designs a form (plain JSON-able data, read with `parse_form`); one or two
reviewers extract each included study into answers (a mapping of field key to value, checked
and cleaned with `validate_answers`); two extractions are set side by side with `compare` and
`agreement_summary` and merged into a consensus with `reconcile`; everything exports with
`export_rows` / `table_rows` to `write_csv` or `write_xlsx`, every text cell formula-safe.

Plain Python, no Django.

Form data, as `parse_form` reads it and `form_to_data` writes it::

    {"fields": [
        {"key": "design", "label": "Study design", "kind": "choice", "help": "",
         "required": true, "choices": ["RCT", "cohort"], "columns": [], "unit": ""},
        {"key": "outcome_data", "label": "Outcomes by arm", "kind": "table", ...,
         "columns": [{"key": "events", "label": "Events", "kind": "integer", ...}]}
    ]}

Only ``key``, ``label`` and ``kind`` are needed; ``help`` and ``unit`` default to "",
``required`` to false, ``choices`` and ``columns`` to [].

Answers, once cleaned, are JSON-able too; a blank answer is left out::

    {"design": "RCT",                       # choice: the form's spelling of the choice
     "country": "Canada",                   # text, long-text: stripped text
     "sample_size": 120,                    # integer: int
     "mean_age": 27.5,                      # number: float
     "arms": ["usual care", "integrated"],  # multi-choice: list, in the form's order
     "consented": True,                     # yes-no: bool
     "outcome_data": [                      # table: a list of row dicts, blank cells left out
         {"outcome": "NOWS", "arm": "Integrated care", "events": 12, "total": 60}]}
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from typing import IO, Any, Final, Literal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from steppingstones.core import exports as _exports
from steppingstones.core.exports import spreadsheet_safe

__all__ = [
    "COLUMN_KINDS",
    "FIRST",
    "KINDS",
    "OUTCOMES_BY_ARM",
    "SECOND",
    "STUDY_CHARACTERISTICS",
    "STUDY_DESIGNS",
    "AgreementSummary",
    "Field",
    "FieldComparison",
    "FormDefinition",
    "FormError",
    "ReconcileError",
    "RowComparison",
    "Supplied",
    "agreement_summary",
    "compare",
    "default_form",
    "export_rows",
    "form_to_data",
    "parse_form",
    "reconcile",
    "table_rows",
    "validate_answers",
    "workbook_sheets",
    "write_csv",
    "write_xlsx",
]

KINDS: Final = (
    "text",
    "long-text",
    "number",
    "integer",
    "choice",
    "multi-choice",
    "yes-no",
    "table",
)
# The kinds a table column may have.
COLUMN_KINDS: Final = ("text", "number", "integer", "choice")

SLUG_RE = re.compile(r"[a-z][a-z0-9_-]{0,63}")
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
FIELD_SETTINGS = ("key", "label", "kind", "help", "required", "choices", "columns", "unit")
YES = frozenset({"yes", "y", "true"})
NO = frozenset({"no", "n", "false"})
# A multi-choice answer may arrive as text with its choices joined by this (as exported).
MULTI_SEPARATOR = ";"


# --- the form ------------------------------------------------------------------------------


class FormError(ValueError):
    """A form definition that cannot be used; `messages` holds one line per problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class Field:
    """One question on the form. A table field's answer is a list of rows, one value per
    column; its columns are fields of a kind in `COLUMN_KINDS`."""

    key: str
    label: str
    kind: str
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    columns: tuple[Field, ...] = ()
    unit: str = ""

    def __post_init__(self) -> None:
        # Lists from a caller become tuples, so that fields stay hashable and frozen.
        object.__setattr__(self, "choices", tuple(self.choices))
        object.__setattr__(self, "columns", tuple(self.columns))

    @property
    def heading(self) -> str:
        """The label with its unit, as an export column heading."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True)
class FormDefinition:
    """The fields of one extraction form, in order. Checked when made: raises `FormError`."""

    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        problems = _form_problems(self.fields)
        if problems:
            raise FormError(problems)

    def field(self, key: str) -> Field:
        for candidate in self.fields:
            if candidate.key == key:
                return candidate
        raise KeyError(f"the form has no field {key!r}")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(candidate.key for candidate in self.fields)


def _name(prefix: str, position: int, key: object) -> str:
    """How a message names a field: by its key when it has one, else by its position."""
    if isinstance(key, str) and key.strip():
        return f"{prefix} {key!r}"
    return f"{prefix} {position}"


def _form_problems(fields: Sequence[Field]) -> list[str]:
    problems: list[str] = []
    first_position: dict[str, int] = {}
    for position, item in enumerate(fields, start=1):
        if not isinstance(item, Field):
            problems.append(f"field {position}: expected a Field, not {type(item).__name__}")
            continue
        where = _name("field", position, item.key)
        problems.extend(_field_problems(item, where, column=False))
        if isinstance(item.key, str):
            if item.key in first_position:
                problems.append(
                    f"{where}: duplicate key (fields {first_position[item.key]} and {position})"
                )
            else:
                first_position[item.key] = position
    return problems


def _field_problems(item: Field, where: str, *, column: bool) -> list[str]:
    problems: list[str] = []
    if not isinstance(item.key, str) or not SLUG_RE.fullmatch(item.key):
        problems.append(
            f"{where}: the key {item.key!r} is not a slug (lower-case letters, digits, '_' "
            "and '-', starting with a letter, at most 64 characters)"
        )
    if not isinstance(item.label, str) or not item.label.strip():
        problems.append(f"{where}: needs a label")
    if not isinstance(item.help, str):
        problems.append(f"{where}: help must be text")
    if not isinstance(item.unit, str):
        problems.append(f"{where}: the unit must be text")
    if not isinstance(item.required, bool):
        problems.append(f"{where}: required must be true or false")
    allowed = COLUMN_KINDS if column else KINDS
    if item.kind not in allowed:
        if column and item.kind in KINDS:
            problems.append(
                f"{where}: a table column cannot be of kind {item.kind!r}; use one of "
                f"{', '.join(COLUMN_KINDS)}"
            )
        else:
            problems.append(f"{where}: unknown kind {item.kind!r}; use one of {', '.join(allowed)}")
        return problems
    problems.extend(_choice_problems(item, where))
    if item.kind == "table":
        if not item.columns:
            problems.append(f"{where}: a table field needs columns")
        seen: set[str] = set()
        for position, sub in enumerate(item.columns, start=1):
            if not isinstance(sub, Field):
                problems.append(f"{where}, column {position}: expected a Field")
                continue
            sub_where = _name(f"{where}, column", position, sub.key)
            problems.extend(_field_problems(sub, sub_where, column=True))
            if sub.key in seen:
                problems.append(f"{sub_where}: duplicate column key")
            seen.add(sub.key)
    elif item.columns:
        problems.append(
            f"{where}: a table column cannot have columns"
            if column
            else f"{where}: only table fields have columns"
        )
    if item.unit and item.kind not in ("number", "integer"):
        problems.append(f"{where}: only number and integer fields have a unit")
    return problems


def _choice_problems(item: Field, where: str) -> list[str]:
    if item.kind not in ("choice", "multi-choice"):
        if item.choices:
            return [f"{where}: only choice and multi-choice fields have choices"]
        return []
    if not item.choices:
        return [f"{where}: a {item.kind} field needs choices"]
    problems: list[str] = []
    seen: set[str] = set()
    for choice in item.choices:
        if not isinstance(choice, str) or not choice.strip():
            problems.append(f"{where}: every choice must be non-empty text, not {choice!r}")
            continue
        if choice != choice.strip():
            problems.append(f"{where}: the choice {choice!r} has spaces around it")
        if item.kind == "multi-choice" and MULTI_SEPARATOR in choice:
            problems.append(
                f"{where}: the choice {choice!r} contains {MULTI_SEPARATOR!r}, which separates "
                "the choices of a multi-choice answer"
            )
        normal = _normal_text(choice)
        if normal in seen:
            problems.append(f"{where}: the choice {choice!r} is listed twice")
        seen.add(normal)
    return problems


def parse_form(data: object) -> FormDefinition:
    """Read a form from JSON-able data: ``{"fields": [{"key", "label", "kind", ...}, ...]}``.

    Raises `FormError`, whose `messages` name each field at fault (by key, or by position
    when it has no key) and what is wrong.
    """
    if not isinstance(data, Mapping):
        raise FormError(["a form must be an object with a 'fields' list"])
    problems: list[str] = []
    unknown = sorted(str(name) for name in data if name != "fields")
    if unknown:
        problems.append(f"the form has unknown setting(s): {', '.join(unknown)}")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list | tuple):
        raise FormError([*problems, "the form's 'fields' must be a list of fields"])
    fields: list[Field] = []
    for position, raw in enumerate(raw_fields, start=1):
        where = _name("field", position, raw.get("key") if isinstance(raw, Mapping) else None)
        built = _field_from_data(raw, where, problems, column=False)
        if built is not None:
            fields.append(built)
    problems.extend(_form_problems(fields))
    if problems:
        raise FormError(problems)
    return FormDefinition(tuple(fields))


def _field_from_data(raw: object, where: str, problems: list[str], *, column: bool) -> Field | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected an object with a key, a label and a kind")
        return None
    count = len(problems)
    unknown = sorted(str(name) for name in raw if name not in FIELD_SETTINGS)
    if unknown:
        problems.append(f"{where}: unknown setting(s): {', '.join(unknown)}")
    texts: dict[str, str] = {}
    for name in ("key", "label", "kind", "help", "unit"):
        value = raw.get(name, "" if name in ("help", "unit") else None)
        if value is None:
            problems.append(f"{where}: needs a {name}")
        elif not isinstance(value, str):
            problems.append(f"{where}: the {name} must be text, not {value!r}")
        else:
            texts[name] = value if name == "key" else value.strip()
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.append(f"{where}: required must be true or false, not {required!r}")
    raw_choices = raw.get("choices", [])
    choices: list[str] = []
    if not isinstance(raw_choices, list | tuple):
        problems.append(f"{where}: the choices must be a list of text")
    else:
        for choice in raw_choices:
            if isinstance(choice, str):
                choices.append(choice.strip())
            else:
                problems.append(f"{where}: every choice must be text, not {choice!r}")
    raw_columns = raw.get("columns", [])
    columns: list[Field] = []
    if not isinstance(raw_columns, list | tuple):
        problems.append(f"{where}: the columns must be a list of columns")
    elif column and raw_columns:
        problems.append(f"{where}: a table column cannot have columns")
    else:
        for position, sub in enumerate(raw_columns, start=1):
            sub_key = sub.get("key") if isinstance(sub, Mapping) else None
            sub_where = _name(f"{where}, column", position, sub_key)
            built = _field_from_data(sub, sub_where, problems, column=True)
            if built is not None:
                columns.append(built)
    if len(problems) > count:
        return None
    return Field(
        key=texts["key"],
        label=texts["label"],
        kind=texts["kind"],
        help=texts["help"],
        required=bool(required),
        choices=tuple(choices),
        columns=tuple(columns),
        unit=texts["unit"],
    )


def form_to_data(form: FormDefinition) -> dict[str, Any]:
    """The form as JSON-able data that `parse_form` reads back to an equal form."""
    return {"fields": [_field_to_data(item) for item in form.fields]}


def _field_to_data(item: Field) -> dict[str, Any]:
    return {
        "key": item.key,
        "label": item.label,
        "kind": item.kind,
        "help": item.help,
        "required": item.required,
        "choices": list(item.choices),
        "columns": [_field_to_data(sub) for sub in item.columns],
        "unit": item.unit,
    }


# --- the fields every form starts with ---------------------------------------------------

STUDY_DESIGNS: Final = (
    "RCT",
    "cluster RCT",
    "non-randomised controlled",
    "cohort",
    "case-control",
    "cross-sectional",
    "before-after",
    "qualitative",
    "mixed methods",
    "case series",
    "other",
)

# "Outcomes" is a table, not a multi-choice: the outcomes that matter differ from review to
# review (a fixed list would need "other" and free text beside it), and each outcome needs its
# own definition or measure and time point. One row per outcome also exports as a long table.
STUDY_CHARACTERISTICS: Final[tuple[Field, ...]] = (
    Field(
        "design",
        "Study design",
        "choice",
        help="The design as conducted, whatever the authors call it; 'other' if none fits.",
        required=True,
        choices=STUDY_DESIGNS,
    ),
    Field("country", "Country", "text", help="Where the study was done; list each country."),
    Field(
        "setting",
        "Setting",
        "text",
        help="E.g. tertiary maternity hospital, community antenatal clinic, residential "
        "treatment service.",
    ),
    Field(
        "population",
        "Population",
        "long-text",
        help="Who was included: pregnant or postpartum women (and infants), the substances "
        "used, inclusion and exclusion criteria.",
    ),
    Field(
        "model_of_care",
        "Model of care",
        "long-text",
        help="The model of care and its comparator: who delivers it, where, when, how often "
        "and for how long.",
    ),
    Field(
        "sample_size",
        "Sample size",
        "integer",
        help="Number enrolled (women or mother-infant pairs) in all arms together.",
        unit="participants",
    ),
    Field(
        "outcomes",
        "Outcomes reported",
        "table",
        help="One row per outcome the study reports.",
        columns=(
            Field("outcome", "Outcome", "text", required=True),
            Field("measure", "Definition or measure", "text"),
            Field("timepoint", "Time point", "text"),
        ),
    ),
)

# The numbers for meta-analysis: one row per outcome and arm.
OUTCOMES_BY_ARM: Final = Field(
    "outcome_data",
    "Outcomes by arm",
    "table",
    help="One row per outcome and arm: events and total for a dichotomous outcome, mean and "
    "SD (and total) for a continuous one.",
    columns=(
        Field("outcome", "Outcome", "text", required=True),
        Field("arm", "Arm", "text", required=True),
        Field("events", "Events", "integer"),
        Field("total", "Total", "integer"),
        Field("mean", "Mean", "number"),
        Field("sd", "SD", "number"),
    ),
)


def default_form() -> FormDefinition:
    """The study characteristics followed by the outcomes-by-arm table."""
    return FormDefinition((*STUDY_CHARACTERISTICS, OUTCOMES_BY_ARM))


# --- checking answers ----------------------------------------------------------------------


class _Invalid(Exception):
    """One answer that cannot be cleaned; the message is for the user."""


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset | dict):
        return not value
    return False


def _normal_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def _show(value: object) -> str:
    """A value quoted for a message, cut short when long."""
    if isinstance(value, str):
        text = " ".join(value.split())
        return repr(text if len(text) <= 40 else text[:40] + "…")
    return repr(value)


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def _clean_value(item: Field, value: object) -> Any:
    """The cleaned form of a non-blank answer (None when nothing is left of it), or raise
    `_Invalid` saying what is wrong."""
    kind = item.kind
    if kind in ("text", "long-text"):
        return _clean_text(value, long=kind == "long-text")
    if kind == "number":
        number = _decimal(value, "a number")
        result = float(number)
        if not math.isfinite(result):
            raise _Invalid(f"{_show(value)} is too large")
        return result
    if kind == "integer":
        number = _decimal(value, "a whole number")
        if number != number.to_integral_value():
            raise _Invalid(f"{_show(value)} is not a whole number")
        if number.adjusted() > 15:
            raise _Invalid(f"{_show(value)} is too large")
        return int(number)
    if kind == "choice":
        return _clean_choice(item, value)
    if kind == "multi-choice":
        return _clean_choices(item, value)
    if kind == "yes-no":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().casefold() in YES | NO:
            return value.strip().casefold() in YES
        raise _Invalid(f"{_show(value)} is not yes or no")
    raise AssertionError(f"no cleaning for kind {kind!r}")


def _clean_text(value: object, *, long: bool) -> str:
    if isinstance(value, str):
        text = value.strip()
        return text.replace("\r\n", "\n").replace("\r", "\n") if long else text
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    raise _Invalid(f"expected text, not {_show(value)}")


def _decimal(value: object, what: str) -> Decimal:
    """A finite number from a number or its text: a point for decimals, no separators."""
    if isinstance(value, bool):
        raise _Invalid(f"{_show(value)} is not {what}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise _Invalid(f"{_show(value)} is not {what}")
        return Decimal(repr(value)) if isinstance(value, float) else value
    if isinstance(value, str):
        # A minus sign copied from a PDF is often U+2212.
        text = value.strip().replace("\u2212", "-")
        if NUMBER_RE.fullmatch(text):
            return Decimal(text)
        if "," in text:
            raise _Invalid(
                f"{_show(value)} is not {what}: use a point for decimals (12.5) and no "
                "thousands separators"
            )
    raise _Invalid(f"{_show(value)} is not {what}")


def _choice_lookup(item: Field) -> dict[str, str]:
    return {_normal_text(choice): choice for choice in item.choices}


def _clean_choice(item: Field, value: object) -> str:
    if isinstance(value, str):
        found = _choice_lookup(item).get(_normal_text(value))
        if found is not None:
            return found
    raise _Invalid(f"{_show(value)} is not one of: {', '.join(item.choices)}")


def _clean_choices(item: Field, value: object) -> list[str] | None:
    if isinstance(value, str):
        parts: list[object] = [part for part in value.split(MULTI_SEPARATOR) if part.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        parts = [part for part in value if not _is_blank(part)]
    else:
        raise _Invalid(f"expected a list of choices, not {_show(value)}")
    lookup = _choice_lookup(item)
    chosen: set[str] = set()
    wrong: list[str] = []
    for part in parts:
        found = lookup.get(_normal_text(part)) if isinstance(part, str) else None
        if found is None:
            wrong.append(_show(part))
        else:
            chosen.add(found)
    if len(wrong) == 1:
        raise _Invalid(f"{wrong[0]} is not one of: {', '.join(item.choices)}")
    if wrong:
        raise _Invalid(f"{', '.join(wrong)} are not among: {', '.join(item.choices)}")
    result = [choice for choice in item.choices if choice in chosen]
    return result or None


def _table_rows(
    item: Field, value: Sequence[object], *, keep_invalid: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """Clean a table's rows, leaving out blank rows; with `keep_invalid`, a cell that cannot
    be cleaned is kept as it came instead of being left out. Messages count rows from 1 as
    they came, blank ones included."""
    columns = {column.key: column for column in item.columns}
    rows: list[dict[str, Any]] = []
    messages: list[str] = []
    for number, raw_row in enumerate(value, start=1):
        where = f"{item.label}, row {number}"
        if not isinstance(raw_row, Mapping):
            if not _is_blank(raw_row):
                messages.append(f"{where}: expected a row of column values")
            continue
        messages.extend(f"{where}: unknown column {key!r}" for key in raw_row if key not in columns)
        if all(_is_blank(raw_row.get(key)) for key in columns):
            continue
        row: dict[str, Any] = {}
        for column in item.columns:
            cell = raw_row.get(column.key)
            if _is_blank(cell):
                if column.required:
                    messages.append(f"{where}, {column.label}: required")
                continue
            try:
                cleaned = _clean_value(column, cell)
            except _Invalid as problem:
                messages.append(f"{where}, {column.label}: {problem}")
                if keep_invalid:
                    row[column.key] = cell
                continue
            if cleaned is not None:
                row[column.key] = cleaned
        rows.append(row)
    return rows, messages


def validate_answers(
    form: FormDefinition, answers: Mapping[str, object]
) -> tuple[dict[str, Any], list[str]]:
    """Check and clean one extraction's answers.

    Returns the cleaned answers (see the module docstring; blank answers, blank table rows
    and answers that fail are left out) and one message per problem, in form order, naming
    the field's label and, in a table, the row (counted from 1 as given) and the column:
    "Outcomes by arm, row 2, Events: 'ten' is not a whole number". Keys not on the form are
    reported last.
    """
    cleaned: dict[str, Any] = {}
    messages: list[str] = []
    for item in form.fields:
        value = answers.get(item.key)
        result: Any = None
        if _is_blank(value):
            pass
        elif item.kind == "table":
            if not isinstance(value, list | tuple):
                messages.append(f"{item.label}: expected a list of rows")
                continue
            rows, problems = _table_rows(item, value, keep_invalid=False)
            messages.extend(problems)
            if problems:
                continue
            result = rows or None
        else:
            try:
                result = _clean_value(item, value)
            except _Invalid as problem:
                messages.append(f"{item.label}: {problem}")
                continue
        if result is None:
            if item.required:
                messages.append(f"{item.label}: required")
            continue
        cleaned[item.key] = result
    keys = set(form.keys)
    messages.extend(f"unknown field {key!r}" for key in answers if key not in keys)
    return cleaned, messages


def _lenient(item: Field, value: object) -> Any:
    """An answer cleaned as far as it can be, for comparing and exporting: None when blank,
    the value as it came when it cannot be cleaned (cell by cell in a table)."""
    if _is_blank(value):
        return None
    if item.kind == "table":
        if not isinstance(value, list | tuple):
            return value
        rows, _ = _table_rows(item, value, keep_invalid=True)
        return rows or None
    try:
        return _clean_value(item, value)
    except _Invalid:
        return value


# --- comparing two extractions -----------------------------------------------------------

Status = Literal["agreed", "differing", "missing", "empty"]
RowStatus = Literal["agreed", "differing", "only-first", "only-second"]


@dataclass(frozen=True)
class RowComparison:
    """One table row, matched by position (`number` counts non-blank rows from 1)."""

    number: int
    status: RowStatus
    first: Mapping[str, Any] | None
    second: Mapping[str, Any] | None
    differing_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldComparison:
    """One field of two extractions side by side.

    `status` is "agreed" (both answered alike), "differing" (both answered, differently),
    "missing" (only one answered) or "empty" (neither did). `first` and `second` are the
    answers cleaned as far as they go (an answer that fails validation is shown as given).
    A table field also has `rows`.
    """

    field: Field
    status: Status
    first: Any
    second: Any
    rows: tuple[RowComparison, ...] = ()

    @property
    def key(self) -> str:
        return self.field.key

    @property
    def label(self) -> str:
        return self.field.label

    @property
    def agrees(self) -> bool:
        return self.status == "agreed"

    @property
    def needs_decision(self) -> bool:
        """Whether reconciling must choose: the two differ, or only one answered."""
        return self.status in ("differing", "missing")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(item: Field, first: Any, second: Any) -> bool:
    """Whether two non-blank answers to one (non-table) field agree."""
    if item.kind == "number" and _is_number(first) and _is_number(second):
        return math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-12)
    if item.kind == "multi-choice" and isinstance(first, list) and isinstance(second, list):
        return set(first) == set(second)
    if type(first) is type(second) and not isinstance(first, str):
        return bool(first == second)
    return _normal_text(_text_of(first)) == _normal_text(_text_of(second))


def _text_of(value: Any) -> str:
    if isinstance(value, list | tuple):
        return f"{MULTI_SEPARATOR} ".join(str(part) for part in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


def _same_cell(column: Field, first: Any, second: Any) -> bool:
    if first is None or second is None:
        return first is None and second is None
    return _same(column, first, second)


def _status(first: Any, second: Any, same: bool) -> Status:
    if first is None and second is None:
        return "empty"
    if first is None or second is None:
        return "missing"
    return "agreed" if same else "differing"


def _compare_table(item: Field, first: Any, second: Any) -> FieldComparison:
    if not (first is None or isinstance(first, list)) or not (
        second is None or isinstance(second, list)
    ):
        same = first is not None and second is not None and _same(item, first, second)
        return FieldComparison(item, _status(first, second, same), first, second)
    first_rows: list[dict[str, Any]] = first or []
    second_rows: list[dict[str, Any]] = second or []
    rows: list[RowComparison] = []
    for index in range(max(len(first_rows), len(second_rows))):
        one = first_rows[index] if index < len(first_rows) else None
        two = second_rows[index] if index < len(second_rows) else None
        if one is None:
            rows.append(RowComparison(index + 1, "only-second", None, two))
        elif two is None:
            rows.append(RowComparison(index + 1, "only-first", one, None))
        else:
            differing = tuple(
                column.key
                for column in item.columns
                if not _same_cell(column, one.get(column.key), two.get(column.key))
            )
            status: RowStatus = "differing" if differing else "agreed"
            rows.append(RowComparison(index + 1, status, one, two, differing))
    same = all(row.status == "agreed" for row in rows)
    return FieldComparison(item, _status(first, second, same), first, second, tuple(rows))


def compare(
    form: FormDefinition, first: Mapping[str, object], second: Mapping[str, object]
) -> list[FieldComparison]:
    """Two extractions of one study, field by field in form order.

    Numbers agree when numerically equal ("12.50" and 12.5), text and choices after
    collapsing whitespace and ignoring case, multi-choice answers as sets, yes-no as
    booleans. Tables are matched row by row by position (blank rows dropped); a table agrees
    when it has the same number of rows and every row agrees, and each `RowComparison` says
    which columns differ or that the row is only in one extraction.
    """
    comparisons: list[FieldComparison] = []
    for item in form.fields:
        one = _lenient(item, first.get(item.key))
        two = _lenient(item, second.get(item.key))
        if item.kind == "table":
            comparisons.append(_compare_table(item, one, two))
            continue
        same = one is not None and two is not None and _same(item, one, two)
        comparisons.append(FieldComparison(item, _status(one, two, same), one, two))
    return comparisons


@dataclass(frozen=True)
class AgreementSummary:
    """Counts of fields by status. `percent_agreement` is agreed / (agreed + differing +
    missing) x 100, fields neither reviewer answered left out; None when there are none."""

    agreed: int
    differing: int
    missing: int
    empty: int
    percent_agreement: float | None

    @property
    def compared(self) -> int:
        return self.agreed + self.differing + self.missing


def agreement_summary(comparisons: Iterable[FieldComparison]) -> AgreementSummary:
    counts = {"agreed": 0, "differing": 0, "missing": 0, "empty": 0}
    for comparison in comparisons:
        counts[comparison.status] += 1
    compared = counts["agreed"] + counts["differing"] + counts["missing"]
    percent = 100.0 * counts["agreed"] / compared if compared else None
    return AgreementSummary(
        counts["agreed"], counts["differing"], counts["missing"], counts["empty"], percent
    )


# --- reconciling ----------------------------------------------------------------------------

FIRST: Final = "first"
SECOND: Final = "second"


@dataclass(frozen=True)
class Supplied:
    """A value the reconciler supplies, for when it is itself the text "first" or "second"."""

    value: Any


class ReconcileError(ValueError):
    """A consensus that cannot be made yet; `messages` holds one line per problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def reconcile(
    form: FormDefinition,
    first: Mapping[str, object],
    second: Mapping[str, object],
    choices: Mapping[str, str | object],
) -> dict[str, Any]:
    """The consensus of two extractions, as cleaned answers.

    `choices` maps a field key to "first" (`FIRST`), "second" (`SECOND`) or a value to use
    instead (wrap it in `Supplied` if it is the text "first" or "second"; None or "" makes the
    answer blank). Every field that differs or that only one reviewer answered needs a
    choice; fields that agree are taken from the first extraction unless a choice is given
    for them too. Raises `ReconcileError` naming each field left unresolved, each key not on
    the form, and every problem `validate_answers` finds in the result.
    """
    problems: list[str] = []
    keys = set(form.keys)
    problems.extend(f"unknown field {key!r} in the choices" for key in choices if key not in keys)
    merged: dict[str, object] = {}
    unresolved: set[str] = set()
    for comparison in compare(form, first, second):
        key = comparison.key
        if key in choices:
            choice = choices[key]
            if isinstance(choice, Supplied):
                value = choice.value
            elif isinstance(choice, str) and choice == FIRST:
                value = first.get(key)
            elif isinstance(choice, str) and choice == SECOND:
                value = second.get(key)
            else:
                value = choice
        elif comparison.needs_decision:
            unresolved.add(key)
            problems.append(_unresolved_message(comparison))
            continue
        else:
            value = first.get(key)
        if not _is_blank(value):
            merged[key] = value
    checked = form
    if unresolved:
        checked = FormDefinition(tuple(item for item in form.fields if item.key not in unresolved))
    cleaned, messages = validate_answers(checked, merged)
    problems.extend(messages)
    if problems:
        raise ReconcileError(problems)
    return cleaned


def _unresolved_message(comparison: FieldComparison) -> str:
    if comparison.status == "missing":
        which = "first" if comparison.first is not None else "second"
        situation = f"only the {which} extraction has an answer"
    elif comparison.rows:
        numbers = [str(row.number) for row in comparison.rows if row.status != "agreed"]
        situation = f"the extractions differ in row(s) {', '.join(numbers)}"
    else:
        situation = (
            f"the extractions differ ({_show(_text_of(comparison.first))} and "
            f"{_show(_text_of(comparison.second))})"
        )
    return f"{comparison.label}: {situation}; choose first, second or supply a value"


# --- export ----------------------------------------------------------------------------------

# (study label, reviewer name or "consensus", answers)
Extraction = tuple[str, str, Mapping[str, object]]


def _headings(fields: Sequence[Field], fixed: Sequence[str] = ("Study", "Reviewer")) -> list[str]:
    """Column headings: label (unit), with the key added where two would be the same."""
    counts: dict[str, int] = {}
    for heading in [*fixed, *(item.heading for item in fields)]:
        counts[heading.casefold()] = counts.get(heading.casefold(), 0) + 1
    return [
        f"{item.heading} [{item.key}]" if counts[item.heading.casefold()] > 1 else item.heading
        for item in fields
    ]


def _export_cell(item: Field, value: Any) -> Any:
    """One cleaned (or lenient) answer as a cell: numbers stay numbers, the rest text."""
    if value is None:
        return None
    if item.kind == "table" and isinstance(value, list):
        return "\n".join(_row_text(item, row) for row in value if isinstance(row, Mapping))
    if item.kind in ("number", "integer") and _is_number(value):
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    return _text_of(value)


def _row_text(item: Field, row: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{column.label}: {_text_of(row[column.key])}"
        for column in item.columns
        if row.get(column.key) is not None
    )


def export_rows(
    form: FormDefinition, extractions: Sequence[Extraction]
) -> tuple[list[str], list[list[Any]]]:
    """A wide table: Study, Reviewer, then one column per field headed by its label (and
    unit). Numbers stay numbers; multi-choice answers are joined with "; ", yes-no answers
    are "yes" or "no", a table field is one line per row ("Outcome: NOWS, Arm: ..."), and a
    blank answer is None."""
    header = ["Study", "Reviewer", *_headings(form.fields)]
    rows = [
        [
            study,
            reviewer,
            *(_export_cell(item, _lenient(item, answers.get(item.key))) for item in form.fields),
        ]
        for study, reviewer, answers in extractions
    ]
    return header, rows


def table_rows(
    form: FormDefinition, field_key: str, extractions: Sequence[Extraction]
) -> tuple[list[str], list[list[Any]]]:
    """A long table for one table field: one row per row of each extraction's answer, with
    Study, Reviewer, then the columns. Raises KeyError for a key not on the form and
    ValueError for a field that is not a table."""
    item = form.field(field_key)
    if item.kind != "table":
        raise ValueError(f"field {field_key!r} is a {item.kind} field, not a table")
    header = ["Study", "Reviewer", *_headings(item.columns)]
    rows: list[list[Any]] = []
    for study, reviewer, answers in extractions:
        value = _lenient(item, answers.get(field_key))
        if not isinstance(value, list):
            continue
        for row in value:
            cells = [_export_cell(column, row.get(column.key)) for column in item.columns]
            rows.append([study, reviewer, *cells])
    return header, rows


def workbook_sheets(
    form: FormDefinition, extractions: Sequence[Extraction]
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The sheets of a full export for `write_xlsx`: "Extractions" (the wide table), then
    one long table per table field, named by its label."""
    sheets = {"Extractions": export_rows(form, extractions)}
    for item in form.fields:
        if item.kind == "table":
            name = item.label if item.label not in sheets else item.key
            sheets[name] = table_rows(form, item.key, extractions)
    return sheets


def write_csv(handle: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write CSV with the project's formula-safe writer (`steppingstones.core.exports`),
    the header made safe as well; returns the number of rows written. Open the handle with
    newline="" (and "utf-8-sig" for Excel)."""
    return _exports.write_csv(handle, [spreadsheet_safe(name) for name in header], rows)


SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(name: str, used: set[str]) -> str:
    """A title Excel accepts: no []:*?/\\, no apostrophe at either end, at most 31
    characters, different from the others (ignoring case)."""
    base = SHEET_TITLE_FORBIDDEN.sub("-", ILLEGAL_CHARACTERS_RE.sub("", str(name)))
    base = base.strip().strip("'").strip()[:31].strip() or "Sheet"
    title = base
    number = 2
    while title.casefold() in used:
        suffix = f" ({number})"
        title = base[: 31 - len(suffix)].rstrip() + suffix
        number += 1
    used.add(title.casefold())
    return title


def _xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | datetime | date):
        return value
    if isinstance(value, int | float | Decimal):
        return value if math.isfinite(value) else str(value)
    # Characters XML cannot hold are dropped first, so that what is left is made safe.
    return spreadsheet_safe(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def write_xlsx(
    target: str | PathLike[str] | IO[bytes],
    sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]],
) -> None:
    """Write an .xlsx with one worksheet per (header, rows): numbers stay numbers, text is
    made formula-safe with `spreadsheet_safe`, the header row is bold and frozen."""
    if not sheets:
        raise ValueError("an .xlsx needs at least one sheet")
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for name, (header, rows) in sheets.items():
        worksheet = workbook.create_sheet(title=_sheet_title(name, used))
        worksheet.append([_xlsx_cell(heading) for heading in header])
        for cell in worksheet[1]:
            cell.font = bold
        worksheet.freeze_panes = "A2"
        for row in rows:
            worksheet.append([_xlsx_cell(cell) for cell in row])
        for position, heading in enumerate(header, start=1):
            width = min(max(len(str(heading)), 8) + 2, 50)
            worksheet.column_dimensions[get_column_letter(position)].width = width
    workbook.save(target)
