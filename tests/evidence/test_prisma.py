"""PRISMA 2020 flow diagram: derived boxes, arithmetic checks and their messages, overrides
that need a note, the SVG (well-formed, accessible, every number shown, PRISMA-ScR wording)
and the CSV (safe against formula injection). No database needed."""

from __future__ import annotations

import csv
import io
import re

import pytest
from defusedxml import ElementTree

from steppingstones.evidence.prisma import (
    TEXT_BACKGROUNDS,
    TEXT_COLOUR,
    Override,
    PrismaCounts,
    box_labels,
    boxes,
    check,
    counts_csv,
    flow_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def consistent() -> PrismaCounts:
    """A review that adds up: 1,350 identified, 925 screened, 123 assessed, 30 reports."""
    return PrismaCounts(
        databases={"MEDLINE": 600, "Embase": 700, "CINAHL": 5},
        registers={"ClinicalTrials.gov": 45},
        duplicates_removed=400,
        automation_removed=20,
        other_removed=5,
        records_screened=925,
        records_excluded=790,
        reports_sought=135,
        reports_not_retrieved=12,
        reports_assessed=123,
        reports_excluded={"Wrong population": 50, "Wrong design": 30, "Abstract only": 13},
        studies_included=24,
        reports_included=30,
    )


def with_other_methods(**changes: object) -> PrismaCounts:
    values: dict[str, object] = {
        "databases": {"MEDLINE": 200},
        "duplicates_removed": 50,
        "records_excluded": 100,
        "reports_excluded": {"Wrong population": 20},
        "other_sources": {"Websites": 10, "Organisations": 4, "Citation searching": 30},
        "other_reports_not_retrieved": 4,
        "other_reports_excluded": {"Wrong design": 31},
        "studies_included": 30,
    }
    values.update(changes)
    return PrismaCounts(**values)  # type: ignore[arg-type]


def texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [el.text or "" for el in root.iter(f"{SVG}text")]


# --- arithmetic ------------------------------------------------------------------------------


def test_consistent_counts_have_no_messages() -> None:
    assert check(consistent()) == []


def test_boxes_are_derived_when_not_given() -> None:
    counts = PrismaCounts(
        databases={"MEDLINE": 600, "Embase": 700},
        registers={"ClinicalTrials.gov": 50},
        duplicates_removed=400,
        automation_removed=20,
        other_removed=5,
        records_excluded=800,
        reports_not_retrieved=12,
        reports_excluded={"Wrong population": 50, "Wrong design": 30},
        studies_included=30,
    )
    shown = boxes(counts)
    assert shown["databases"].value == 1300
    assert shown["identified"].value == 1350
    assert shown["records_screened"].value == 925
    assert shown["records_screened"].derived
    assert shown["reports_sought"].value == 125
    assert shown["reports_assessed"].value == 113
    assert shown["reports_excluded"].value == 80
    assert shown["reports_included"].value == 33
    assert not shown["records_excluded"].derived
    assert check(counts) == []


def test_screened_must_equal_identified_less_removals() -> None:
    counts = PrismaCounts(
        databases={"MEDLINE": 1000},
        duplicates_removed=200,
        automation_removed=30,
        other_removed=10,
        records_screened=950,
        records_excluded=900,
        reports_excluded={},
        studies_included=40,
    )
    messages = check(counts)
    assert len(messages) == 1
    (message,) = messages
    assert message.startswith("Records screened (n = 950) should be")
    assert "Duplicate records removed (200)" in message
    assert "Records marked as ineligible by automation tools (30)" in message
    assert "Records removed for other reasons (10)" in message
    assert message.endswith("= 760.")


def test_sought_assessed_and_included_checks_name_their_boxes() -> None:
    counts = PrismaCounts(
        databases={"MEDLINE": 100},
        records_excluded=60,
        reports_sought=45,  # should be 40
        reports_not_retrieved=5,
        reports_assessed=38,  # should be 40
        reports_excluded={"Wrong population": 10},
        studies_included=20,
        reports_included=25,  # should be 28
    )
    messages = check(counts)
    assert any(
        m.startswith("Reports sought for retrieval (n = 45)") and "= 40." in m for m in messages
    )
    assert any(
        m.startswith("Reports assessed for eligibility (n = 38)") and "= 40." in m for m in messages
    )
    assert any(
        m.startswith("Reports of included studies (n = 25)") and "= 28." in m for m in messages
    )
    assert len(messages) == 3


def test_impossible_counts_are_reported() -> None:
    counts = PrismaCounts(
        databases={"MEDLINE": 100},
        records_excluded=120,
        reports_excluded={},
        studies_included=5,
        reports_included=0,
    )
    messages = check(counts)
    assert any(
        "Records excluded (n = 120) exceeds Records screened (n = 100)" in m for m in messages
    )
    assert any("is negative" in m for m in messages)
    assert any("every study has at least one report" in m for m in messages)


def test_missing_studies_included_is_reported() -> None:
    counts = PrismaCounts(databases={"MEDLINE": 10}, records_excluded=5)
    assert check(counts) == ["Studies included in review: not given."]
    assert check(counts, variant="prisma-scr") == []


def test_other_methods_column_arithmetic() -> None:
    counts = with_other_methods()
    shown = boxes(counts)
    assert shown["other_identified"].value == 44
    assert shown["other_reports_sought"].value == 44
    assert shown["other_reports_assessed"].value == 40
    # (150 screened - 100 excluded) - 20 excluded + (40 - 31) from other methods
    assert shown["reports_included"].value == 39
    assert check(counts) == []
    wrong = with_other_methods(other_reports_assessed=45, reports_included=35)
    messages = check(wrong)
    assert any(
        m.startswith("Reports assessed for eligibility (other methods) (n = 45)") and "= 40." in m
        for m in messages
    )
    assert any(
        m.startswith("Reports of included studies (n = 35)")
        and "+ Reports assessed for eligibility (other methods) (45)" in m
        and m.endswith("= 44.")
        for m in messages
    )


def test_updated_review_totals() -> None:
    counts = PrismaCounts(
        databases={"MEDLINE": 100},
        records_excluded=80,
        reports_excluded={"Wrong design": 5},
        studies_included=12,
        previous_studies=8,
        previous_reports=11,
    )
    shown = boxes(counts)
    assert shown["studies_included"].label == "New studies included in review"
    assert shown["reports_included"].label == "Reports of new included studies"
    assert shown["total_studies"].value == 20
    assert shown["total_reports"].value == 26
    assert check(counts) == []


# --- overrides -------------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   "])
def test_override_needs_a_note(note: str) -> None:
    with pytest.raises(ValueError, match="note"):
        Override(5, note)
    with pytest.raises(ValueError, match="note"):
        consistent().with_override("records_screened", 5, note)


def test_override_must_be_an_override_object_for_a_real_box() -> None:
    with pytest.raises(ValueError, match="note is required"):
        PrismaCounts(overrides={"records_screened": 5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="no box"):
        consistent().with_override("records_scanned", 5, "typo in the box name")
    with pytest.raises(ValueError, match="no box"):
        consistent().with_override("databases:PubMed", 5, "not a database in this review")
    with pytest.raises(ValueError, match="whole number"):
        Override(-1, "negative")


def test_override_is_kept_marked_and_checked() -> None:
    note = "Two records lost in the EndNote import; counted from the search log"
    counts = consistent().with_override("records_screened", 927, note)
    box = boxes(counts)["records_screened"]
    assert box.value == 927
    assert box.counted == 925
    assert box.manual
    assert box.note == note
    messages = check(counts)
    assert any(
        m.startswith(f"Records screened (n = 927, manual: {note}) should be") for m in messages
    )
    svg = flow_svg(counts)
    desc = ElementTree.fromstring(svg).find(f"{SVG}desc").text
    assert "Records screened (n = 927, manual, note 1)." in desc
    assert f"Note 1: Records screened entered by hand: {note}" in svg
    rows = list(csv.reader(io.StringIO(counts_csv(counts))))
    assert ["Records screened", "927", "yes", note] in rows


def test_override_of_a_database_entry() -> None:
    counts = consistent().with_override("databases:CINAHL", 7, "re-run search on 1 May")
    assert boxes(counts)["databases:CINAHL"].manual
    assert boxes(counts)["databases"].value == 1307


def test_negative_counts_rejected() -> None:
    with pytest.raises(ValueError, match="duplicates_removed"):
        PrismaCounts(duplicates_removed=-1)
    with pytest.raises(ValueError, match="databases"):
        PrismaCounts(databases={"MEDLINE": -3})


# --- SVG -------------------------------------------------------------------------------------


def all_numbers(counts: PrismaCounts, variant: str = "prisma2020") -> set[str]:
    return {
        f"{box.value:,}"
        for box in boxes(counts, variant=variant).values()  # type: ignore[arg-type]
        if box.value is not None
    }


@pytest.mark.parametrize(
    "counts",
    [
        consistent(),
        with_other_methods(),
        with_other_methods(previous_studies=8, previous_reports=11),
    ],
)
def test_svg_is_well_formed_accessible_and_shows_every_number(counts: PrismaCounts) -> None:
    svg = flow_svg(counts, title="Perinatal care models")
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Perinatal care models"
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == "prisma-title prisma-desc"
    shown = " ".join(texts(svg))
    numbers_in_text = set(re.findall(r"n = ([\d,]+)", shown))
    numbers_in_desc = set(re.findall(r"n = ([\d,]+)", desc.text))
    assert all_numbers(counts) <= numbers_in_text
    assert all_numbers(counts) <= numbers_in_desc
    for side in ("Identification", "Screening", "Included"):
        (label,) = [el for el in root.iter(f"{SVG}text") if el.text == side]
        assert label.get("transform", "").startswith("rotate(-90")
    assert len(root.findall(f"{SVG}rect")) >= 10
    assert root.findall(f"{SVG}polygon")  # arrow heads
    assert "Page MJ" in svg


def test_svg_desc_gives_every_box_text_in_order() -> None:
    svg = flow_svg(with_other_methods())
    desc = ElementTree.fromstring(svg).find(f"{SVG}desc").text
    for phrase in (
        "Records identified from* (n = 200): Databases (n = 200) MEDLINE (n = 200) Registers",
        "Records removed before screening: Duplicate records removed (n = 50)",
        "Records screened (n = 150).",
        "Records excluded** (n = 100).",
        "Reports sought for retrieval (n = 50).",
        "Records identified from (n = 44): Websites (n = 10) Organisations (n = 4) Citation",
        "Reports excluded (n = 31): Wrong design (n = 31).",
        "Studies included in review (n = 30) Reports of included studies (n = 39).",
    ):
        assert phrase in desc
    assert desc.index("Records screened") < desc.index("Reports sought") < desc.index("Studies")


def test_svg_columns_for_other_methods_and_previous_studies() -> None:
    plain = " ".join(texts(flow_svg(consistent())))
    assert "Identification of new studies via databases and registers" in plain
    assert "via other methods" not in plain
    assert "Previous studies" not in plain
    full = " ".join(texts(flow_svg(with_other_methods(previous_studies=8, previous_reports=11))))
    assert "Identification of new studies via other methods" in full
    assert "Previous studies" in full
    assert "Total studies included in review (n = 38)" in full
    assert "New studies included in review (n = 30)" in full


def test_svg_escapes_every_name() -> None:
    counts = PrismaCounts(
        databases={'<script>alert("x")</script>': 3},
        records_excluded=1,
        reports_excluded={"A & B <wrong>": 1},
        studies_included=1,
    )
    svg = flow_svg(counts, title="</title><script>")
    assert "<script>" not in svg
    root = ElementTree.fromstring(svg)  # still well formed
    assert root.find(f"{SVG}title").text == "</title><script>"
    desc = root.find(f"{SVG}desc").text
    assert '<script>alert("x")</script> (n = 3)' in desc
    assert "A & B <wrong> (n = 1)" in desc


def test_svg_ids_can_be_prefixed() -> None:
    svg = flow_svg(consistent(), id_prefix="review-7")
    root = ElementTree.fromstring(svg)
    assert root.find(f"{SVG}title").get("id") == "review-7-title"
    assert root.get("aria-labelledby") == "review-7-title review-7-desc"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_contrast_at_least_4_5_to_1() -> None:
    svg = flow_svg(with_other_methods(previous_studies=1, previous_reports=1))
    root = ElementTree.fromstring(svg)
    assert {el.get("fill") for el in root.iter(f"{SVG}text")} == {TEXT_COLOUR}
    fills = {el.get("fill") for el in root.iter(f"{SVG}rect")}
    assert fills <= set(TEXT_BACKGROUNDS)
    text = _luminance(TEXT_COLOUR)
    for background in TEXT_BACKGROUNDS:
        light, dark = sorted((text, _luminance(background)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, background


def test_scoping_review_wording() -> None:
    counts = with_other_methods(previous_studies=8, previous_reports=11)
    svg = flow_svg(counts, variant="prisma-scr")
    shown = " ".join(texts(svg))
    assert "Sources of evidence assessed for eligibility (n = 50)" in shown
    assert "Sources of evidence sought for retrieval" in shown
    assert "Sources of evidence excluded (n = 20):" in shown
    assert "New sources of evidence included in review (n = 39)" in shown
    assert "Total sources of evidence included in review (n = 50)" in shown
    assert "Identification of new sources of evidence via databases and registers" in shown
    assert "Tricco" in svg
    assert "PRISMA-ScR" in ElementTree.fromstring(svg).find(f"{SVG}title").text
    for word in ("Studies", "studies", "Reports", "reports"):
        assert word not in shown.replace("Page MJ", ""), word
    labels = box_labels("prisma-scr")
    assert labels["reports_assessed"] == "Sources of evidence assessed for eligibility"
    assert "studies_included" not in boxes(counts, variant="prisma-scr")


def test_unknown_variant_rejected() -> None:
    with pytest.raises(ValueError, match="variant"):
        flow_svg(consistent(), variant="prisma2009")  # type: ignore[arg-type]


# --- CSV -------------------------------------------------------------------------------------


def test_counts_csv_rows_and_formula_injection() -> None:
    counts = consistent().with_override("records_excluded", 790, '=HYPERLINK("http://x","y")')
    counts = PrismaCounts(
        **{
            **{f: getattr(counts, f) for f in counts.__dataclass_fields__},
            "reports_excluded": {"@SUM(A1)": 93},
        }
    )
    rows = list(csv.reader(io.StringIO(counts_csv(counts))))
    assert rows[0] == ["box", "count", "manual", "note"]
    by_box = {row[0]: row for row in rows[1:]}
    assert by_box["Databases: MEDLINE"][1] == "600"
    assert by_box["Records screened"] == ["Records screened", "925", "", ""]
    excluded = by_box["Records excluded"]
    assert excluded[2] == "yes"
    assert excluded[3] == '\'=HYPERLINK("http://x","y")'
    assert "Reports excluded: @SUM(A1)" in by_box
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
