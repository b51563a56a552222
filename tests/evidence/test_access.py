"""Every evidence page answers 404 to anyone outside its study or without the evidence area,
and read-only roles cannot change anything."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

READERS = [
    "study-manager",
    "researcher",
    "researcher-identifiable",
    "site-researcher-EL",
    "peer-researcher",
    "auditor",
]
WRITERS = [who for who in READERS if who != "auditor"]
OUTSIDERS = ["advisory-group-member", "other-study-manager"]
EVERYONE = [*READERS, *OUTSIDERS]

MIXED = {"review": "integrated"}
SCOPING = {"review": "guidance"}
STUDY = {**MIXED, "ref": "S-1"}
QUAL = {**MIXED, "ref": "S-9"}
CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("evidence_index", {}, READERS),
    ("evidence_review_add", {}, WRITERS),
    ("evidence_review", MIXED, READERS),
    ("evidence_review", SCOPING, READERS),
    ("evidence_review_edit", MIXED, WRITERS),
    ("evidence_sources", MIXED, READERS),
    ("evidence_import", MIXED, WRITERS),
    ("evidence_duplicates", MIXED, READERS),
    ("evidence_screening", MIXED, READERS),
    ("evidence_screen", {**MIXED, "stage": "title-abstract"}, READERS),
    ("evidence_screen", {**MIXED, "stage": "full-text"}, READERS),
    ("evidence_conflicts", {**MIXED, "stage": "title-abstract"}, READERS),
    ("evidence_records", MIXED, READERS),
    ("evidence_prisma", MIXED, READERS),
    ("evidence_prisma", SCOPING, READERS),
    ("evidence_prisma_file", {**MIXED, "fmt": "csv"}, READERS),
    ("evidence_prisma_file", {**MIXED, "fmt": "svg"}, READERS),
    ("evidence_export", {**MIXED, "which": "included", "fmt": "ris"}, READERS),
    ("evidence_export", {**MIXED, "which": "excluded", "fmt": "bib"}, READERS),
    ("evidence_export", {**MIXED, "which": "all", "fmt": "csv"}, READERS),
    ("evidence_decision_log", MIXED, READERS),
    ("evidence_study_add", MIXED, WRITERS),
    ("evidence_study", STUDY, READERS),
    ("evidence_study_edit", STUDY, WRITERS),
    ("evidence_form", MIXED, READERS),
    ("evidence_extraction", MIXED, READERS),
    ("evidence_extraction_export", {**MIXED, "fmt": "csv"}, READERS),
    ("evidence_extraction_export", {**MIXED, "fmt": "xlsx"}, READERS),
    ("evidence_extract", STUDY, READERS),
    ("evidence_reconcile", {**MIXED, "ref": "S-2"}, READERS),
    ("evidence_appraise", {**STUDY, "tool": "mmat-2018"}, READERS),
    ("evidence_appraise", {**STUDY, "tool": "rob2"}, READERS),
    ("evidence_appraisal", {**MIXED, "tool": "mmat-2018"}, READERS),
    ("evidence_appraisal", {**MIXED, "tool": "robins-i"}, READERS),
    (
        "evidence_appraisal_figure",
        {**MIXED, "tool": "mmat-2018", "chart": "traffic-light", "fmt": "svg"},
        READERS,
    ),
    ("evidence_meta_add", MIXED, WRITERS),
    ("evidence_meta", {**MIXED, "ref": "MA-1"}, READERS),
    ("evidence_meta_edit", {**MIXED, "ref": "MA-1"}, WRITERS),
    (
        "evidence_meta_figure",
        {**MIXED, "ref": "MA-1", "figure": "forest", "fmt": "svg"},
        READERS,
    ),
    ("evidence_finding_add", QUAL, WRITERS),
    ("evidence_synthesis", MIXED, READERS),
    ("evidence_soqf_csv", MIXED, READERS),
    ("evidence_theme_add", MIXED, WRITERS),
    ("evidence_theme_edit", {**MIXED, "ref": "T-1"}, WRITERS),
    ("evidence_qf_add", MIXED, WRITERS),
    ("evidence_qf_edit", {**MIXED, "ref": "QF-1"}, WRITERS),
    ("evidence_charting", SCOPING, READERS),
    ("evidence_charting_csv", SCOPING, READERS),
    ("evidence_ctheme_add", SCOPING, WRITERS),
    ("evidence_ctheme_edit", {**SCOPING, "ref": "CT-1"}, WRITERS),
    ("evidence_chart", {**SCOPING, "ref": "S-1"}, WRITERS),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "allowed"),
    CASES,
    ids=[f"{c[0]}-{'-'.join(map(str, c[1].values()))}" for c in CASES],
)
def test_it_checks_access(reviews, login, name: str, kwargs: dict[str, Any], allowed) -> None:
    url = reverse(name, kwargs={"study_slug": "alpha", **kwargs})
    for who in EVERYONE:
        response = login(reviews["users"][who]).get(url)
        expected = 200 if who in allowed else 404
        assert response.status_code == expected, f"{who} on {url}: {response.status_code}"


def test_the_finding_edit_page_checks_access(reviews, login) -> None:
    from steppingstones.evidence.models import QualitativeFinding

    finding = QualitativeFinding.objects.filter(study__review__study=reviews["alpha"]).first()
    assert finding is not None
    url = reverse(
        "evidence_finding_edit",
        kwargs={
            "study_slug": "alpha",
            "review": "integrated",
            "ref": finding.study.ref,
            "finding": finding.pk,
        },
    )
    for who in EVERYONE:
        status = login(reviews["users"][who]).get(url).status_code
        assert status == (200 if who in WRITERS else 404), who


def test_another_study_cannot_reach_a_review_by_guessing(reviews, login) -> None:
    client = login(reviews["users"]["other-study-manager"])
    assert client.get("/s/beta/evidence/integrated/").status_code == 404
    assert client.get("/s/alpha/evidence/integrated/meta/MA-1/").status_code == 404


def test_the_auditor_cannot_change_anything(reviews, login) -> None:
    auditor = login(reviews["users"]["auditor"])
    for name, kwargs in [
        ("evidence_review_edit", MIXED),
        ("evidence_meta_edit", {**MIXED, "ref": "MA-1"}),
        ("evidence_extract", STUDY),
        ("evidence_appraise", {**STUDY, "tool": "mmat-2018"}),
        ("evidence_form", MIXED),
    ]:
        url = reverse(name, kwargs={"study_slug": "alpha", **kwargs})
        assert auditor.post(url, {"title": "x", "action": "add"}).status_code == 404, name


def test_unknown_tools_formats_and_references_are_404(reviews, login) -> None:
    client = login(reviews["users"]["researcher"])
    for url in [
        "/s/alpha/evidence/integrated/appraisal/nonsense/",
        "/s/alpha/evidence/integrated/extraction.exe",
        "/s/alpha/evidence/integrated/meta/MA-99/",
        "/s/alpha/evidence/integrated/meta/MA-1/forest.gif",
        "/s/alpha/evidence/integrated/studies/S-999/",
        "/s/alpha/evidence/nope/",
    ]:
        assert client.get(url).status_code == 404, url


def test_record_pages_check_access(reviews, login) -> None:
    from steppingstones.evidence import services
    from steppingstones.evidence.models import DuplicateGroup, Review

    review = Review.objects.get(study=reviews["alpha"], slug="integrated")
    group = DuplicateGroup.objects.filter(review=review).first()
    states = services.states_for(review, "title-abstract")
    sought = next(pk for pk, state in states.items() if state == "included")
    number = services.screenable(review).get(pk=sought).number
    urls = [
        reverse(
            "evidence_duplicate_group",
            kwargs={"study_slug": "alpha", "review": "integrated", "group": group.pk},
        ),
        reverse(
            "evidence_full_text",
            kwargs={"study_slug": "alpha", "review": "integrated", "number": number},
        ),
    ]
    for url in urls:
        for who in EVERYONE:
            status = login(reviews["users"][who]).get(url).status_code
            assert status == (200 if who in READERS else 404), f"{who} on {url}"


def test_posting_decisions_needs_write(reviews, login) -> None:
    from steppingstones.evidence.models import ScreeningDecision

    before = ScreeningDecision.objects.count()
    url = reverse(
        "evidence_screen",
        kwargs={"study_slug": "alpha", "review": "integrated", "stage": "title-abstract"},
    )
    for who in ("auditor", "advisory-group-member", "other-study-manager"):
        response = login(reviews["users"][who]).post(url, {"record": 1, "decision": "include"})
        assert response.status_code == 404, who
    assert ScreeningDecision.objects.count() == before
