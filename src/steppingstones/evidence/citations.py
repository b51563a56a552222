"""Stable citation keys for evidence: ``<review slug>/<ref>``.

Pooled results (``MA-n``), synthesised qualitative findings (``QF-n``), themes (``T-n``),
charting themes (``CT-n``) and included studies (``S-n``) each carry a reference that is
unique within its review and never reused (``Review.allocate_ref``). The theory of change
cites evidence by these keys; :func:`resolve` turns a key back into what it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from steppingstones.core.models import Study
from steppingstones.evidence.models import (
    ChartingTheme,
    IncludedStudy,
    MetaAnalysis,
    Review,
    ReviewFinding,
    Theme,
)

KEY = re.compile(r"^(?P<review>[-\w]+)/(?P<ref>(?P<prefix>[A-Z]+)-\d+)$")


@dataclass(frozen=True)
class CitedEvidence:
    key: str
    kind: str
    title: str
    summary: str
    url: str


def _summary_of_analysis(analysis: MetaAnalysis) -> str:
    report = analysis.result
    if not report:
        return "not yet computed"
    if "exp" in report:
        values = report["exp"]
        return (
            f"{analysis.measure} {values['estimate']:.2f} "
            f"(95% CI {values['ci_low']:.2f} to {values['ci_high']:.2f}), k = {report['k']}"
        )
    return (
        f"{analysis.measure} {report['estimate']:.2f} "
        f"(95% CI {report['ci_low']:.2f} to {report['ci_high']:.2f}), k = {report['k']}"
    )


def _describe(item: object, slugs: list[str]) -> tuple[str, str, str, str]:
    """(kind, title, summary, url) of one cited item."""
    if isinstance(item, MetaAnalysis):
        url = reverse("evidence_meta", args=[*slugs, item.ref])
        return "pooled result", item.title, _summary_of_analysis(item), url
    synthesis = reverse("evidence_synthesis", args=slugs)
    if isinstance(item, ReviewFinding):
        confidence = item.assessment.get("overall", "not assessed")
        summary = f"GRADE-CERQual: {confidence} confidence"
        return "synthesised qualitative finding", item.statement, summary, f"{synthesis}#{item.ref}"
    if isinstance(item, Theme):
        summary = f"{item.findings.count()} study findings"
        return item.get_kind_display().lower(), item.title, summary, f"{synthesis}#{item.ref}"
    if isinstance(item, ChartingTheme):
        url = reverse("evidence_charting", args=slugs) + f"#{item.ref}"
        return "charted theme", item.name, f"{item.documents.count()} documents", url
    assert isinstance(item, IncludedStudy)
    url = reverse("evidence_study", args=[*slugs, item.ref])
    return "included study", item.label, item.get_design_display(), url


CITABLE: dict[str, type] = {
    "MA": MetaAnalysis,
    "QF": ReviewFinding,
    "T": Theme,
    "CT": ChartingTheme,
    "S": IncludedStudy,
}


def resolve(study: Study, key: str) -> CitedEvidence | None:
    """What ``key`` cites within ``study``, or None when it names nothing there."""
    match = KEY.match(key.strip())
    if match is None or match["prefix"] not in CITABLE:
        return None
    review = Review.objects.filter(study=study, slug=match["review"]).first()
    if review is None:
        return None
    model: Any = CITABLE[match["prefix"]]
    item = model.objects.filter(review=review, ref=match["ref"]).first()
    if item is None:
        return None
    kind, title, summary, url = _describe(item, [study.slug, review.slug])
    return CitedEvidence(key, kind, title, summary, url)
