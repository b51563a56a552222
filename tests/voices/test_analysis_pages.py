"""Voices analysis pages: each renders with data, exports are valid files, and every page checks
study, role and site."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from steppingstones.voices import analysis
from steppingstones.voices.models import AgreementResolution, AgreementRound, Coding, Framework
from tests.voices.test_analysis import voices  # noqa: F401 (the fixture)

VOICES = [
    "study-manager",
    "researcher",
    "researcher-identifiable",
    "site-researcher-EL",
    "site-researcher-GG",
    "peer-researcher",
    "auditor",
]
OUTSIDERS = ["advisory-group-member", "other-study-manager"]
ALL_SITES = [w for w in VOICES if not w.startswith("site-researcher")]


@pytest.fixture
def analysed(voices: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """`voices` with a framework (a summary for EL-W01) and a round in status comparing."""
    found = analysis.save_framework(
        voices["alpha"].pk,
        "Care experiences",
        "woman",
        True,
        [
            analysis.ThemeInput(None, "Judgement", (voices["codes"]["stigma"].pk,)),
            analysis.ThemeInput(None, "Trust", (voices["codes"]["trust"].pk,)),
        ],
    )
    theme = found.themes.get(name="Judgement")
    analysis.save_summary(
        found, voices["people"]["EL"], theme, voices["waves"][0], "=Judged at booking", voices["a"]
    )
    round_ = AgreementRound.objects.create(
        study=voices["alpha"], name="Round 1", status="comparing"
    )
    round_.sources.set([voices["sources"]["el1"], voices["sources"]["gg1"]])
    round_.coders.set([voices["a"], voices["b"]])
    return {**voices, "framework": found, "theme": theme, "round": round_}


def url(name: str, *args: Any, query: str = "") -> str:
    return reverse(name, args=["alpha", *args]) + (f"?{query}" if query else "")


def pages(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(URL, who may open it) for every page."""
    fw, theme, rnd = data["framework"].pk, data["theme"].pk, data["round"].pk
    wave = str(data["waves"][0].number)
    return [
        (url("voices_retrieve", query="q=Stigma"), VOICES),
        (url("voices_search", query="q=judged"), VOICES),
        (url("voices_frequencies"), VOICES),
        (url("voices_cooccurrence"), VOICES),
        (url("voices_frameworks"), VOICES),
        (url("voices_framework", fw), VOICES),
        (url("voices_framework", fw, query="view=cube"), VOICES),
        (url("voices_framework_edit", fw), VOICES),
        (
            url("voices_framework_cell", fw, "EL-W01", theme, wave),
            [*ALL_SITES, "site-researcher-EL"],
        ),
        (
            url("voices_framework_cell", fw, "GG-W01", theme, wave),
            [*ALL_SITES, "site-researcher-GG"],
        ),
        (url("voices_framework_case", fw, "EL-W01"), [*ALL_SITES, "site-researcher-EL"]),
        (url("voices_framework_case", fw, "GG-W01"), [*ALL_SITES, "site-researcher-GG"]),
        (url("voices_framework_wave", fw, wave), VOICES),
        (url("voices_framework_coverage", fw), VOICES),
        (url("voices_framework_export", fw, "xlsx"), VOICES),
        (url("voices_framework_export", fw, "docx"), VOICES),
        (url("voices_agreement_rounds"), VOICES),
        (url("voices_agreement_round", rnd), ALL_SITES),
        (url("voices_agreement_disagreements", rnd), ALL_SITES),
        (url("voices_agreement_export", rnd, "csv"), ALL_SITES),
    ]


def test_every_page_checks_study_role_and_site(analysed: dict[str, Any], login: Any) -> None:
    clients = {who: login(analysed["users"][who]) for who in VOICES + OUTSIDERS}
    for address, allowed in pages(analysed):
        for who, client in clients.items():
            status = client.get(address).status_code
            assert status == (200 if who in allowed else 404), f"{who} on {address}: {status}"


