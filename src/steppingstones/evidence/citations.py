"""Stable citation keys for evidence: ``<review slug>/<ref>``.

Pooled results (``MA-n``), synthesised qualitative findings (``QF-n``), themes (``T-n``),
charting themes (``CT-n``) and included studies (``S-n``) each carry a reference that is
unique within its review and never reused (``Review.allocate_ref``). The theory of change
cites evidence by these keys; :func:`resolve` turns a key back into what it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def resolve(study: Study, key: str) -> CitedEvidence | None:
    """What ``key`` cites within ``study``, or None when it names nothing there."""
    match = KEY.match(key.strip())
    if match is None:
        return None
    review = Review.objects.filter(study=study, slug=match["review"]).first()
    if review is None:
        return None
    ref, prefix = match["ref"], match["prefix"]
    slugs = [study.slug, review.slug]
    if prefix == "MA":
        analysis = MetaAnalysis.objects.filter(review=review, ref=ref).first()
        if analysis is None:
            return None
        return CitedEvidence(
            key,
            "pooled result",
            analysis.title,
            _summary_of_analysis(analysis),
            reverse("evidence_meta", args=[*slugs, ref]),
        )
    if prefix == "QF":
        finding = ReviewFinding.objects.filter(review=review, ref=ref).first()
        if finding is None:
            return None
        confidence = finding.assessment.get("overall", "not assessed")
        return CitedEvidence(
            key,
            "synthesised qualitative finding",
            finding.statement,
            f"GRADE-CERQual: {confidence} confidence",
            reverse("evidence_synthesis", args=slugs) + f"#{ref}",
        )
    if prefix == "T":
        theme = Theme.objects.filter(review=review, ref=ref).first()
        if theme is None:
            return None
        return CitedEvidence(
            key,
            theme.get_kind_display().lower(),
            theme.title,
            f"{theme.findings.count()} study findings",
            reverse("evidence_synthesis", args=slugs) + f"#{ref}",
        )
    if prefix == "CT":
        charted = ChartingTheme.objects.filter(review=review, ref=ref).first()
        if charted is None:
            return None
        return CitedEvidence(
            key,
            "charted theme",
            charted.name,
            f"{charted.documents.count()} documents",
            reverse("evidence_charting", args=slugs) + f"#{ref}",
        )
    if prefix == "S":
        included = IncludedStudy.objects.filter(review=review, ref=ref).first()
        if included is None:
            return None
        return CitedEvidence(
            key,
            "included study",
            included.label,
            included.get_design_display(),
            reverse("evidence_study", args=[*slugs, ref]),
        )
    return None
