"""What reviewers do on the evidence pages, end to end through Django (real database)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from steppingstones.evidence.citations import resolve
from steppingstones.evidence.models import (
    Appraisal,
    ChartedDocument,
    Extraction,
    IncludedStudy,
    MetaAnalysis,
    Review,
    ReviewFinding,
)

# dat.bcg (Colditz et al. 1994, as distributed with metafor): tpos, tneg, cpos, cneg.
BCG = [
    ("Aronson 1948", 4, 119, 11, 128),
    ("Ferguson & Simes 1949", 6, 300, 29, 274),
    ("Rosenthal 1960", 3, 228, 11, 209),
    ("Hart & Sutherland 1977", 62, 13536, 248, 12619),
    ("Frimodt-Moller 1973", 33, 5036, 47, 5761),
    ("Stein & Aronson 1953", 180, 1361, 372, 1079),
    ("Vandiviere 1973", 8, 2537, 10, 619),
    ("TPT Madras 1980", 505, 87886, 499, 87892),
    ("Coetzee & Berjak 1968", 29, 7470, 45, 7232),
    ("Rosenthal 1961", 17, 1699, 65, 1600),
    ("Comstock 1974", 186, 50448, 141, 27197),
    ("Comstock & Webster 1969", 5, 2493, 3, 2338),
    ("Comstock 1976", 27, 16886, 29, 17825),
]
ALLOC = [
    "random",
    "random",
    "random",
    "random",
    "alternate",
    "alternate",
    "random",
    "random",
    "random",
    "systematic",
    "systematic",
    "systematic",
    "systematic",
]
# metafor's rma.uni reference page: res <- rma(ai=tpos, bi=tneg, ci=cpos, di=cneg,
# data=dat.bcg, measure="RR") prints estimate -0.7145, se 0.1798, ci.lb -1.0669,
# ci.ub -0.3622, tau^2 0.3132, I^2 92.22%.
# https://wviechtb.github.io/metafor/reference/rma.uni.html
METAFOR_REML = {
    "estimate": -0.7145,
    "se": 0.1798,
    "ci_low": -1.0669,
    "ci_high": -0.3622,
    "tau2": 0.3132,
    "i2": 92.22,
}


def url(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"study_slug": "alpha", **kwargs})


def bcg_csv() -> str:
    lines = ["study,ai,bi,ci,di,alloc"]
    lines += [f"{s},{a},{b},{c},{d},{g}" for (s, a, b, c, d), g in zip(BCG, ALLOC, strict=True)]
    return "\n".join(lines)


@pytest.fixture
def researcher(world, login):
    return login(world["users"]["researcher"])


def test_a_researcher_sets_up_a_review_and_pools_bcg_as_metafor_does(world, researcher) -> None:
    response = researcher.post(
        url("evidence_review_add"),
        {
            "title": "BCG",
            "slug": "bcg",
            "kind": "systematic",
            "framework": "PICO",
            "part_Population": "Adults",
            "question": "Does BCG prevent TB?",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get(study=world["alpha"], slug="bcg")
    assert review.framework_answers == {"Population": "Adults"}
    response = researcher.post(
        url("evidence_meta_add", review="bcg"),
        {
            "title": "TB cases",
            "measure": "RR",
            "method": "REML",
            "table": bcg_csv(),
            "subgroup_column": "alloc",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    analysis = MetaAnalysis.objects.get(review=review)
    assert analysis.ref == "MA-1"
    for key, value in METAFOR_REML.items():
        assert round(analysis.result[key], 4 if key != "i2" else 2) == value, key
    assert set(analysis.result["subgroups"]) == {"random", "alternate", "systematic"}
    page = researcher.get(url("evidence_meta", review="bcg", ref="MA-1")).content.decode()
    assert "0.49" in page  # exp(-0.7145) = 0.489
    assert "Test for subgroup differences" in page
    assert 'class="chart forest"' in page
    assert resolve(world["alpha"], "bcg/MA-1").summary.startswith("RR 0.49 (95% CI 0.34")


def test_a_bad_data_table_names_the_row_and_saves_nothing(world, researcher) -> None:
    Review.objects.create(study=world["alpha"], slug="r", title="R")
    bad = bcg_csv().replace("Rosenthal 1960,3,", "Rosenthal 1960,three,")
    page = researcher.post(
        url("evidence_meta_add", review="r"),
        {"title": "x", "measure": "RR", "method": "REML", "table": bad},
    ).content.decode()
    assert "row 4 (Rosenthal 1960), column ai" in page
    assert not MetaAnalysis.objects.exists()
    negative = "study,yi,vi\na,0.1,0.02\nb,0.3,-0.01\n"
    page = researcher.post(
        url("evidence_meta_add", review="r"),
        {"title": "x", "measure": "GEN", "method": "REML", "table": negative},
    ).content.decode()
    assert "The analysis cannot run: row 3 (b): sampling variance must be" in page
    assert not MetaAnalysis.objects.exists()


def test_figures_download_as_svg_png_and_pdf(reviews, researcher) -> None:
    starts = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF"}
    for fmt, start in starts.items():
        response = researcher.get(
            url("evidence_meta_figure", review="integrated", ref="MA-1", figure="forest", fmt=fmt)
        )
        assert response.content.startswith(start), fmt
        response = researcher.get(
            url(
                "evidence_appraisal_figure",
                review="integrated",
                tool="mmat-2018",
                chart="traffic-light",
                fmt=fmt,
            )
        )
        assert response.content.startswith(start), fmt


def _extract(client, study: IncludedStudy, **answers: str) -> Any:
    data = {"action": "complete", "f_design": "cohort", **answers}
    return client.post(url("evidence_extract", review=study.review.slug, ref=study.ref), data)


def test_dual_extraction_is_blind_until_both_are_complete_then_reconciled(
    world, login, researcher
) -> None:
    review = Review.objects.create(study=world["alpha"], slug="r", title="R")
    study = IncludedStudy.objects.create(review=review, ref="S-1", label="Smith 2020")
    peer = login(world["users"]["peer-researcher"])
    reconcile = url("evidence_reconcile", review="r", ref="S-1")
    response = _extract(researcher, study, f_country="Canada", f_sample_size="120")
    assert response.status_code == 302
    page = peer.get(url("evidence_extract", review="r", ref="S-1")).content.decode()
    assert "Canada" not in page and "120" not in page
    assert peer.get(reconcile).status_code == 404
    page = _extract(peer, study, f_sample_size="12O").content.decode()
    assert "Sample size: &#x27;12O&#x27; is not a whole number" in page
    assert Extraction.objects.filter(study=study).count() == 1
    _extract(peer, study, f_country="canada ", f_sample_size="112", f_setting="=cmd|' /C calc'!A0")
    page = peer.get(reconcile).content.decode()
    assert "Sample size" in page and "Differ" in page
    response = peer.post(reconcile, {})
    assert "Sample size" in response.content.decode()  # unresolved
    assert not Extraction.objects.filter(study=study, is_consensus=True).exists()
    response = peer.post(reconcile, {"pick_sample_size": "first", "pick_setting": "second"})
    assert response.status_code == 302
    consensus = Extraction.objects.get(study=study, is_consensus=True)
    assert consensus.answers["sample_size"] == 120
    assert consensus.answers["country"] == "Canada"
    export = researcher.get(url("evidence_extraction_export", review="r", fmt="csv"))
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:3] == ["Study", "Reviewer", "Study design"]
    settings_column = rows[0].index("Setting")
    assert {row[settings_column] for row in rows[1:]} >= {"'=cmd|' /C calc'!A0"}
    workbook = load_workbook(
        io.BytesIO(
            researcher.get(url("evidence_extraction_export", review="r", fmt="xlsx")).content
        )
    )
    sheet = workbook["Extractions"]
    header = [cell.value for cell in sheet[1]]
    sizes = [row[header.index("Sample size (participants)")].value for row in sheet.iter_rows(2)]
    assert sorted(sizes) == [112, 120, 120]


def test_the_form_designer_adds_a_table_field_and_refuses_a_broken_one(world, researcher) -> None:
    Review.objects.create(study=world["alpha"], slug="r", title="R")
    design = url("evidence_form", review="r")
    response = researcher.post(
        design,
        {
            "action": "add",
            "label": "Doses",
            "kind": "table",
            "columns": "Drug | choice | methadone; buprenorphine\nDose mg | number",
        },
    )
    assert response.status_code == 302
    page = researcher.get(design).content.decode()
    assert "Drug (choice)" in page and "Dose mg (number)" in page
    page = researcher.post(design, {"action": "add", "label": "Arm", "kind": "choice"})
    assert "needs choices" in page.content.decode()
    page = researcher.post(design, {"action": "add", "label": "Bad", "kind": "table"})
    assert "column" in page.content.decode()
    page = researcher.get(url("evidence_extract", review="r", ref="S-1"))
    assert page.status_code == 404  # no such study


def test_rob2_appraisal_follows_the_tool_and_an_override_needs_a_reason(
    reviews, researcher
) -> None:
    study = IncludedStudy.objects.get(review__slug="integrated", ref="S-2")
    appraise = url("evidence_appraise", review="integrated", ref="S-2", tool="rob2")
    answers = {
        "1.1": "Y",
        "1.2": "NI",
        "1.3": "N",
        "2.1": "N",
        "2.2": "N",
        "2.6": "Y",
        "3.1": "Y",
        "4.1": "N",
        "4.2": "N",
        "4.3": "N",
        "5.1": "Y",
        "5.2": "N",
        "5.3": "N",
    }
    data = {f"item_{key}": value for key, value in answers.items()}
    data["override_D3"] = "high"
    page = researcher.post(appraise, data).content.decode()
    assert "reason" in page.lower()
    Appraisal.objects.filter(study=study, tool="rob2").delete()
    del data["override_D3"]
    assert researcher.post(appraise, data).status_code == 302
    page = researcher.get(appraise).content.decode()
    # Domain 1: 1.2 no information with 1.3 no baseline imbalance -> some concerns (RoB 2
    # guidance, domain 1 algorithm); every other domain low -> overall some concerns.
    assert "Saved judgement: Overall: Some concerns" in page
    summary = researcher.get(url("evidence_appraisal", review="integrated", tool="rob2"))
    assert study.label in summary.content.decode()  # the trial's row in the traffic light
    assert 'role="img"' in summary.content.decode()


def test_cerqual_requires_explanations_and_the_soqf_table_downloads(reviews, researcher) -> None:
    add = url("evidence_qf_add", review="integrated")
    data = {
        "statement": '=HYPERLINK("x") Women value continuity.',
        "methodological_limitations_concern": "moderate",
        "methodological_limitations_explanation": "",
        "coherence_concern": "no or very minor",
        "adequacy_concern": "no or very minor",
        "relevance_concern": "no or very minor",
        "overall": "moderate",
        "overall_explanation": "Downgraded once.",
    }
    page = researcher.post(add, data).content.decode()
    assert "Methodological limitations" in page
    assert ReviewFinding.objects.filter(review__slug="integrated").count() == 4
    data["methodological_limitations_explanation"] = "Two studies did not report reflexivity."
    assert researcher.post(add, data).status_code == 302
    finding = ReviewFinding.objects.get(review__slug="integrated", ref="QF-5")
    assert finding.assessment["overall"] == "moderate"
    assert resolve(reviews["alpha"], "integrated/QF-5").summary == (
        "GRADE-CERQual: moderate confidence"
    )
    body = researcher.get(url("evidence_soqf_csv", review="integrated")).content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "#" and rows[1][0] == "QF-1"
    assert rows[-1][1].startswith("'=HYPERLINK")


def test_a_high_overall_despite_serious_concerns_asks_for_confirmation(reviews, researcher) -> None:
    data = {
        "statement": "Finding",
        "methodological_limitations_concern": "serious",
        "methodological_limitations_explanation": "Poor reporting.",
        "coherence_concern": "no or very minor",
        "adequacy_concern": "no or very minor",
        "relevance_concern": "no or very minor",
        "overall": "high",
        "overall_explanation": "We disagree with downgrading.",
    }
    add = url("evidence_qf_add", review="integrated")
    page = researcher.post(add, data).content.decode()
    assert "Warning" in page
    assert ReviewFinding.objects.filter(review__slug="integrated").count() == 4
    assert researcher.post(add, {**data, "confirmed": "1"}).status_code == 302


def test_charting_a_document_feeds_the_evidence_map_and_csv(reviews, researcher) -> None:
    review = Review.objects.get(study=reviews["alpha"], slug="guidance")
    study = IncludedStudy.objects.create(
        review=review, ref="S-99", label="New guideline", design="document"
    )
    theme = review.charting_themes.get(name="Stigma")
    before = theme.documents.count()
    response = researcher.post(
        url("evidence_chart", review="guidance", ref="S-99"),
        {
            "issuing_body": "NICE",
            "nation": "Wales",
            "year": "2024",
            "document_type": "guideline",
            "audience": "midwives; GPs",
            "themes": [theme.pk],
        },
    )
    assert response.status_code == 302
    charted = ChartedDocument.objects.get(study=study)
    assert charted.audience == ["midwives", "GPs"]
    assert theme.documents.count() == before + 1
    page = researcher.get(url("evidence_charting", review="guidance")).content.decode()
    assert "Evidence map" in page and "Wales" in page
    body = researcher.get(url("evidence_charting_csv", review="guidance")).content.decode()
    assert "New guideline" in body and "midwives; GPs" in body
    bad = researcher.post(
        url("evidence_chart", review="guidance", ref="S-99"),
        {"issuing_body": "NICE", "nation": "Wales", "year": "1066", "document_type": "x"},
    )
    assert "year of publication" in bad.content.decode()
    assert resolve(reviews["alpha"], f"guidance/{theme.ref}").title == "Stigma"


def test_the_demo_reviews_hold_what_every_page_needs(reviews) -> None:
    review = Review.objects.get(study=reviews["alpha"], slug="integrated")
    assert review.studies.count() == 14
    assert review.meta_analyses.count() == 2
    ready = [
        s for s in review.studies.all() if s.extractions.filter(status="complete").count() >= 3
    ]
    assert len(ready) == 3  # two reviewers + consensus
    assert Appraisal.objects.filter(study__review=review, tool="rob2").count() == 2
    assert review.review_findings.count() == 4
    scoping = Review.objects.get(study=reviews["alpha"], slug="guidance")
    assert ChartedDocument.objects.filter(study__review=scoping).count() == 40
    assert resolve(reviews["alpha"], "integrated/MA-2") is not None
    assert resolve(reviews["alpha"], "integrated/MA-9") is None
    assert resolve(reviews["alpha"], "nonsense") is None
    # the screening half: five sources, duplicates merged, two reviewers part-way, conflicts
    from steppingstones.evidence import services

    assert review.sources.count() == 5
    assert review.records.count() == 300
    assert review.records.filter(duplicate_of__isnull=False).count() > 30
    states = services.states_for(review, "title-abstract")
    assert "conflict" in states.values() and "unscreened" in states.values()
    assert "awaiting second reviewer" in states.values()


def test_the_forest_plot_of_a_subgroup_analysis_shows_each_subgroup(world, researcher) -> None:
    Review.objects.create(study=world["alpha"], slug="bcg", title="BCG")
    researcher.post(
        url("evidence_meta_add", review="bcg"),
        {
            "title": "TB",
            "measure": "RR",
            "method": "REML",
            "table": bcg_csv(),
            "subgroup_column": "alloc",
        },
    )
    svg = researcher.get(
        url("evidence_meta_figure", review="bcg", ref="MA-1", figure="forest", fmt="svg")
    ).content.decode()
    for group in ("random", "alternate", "systematic"):
        assert group in svg
    # metafor: rma(yi, vi, data=dat, subset=alloc=="random") gives -0.9710 for random
    # allocation (https://www.metafor-project.org/doku.php/tips:comp_two_independent_estimates)
    analysis = MetaAnalysis.objects.get(review__slug="bcg")
    assert round(analysis.result["subgroups"]["random"]["estimate"], 4) == -0.9710


def test_the_page_shows_meta_regression_and_sensitivity_analyses(world, researcher) -> None:
    Review.objects.create(study=world["alpha"], slug="bcg", title="BCG")
    latitude = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
    lines = ["study,ai,bi,ci,di,ablat"] + [
        f"{s},{a},{b},{c},{d},{lat}" for (s, a, b, c, d), lat in zip(BCG, latitude, strict=True)
    ]
    response = researcher.post(
        url("evidence_meta_add", review="bcg"),
        {
            "title": "TB",
            "measure": "RR",
            "method": "REML",
            "table": "\n".join(lines),
            "moderator_text": "ablat",
        },
    )
    assert response.status_code == 302
    result = MetaAnalysis.objects.get(review__slug="bcg").result
    # metafor, rma(yi, vi, mods = ~ ablat, data = dat): intercept 0.2515, ablat -0.0291,
    # residual tau^2 0.0764 (https://wviechtb.github.io/metafor/reference/rma.uni.html)
    coefficients = result["meta_regression"]["coefficients"]
    assert round(coefficients["intrcpt"]["estimate"], 4) == 0.2515
    assert round(coefficients["ablat"]["estimate"], 4) == -0.0291
    # metafor prints 0.0764: its Fisher scoring stops once tau^2 changes by < 1e-5, while the
    # exact maximum of the restricted likelihood (scipy, bounded search) is 0.076348.
    assert abs(result["meta_regression"]["tau2"] - 0.0764) < 1e-4
    assert abs(result["meta_regression"]["tau2"] - 0.076348) < 1e-6
    assert len(result["leave_one_out"]) == 13
    page = researcher.get(url("evidence_meta", review="bcg", ref="MA-1")).content.decode()
    for heading in ("Meta-regression", "Leave one out", "Egger", "Trim-and-fill"):
        assert heading in page