def test_a_round_wholly_at_one_site_opens_for_that_sites_researcher(
    analysed: dict[str, Any], login: Any
) -> None:
    analysed["round"].sources.set([analysed["sources"]["gg1"]])
    address = url("voices_agreement_round", analysed["round"].pk)
    assert login(analysed["users"]["site-researcher-GG"]).get(address).status_code == 200
    assert login(analysed["users"]["site-researcher-EL"]).get(address).status_code == 404


def _posts(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    fw, theme, rnd = data["framework"].pk, data["theme"].pk, data["round"].pk
    wave = str(data["waves"][0].number)
    return [
        (url("voices_frameworks"), {"name": "New", "case_kind": "woman", "theme_count": "0"}),
        (url("voices_framework_edit", fw), {"name": "Renamed", "case_kind": "woman"}),
        (url("voices_framework_cell", fw, "EL-W01", theme, wave), {"summary": "Changed"}),
        (url("voices_agreement_rounds"), {"name": "R2"}),
        (url("voices_agreement_status", rnd), {"status": "closed"}),
        (url("voices_agreement_disagreements", rnd), {"item": "1:1:0:1"}),
    ]


def test_read_only_and_outside_roles_cannot_post(analysed: dict[str, Any], login: Any) -> None:
    for who in ("auditor", "advisory-group-member", "other-study-manager"):
        client = login(analysed["users"][who])
        for address, data in _posts(analysed):
            assert client.post(address, data).status_code == 404, f"{who} posting {address}"
    assert Framework.objects.get().name == "Care experiences"
    assert analysed["framework"].cells.get().summary == "=Judged at booking"
    assert AgreementRound.objects.get().status == "comparing"


def test_only_managers_and_researchers_run_rounds(analysed: dict[str, Any], login: Any) -> None:
    for who in ("peer-researcher", "site-researcher-EL"):
        client = login(analysed["users"][who])
        status = url("voices_agreement_status", analysed["round"].pk)
        assert client.post(status, {"status": "closed"}).status_code == 404
        assert client.post(url("voices_agreement_rounds"), {"name": "X"}).status_code == 404
    site = login(analysed["users"]["site-researcher-GG"])
    cell = url(
        "voices_framework_cell",
        analysed["framework"].pk,
        "EL-W01",
        analysed["theme"].pk,
        str(analysed["waves"][0].number),
    )
    assert site.post(cell, {"summary": "Not mine"}).status_code == 404


def test_retrieval_page_lists_passages_and_exports_them(
    analysed: dict[str, Any], login: Any
) -> None:
    client = login(analysed["users"]["researcher"])
    page = client.get(url("voices_retrieve", query="q=Stigma+AND+Police&role=participant"))
    text = page.content.decode()
    assert "judged me at booking and I was scared" not in text  # only the overlap is retrieved
    assert "I was scared" in text
    assert "1 passage in 1 source" in text
    broken = client.get(url("voices_retrieve", query="q=Stigma+AND+(Police")).content.decode()
    assert "is never closed" in broken
    unknown = client.get(url("voices_retrieve", query="q=Stigmas")).content.decode()
    assert "did you mean" in unknown
    export = client.get(url("voices_retrieve", query="q=Trust&format=csv"))
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["Source", "Site", "Wave", "Participant", "Start", "End", "Text"]
    assert {row[0] for row in rows[1:]} == {"EL-W01 wave 1", "EL-W01 wave 2", "GG-W01 wave 1"}
    book = load_workbook(
        io.BytesIO(client.get(url("voices_retrieve", query="q=Trust&format=xlsx")).content)
    )
    assert book.active is not None and book.active.max_row == len(rows)


def test_peer_researchers_never_see_text_awaiting_review(
    analysed: dict[str, Any], login: Any
) -> None:
    client = login(analysed["users"]["peer-researcher"])
    for address in (
        url("voices_retrieve", query="q=Stigma"),
        url("voices_search", query="q=judged"),
        url("voices_search", query="q=Smith"),
    ):
        body = client.get(address).content.decode()
        assert "Jane Smith" not in body and "Elm Street" not in body


def test_search_page_finds_phrases_and_near_words(analysed: dict[str, Any], login: Any) -> None:
    client = login(analysed["users"]["researcher"])
    phrase = client.get(url("voices_search", query="q=%22named+midwife%22")).content.decode()
    assert "2 hits in 2 sources" in phrase
    near = client.get(url("voices_search", query="q=judged+NEAR/2+booking")).content.decode()
    assert "1 hit in 1 source" in near
    within = client.get(url("voices_search", query="q=judged&within=Stigma")).content.decode()
    assert "3 hits in 3 sources" in within
    export = client.get(url("voices_search", query="q=trust&format=csv"))
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][-2:] == ["Match", "Context"] and len(rows) == 3


