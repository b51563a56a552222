"""One pooled analysis from a stored data table: effect sizes, the model, subgroups, plots.

Takes and returns plain data (the table as header + rows of text, the report as a JSON-able
dict with the same keys as ``steppingstones evidence meta --json``), so pages store the
report and the command line prints it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steppingstones.evidence.funnel import funnel_svg
from steppingstones.evidence.meta import (
    EffectSizes,
    MetaInputError,
    MetaResult,
    back_transform,
    escalc,
    rma,
    subgroup_analysis,
)
from steppingstones.evidence.meta_input import (
    RATIO_MEASURES,
    MetaFileError,
    StudyTable,
    read_study_table,
)
from steppingstones.evidence.plots import forest_svg


def _csv(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    import csv
    import io

    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return handle.getvalue()


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def result_dict(result: MetaResult, measure: str) -> dict[str, Any]:
    report: dict[str, Any] = {
        "measure": measure,
        "method": result.method,
        "test": result.test,
        "k": result.k,
        "estimate": result.estimate,
        "se": result.se,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "pi_low": result.pi_low,
        "pi_high": result.pi_high,
        "tau2": result.tau2,
        "tau2_ci_low": result.tau2_ci_low,
        "tau2_ci_high": result.tau2_ci_high,
        "i2": result.i2,
        "h2": result.h2,
        "q": result.q,
        "q_df": result.q_df,
        "q_p": result.q_p,
        "z_or_t": result.z_or_t,
        "p": result.p,
    }
    if measure in RATIO_MEASURES:
        exp = back_transform(result, measure)
        report["exp"] = {
            "estimate": exp.estimate,
            "ci_low": exp.ci_low,
            "ci_high": exp.ci_high,
            "pi_low": exp.pi_low,
            "pi_high": exp.pi_high,
        }
    return {
        key: _finite(value) if isinstance(value, float) else value for key, value in report.items()
    }


def effects_of(
    columns: Sequence[str], rows: Sequence[Sequence[str]], measure: str
) -> tuple[StudyTable, EffectSizes]:
    table = read_study_table(_csv(columns, rows), measure)
    values: dict[str, Any] = dict(table.columns)
    try:
        return table, escalc(measure, labels=table.labels, **values)
    except MetaInputError as error:
        raise _in_file(error, table) from error


def _in_file(error: MetaInputError, table: StudyTable) -> MetaFileError:
    """The engine counts studies from 1; a person reads the table, whose header is row 1."""
    if error.row is None or not 1 <= error.row <= len(table.labels):
        return MetaFileError(str(error))
    return MetaFileError(f"row {error.row + 1} ({table.labels[error.row - 1]}): {error.message}")


def analyse(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    measure: str,
    method: str,
    hksj: bool = False,
    subgroup_column: str = "",
) -> dict[str, Any]:
    """The report of one analysis; raises ``MetaFileError``/``MetaInputError`` with the row."""
    table, effects = effects_of(columns, rows, measure)
    test = "knha" if hksj else "z"
    try:
        result = rma(effects, method=method, test=test)
    except MetaInputError as error:
        raise _in_file(error, table) from error
    report = result_dict(result, measure)
    report["studies"] = [
        {"study": label, "yi": float(y), "vi": float(v)}
        for label, y, v in zip(table.labels, effects.yi, effects.vi, strict=True)
    ]
    if subgroup_column:
        if subgroup_column not in columns:
            raise MetaFileError(f"row 1: no column {subgroup_column!r} for subgroups")
        index = list(columns).index(subgroup_column)
        groups = [row[index] if index < len(row) else "" for row in rows if any(row)]
        for number, group in enumerate(groups, start=2):
            if not group:
                raise MetaFileError(f"row {number}, column {subgroup_column}: no subgroup")
        split = subgroup_analysis(effects, groups=groups, method=method, test=test)
        report["subgroups"] = {
            name: result_dict(fit, measure) for name, fit in split.results.items()
        }
        report["test_of_differences"] = {
            "q": split.q_between,
            "df": split.q_between_df,
            "p": split.q_between_p,
        }
        report["groups"] = groups
    return report


@dataclass(frozen=True)
class _Pooled:
    k: int
    estimate: float
    ci_low: float
    ci_high: float


def forest(report: dict[str, Any]) -> str:
    """The forest plot of a stored report, by subgroup when the analysis has subgroups."""
    studies = report["studies"]
    ratio = report["measure"] in RATIO_MEASURES
    random = report["method"] != "EE"
    subgroups = None
    test = None
    if report.get("subgroups"):
        subgroups = {
            name: _Pooled(part["k"], part["estimate"], part["ci_low"], part["ci_high"])
            for name, part in report["subgroups"].items()
        }
        differences = report["test_of_differences"]
        test = (differences["q"], differences["df"], differences["p"])
    return forest_svg(
        [item["study"] for item in studies],
        [item["yi"] for item in studies],
        [item["vi"] for item in studies],
        estimate=report["estimate"],
        ci_low=report["ci_low"],
        ci_high=report["ci_high"],
        tau2=report["tau2"] or 0.0,
        pi_low=report["pi_low"] if random and report["k"] > 1 else None,
        pi_high=report["pi_high"] if random and report["k"] > 1 else None,
        ratio=ratio,
        measure=report["measure"],
        model=f"{report['method']} model",
        groups=report.get("groups") if subgroups else None,
        subgroups=subgroups,
        subgroup_test=test,
    )


def funnel(report: dict[str, Any], *, contours: bool = False) -> str:
    studies = report["studies"]
    return funnel_svg(
        [item["yi"] for item in studies],
        [item["vi"] for item in studies],
        report["estimate"],
        contours=contours,
        ratio=report["measure"] in RATIO_MEASURES,
        title=f"Funnel plot ({report['measure']})",
    )
