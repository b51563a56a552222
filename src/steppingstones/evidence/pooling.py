"""One pooled analysis from a data table: effect sizes, the model, subgroups, moderators,
sensitivity analyses and plots.

Takes and returns plain data (the table as CSV text or header + rows, the report as a
JSON-able dict with no NaN), so the pages store the report and ``steppingstones evidence
meta --json`` prints the same one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steppingstones.evidence import meta
from steppingstones.evidence.funnel import funnel_svg
from steppingstones.evidence.meta import EffectSizes, MetaInputError
from steppingstones.evidence.meta_input import (
    RATIO_MEASURES,
    MetaFileError,
    StudyTable,
    read_study_table,
)
from steppingstones.evidence.plots import forest_svg


def finite(value: Any) -> Any:
    """JSON has no NaN or infinity: a statistic that is not a finite number becomes None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_dict(result: Any, measure: str) -> dict[str, Any]:
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
        exp = meta.back_transform(result, measure)
        report["exp"] = {
            key: finite(value)
            for key, value in {
                "estimate": exp.estimate,
                "ci_low": exp.ci_low,
                "ci_high": exp.ci_high,
                "pi_low": exp.pi_low,
                "pi_high": exp.pi_high,
            }.items()
        }
    return {key: finite(value) for key, value in report.items()}


def regression_dict(fit: meta.MetaRegressionResult) -> dict[str, Any]:
    report: dict[str, Any] = {
        key: finite(value)
        for key, value in {
            "k": fit.k,
            "method": fit.method,
            "test": fit.test,
            "df": fit.df,
            "tau2": fit.tau2,
            "tau2_se": fit.tau2_se,
            "i2": fit.i2,
            "h2": fit.h2,
            "r2": fit.r2,
            "qm": fit.qm,
            "qm_df": fit.qm_df,
            "qm_p": fit.qm_p,
            "qe": fit.qe,
            "qe_df": fit.qe_df,
            "qe_p": fit.qe_p,
        }.items()
    }
    report["coefficients"] = {
        name: {
            key: finite(float(value))
            for key, value in {
                "estimate": fit.coefficients[i],
                "se": fit.se[i],
                "z_or_t": fit.stat[i],
                "p": fit.p[i],
                "ci_low": fit.ci_low[i],
                "ci_high": fit.ci_high[i],
            }.items()
        }
        for i, name in enumerate(fit.names)
    }
    return report


@dataclass(frozen=True)
class Options:
    """What to compute beyond the pooled estimate."""

    subgroup: str = ""
    moderators: tuple[str, ...] = ()
    leave_one_out: bool = False
    egger: bool = False
    trim_fill: bool = False


def read_table(text: str, measure: str, options: Options = Options()) -> StudyTable:
    return read_study_table(
        text,
        measure,
        text_columns=[options.subgroup] if options.subgroup else [],
        number_columns=list(options.moderators),
    )


def _in_file(error: MetaInputError, table: StudyTable) -> MetaFileError:
    """The engine counts studies from 1; a person reads the file, whose header is row 1."""
    if isinstance(error, MetaFileError):
        return error
    if error.row is None or not 1 <= error.row <= len(table.labels):
        return MetaFileError(str(error))
    return MetaFileError(f"{table.where(error.row)}: {error.message}")


def report_for(
    table: StudyTable, *, measure: str, method: str, hksj: bool, options: Options = Options()
) -> tuple[dict[str, Any], EffectSizes]:
    """The whole report of one analysis of ``table``; faults raise ``MetaFileError`` naming
    the file row (or ``MetaConvergenceError``)."""
    test = "knha" if hksj else "z"
    try:
        values: dict[str, Any] = dict(table.columns)
        effects = meta.escalc(measure, labels=table.labels, **values)
        result = meta.rma(effects, method=method, test=test)
        report = result_dict(result, measure)
        report["studies"] = [
            {"study": label, "yi": float(y), "vi": float(v)}
            for label, y, v in zip(table.labels, effects.yi, effects.vi, strict=True)
        ]
        if options.subgroup:
            groups = table.text_columns[options.subgroup]
            split = meta.subgroup_analysis(effects, groups=groups, method=method, test=test)
            report["subgroup_column"] = options.subgroup
            report["groups"] = list(groups)
            report["subgroups"] = {
                name: result_dict(fit, measure) for name, fit in split.results.items()
            }
            report["test_of_differences"] = {
                "q": finite(split.q_between),
                "df": split.q_between_df,
                "p": finite(split.q_between_p),
            }
        if options.moderators:
            fit = meta.meta_regression(
                effects,
                moderators={name: table.number_columns[name] for name in options.moderators},
                method=method,
                test=test,
            )
            report["meta_regression"] = regression_dict(fit)
        if options.leave_one_out and result.k >= 2:
            fits = meta.leave_one_out(effects, method=method, test=test)
            report["leave_one_out"] = [
                {"omitted": label, **result_dict(fit, measure)}
                for label, fit in zip(table.labels, fits, strict=True)
            ]
        if options.egger and result.k >= 3:
            egger = meta.egger_test(effects, method=method, test=test)
            report["egger"] = {
                key: finite(value)
                for key, value in {
                    "test": egger.fit.test,
                    "stat": egger.stat,
                    "df": egger.df,
                    "p": egger.p,
                    "limit": egger.limit,
                    "limit_ci_low": egger.limit_ci_low,
                    "limit_ci_high": egger.limit_ci_high,
                }.items()
            }
        if options.trim_fill and result.k >= 3:
            filled = meta.trim_and_fill(effects, method=method, test=test)
            report["trim_fill"] = {
                "k0": filled.k0,
                "se_k0": finite(filled.se_k0),
                "side": filled.side,
                "estimator": filled.estimator,
                "filled": [
                    {"yi": float(y), "vi": float(v)}
                    for y, v in zip(filled.yi_filled, filled.vi_filled, strict=True)
                ],
                "result": result_dict(filled.result, measure),
            }
    except MetaInputError as error:
        raise _in_file(error, table) from error
    return report, effects


def _csv(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return handle.getvalue()


def analyse(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    measure: str,
    method: str,
    hksj: bool = False,
    subgroup_column: str = "",
    moderators: Sequence[str] = (),
) -> dict[str, Any]:
    """The report a page stores: the model, subgroups and moderators when asked, and the
    sensitivity analyses (leave-one-out; Egger's test and trim-and-fill from three studies)."""
    if subgroup_column and subgroup_column not in columns:
        raise MetaFileError(f"row 1: no column {subgroup_column!r} for subgroups")
    options = Options(
        subgroup=subgroup_column,
        moderators=tuple(moderators),
        leave_one_out=True,
        egger=True,
        trim_fill=True,
    )
    table = read_table(_csv(columns, rows), measure, options)
    report, _ = report_for(table, measure=measure, method=method, hksj=hksj, options=options)
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
    random = report["method"] != "EE" and report["k"] > 1
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
        pi_low=report["pi_low"] if random else None,
        pi_high=report["pi_high"] if random else None,
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