def test_frequency_and_cooccurrence_pages_chart_and_export(
    analysed: dict[str, Any], login: Any
) -> None:
    client = login(analysed["users"]["researcher"])
    page = client.get(url("voices_frequencies", query="measure=percent")).content.decode()
    assert "<svg" in page and "Codes across waves" in page and "<table>" in page
    rows = list(
        csv.reader(
            io.StringIO(client.get(url("voices_frequencies", query="format=csv")).content.decode())
        )
    )
    stigma_waves = [r for r in rows if r[0] == "Stigma" and r[1] == "wave"]
    assert [r[3] for r in stigma_waves] == ["4", "1"]
    book = load_workbook(
        io.BytesIO(client.get(url("voices_frequencies", query="format=xlsx")).content)
    )
    assert book.sheetnames == ["Frequencies"]
    co = client.get(url("voices_cooccurrence")).content.decode()
    assert "heatmap" in co and "Overlapping passages" in co
    pairs = client.get(url("voices_cooccurrence", query="format=csv")).content.decode()
    assert "Stigma,Police" in pairs.replace('"', "")
    book = load_workbook(
        io.BytesIO(client.get(url("voices_cooccurrence", query="format=xlsx")).content)
    )
    assert book.sheetnames == ["Pairs", "Overlaps", "Documents"]


def test_framework_pages_create_edit_summarise_and_export(
    analysed: dict[str, Any], login: Any
) -> None:
    client = login(analysed["users"]["researcher"])
    response = client.post(
        url("voices_frameworks"),
        {
            "name": "Staff views",
            "case_kind": "staff",
            "theme_count": "2",
            "theme-0-name": "Stigma",
            "theme-0-codes": [str(analysed["codes"]["stigma"].pk)],
            "theme-1-name": "",
        },
    )
    created = Framework.objects.get(name="Staff views")
    assert response.status_code == 302 and not created.by_wave
    fw, theme = analysed["framework"], analysed["theme"]
    wave = str(analysed["waves"][0].number)
    matrix = client.get(url("voices_framework", fw.pk)).content.decode()
    assert "=Judged at booking" in matrix and "EL-W01" in matrix and "GG-W01" in matrix
    cell = client.get(url("voices_framework_cell", fw.pk, "GG-W01", theme.pk, wave))
    assert "The doctor judged me" in cell.content.decode()
    saved = client.post(
        url("voices_framework_cell", fw.pk, "GG-W01", theme.pk, wave), {"summary": "Felt judged."}
    )
    assert saved.status_code == 302
    assert fw.cells.get(participant=analysed["people"]["GG"]).summary == "Felt judged."
    case = client.get(url("voices_framework_case", fw.pk, "EL-W01")).content.decode()
    assert "Nobody judged me on the ward" in case
    section = client.get(url("voices_framework_wave", fw.pk, wave)).content.decode()
    assert "Felt judged." in section
    coverage = client.get(url("voices_framework_coverage", fw.pk)).content.decode()
    assert "Passages without a summary" in coverage
    book = load_workbook(
        io.BytesIO(client.get(url("voices_framework_export", fw.pk, "xlsx")).content)
    )
    first = book[book.sheetnames[0]]
    assert first["B2"].value.startswith("'=Judged at booking")  # formula-safe
    assert "EL-W01 wave 1 [" in first["B2"].value
    document = Document(
        io.BytesIO(client.get(url("voices_framework_export", fw.pk, "docx")).content)
    )
    assert document.tables and document.tables[0].rows[0].cells[1].text == "Judgement"
    edited = client.post(
        url("voices_framework_edit", fw.pk),
        {
            "name": "Care",
            "case_kind": "woman",
            "by_wave": "on",
            "theme_count": "2",
            "theme-0-id": str(theme.pk),
            "theme-0-name": "Judgement and stigma",
            "theme-0-codes": [str(analysed["codes"]["stigma"].pk)],
            "theme-1-id": str(fw.themes.get(name="Trust").pk),
            "theme-1-name": "",
        },
    )
    assert edited.status_code == 302
    assert [t.name for t in fw.themes.all()] == ["Judgement and stigma"]
    assert fw.cells.count() == 2  # summaries of the kept theme stay


def test_agreement_pages_from_blind_coding_to_reconciliation(
    analysed: dict[str, Any], login: Any
) -> None:
    manager = login(analysed["users"]["study-manager"])
    response = manager.post(
        url("voices_agreement_rounds"),
        {
            "name": "Round 2",
            "sources": [str(analysed["sources"]["el1"].pk)],
            "coders": [str(analysed["a"].pk), str(analysed["b"].pk)],
            "codes": [str(analysed["codes"]["police"].pk), str(analysed["codes"]["stigma"].pk)],
            "consensus_coder_name": "agreed",
        },
    )
    created = AgreementRound.objects.get(name="Round 2")
    assert response.status_code == 302 and created.status == "coding"
    blind = manager.get(url("voices_agreement_round", created.pk)).content.decode()
    assert "blind coding" in blind and "Cohen" not in blind
    assert manager.get(url("voices_agreement_export", created.pk, "csv")).status_code == 404
    hidden = manager.get(url("voices_agreement_disagreements", created.pk)).content.decode()
    assert "I was scared the police" not in hidden
    retrieval_page = manager.get(url("voices_retrieve", query="q=Police")).content.decode()
    assert "I was scared the police" not in retrieval_page and "left out" in retrieval_page
    manager.post(url("voices_agreement_status", created.pk), {"status": "comparing"})
    created.refresh_from_db()
    assert created.status == "comparing"
    results = manager.get(url("voices_agreement_round", created.pk)).content.decode()
    assert "Cohen" in results and "Unitized alpha" in results
    segments = manager.get(url("voices_agreement_round", created.pk, query="method=segment"))
    assert "coded segments" in segments.content.decode()
    side = manager.get(url("voices_agreement_disagreements", created.pk)).content.decode()
    assert "I was scared the police would come" in side
    sample = analysis.round_sample(created)
    rows = analysis.disagreement_rows(sample, *sample.coders)
    police = [r for r in rows if r.disagreement.code_id == str(analysed["codes"]["police"].pk)]
    key = police[0].key
    posted = manager.post(
        url("voices_agreement_disagreements", created.pk),
        {"item": [key], f"decision-{key}": "keep", f"note-{key}": "Fear of police is stigma."},
    )
    assert posted.status_code == 302
    resolution = AgreementResolution.objects.get(round=created)
    assert resolution.apply and resolution.decided_by == analysed["users"]["study-manager"]
    assert resolution.note == "Fear of police is stigma."
    assert Coding.objects.filter(coder_name="agreed", code=analysed["codes"]["police"]).exists()
    export = manager.get(url("voices_agreement_export", created.pk, "csv")).content.decode()
    rows_out = list(csv.reader(io.StringIO(export)))
    assert rows_out[0][:6] == [
        "Code",
        "Method",
        "Units",
        "Units agreed",
        "Percent agreement",
        "Cohen's kappa",
    ]
    assert {r[1] for r in rows_out[1:]} == {"character", "segment"}
    assert len(rows_out) == 1 + 2 * 2
