"""Unit tests for the field normalisers, the LaTeX decoder, the encoding detector and the
CSV column-mapping guess of steppingstones.evidence.references."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steppingstones.evidence.references import decode, detect_encoding, guess_mapping
from steppingstones.evidence.references.bibtex import name_to_surname_given, split_names
from steppingstones.evidence.references.latex import latex_to_text, unescape_identifier
from steppingstones.evidence.references.normalise import (
    find_doi,
    find_pmid_in_note,
    normalise_author,
    normalise_doi,
    normalise_pages,
    normalise_pmid,
    parse_year,
    split_author_list,
    type_from_label,
)

# --- DOI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.5555/ABC.123", "10.5555/abc.123"),
        ("https://doi.org/10.5555/abc", "10.5555/abc"),
        ("http://dx.doi.org/10.5555/abc", "10.5555/abc"),
        ("https://dx.doi.org/10.5555/ABC.", "10.5555/abc"),
        ("doi:10.5555/abc", "10.5555/abc"),
        ("DOI: 10.5555/abc;", "10.5555/abc"),
        ("doi 10.5555/abc,", "10.5555/abc"),
        ("10.5555/abc [doi]", "10.5555/abc"),
        ("https://doi.org/10.5555%2Fabc", "10.5555/abc"),
        ("10.5555/abc(1)", "10.5555/abc(1)"),
        ("10.5555/abc(1))", "10.5555/abc(1)"),
        ("  10.5555/ abc  ", "10.5555/abc"),
        ("10.1002/(SICI)1097-4636", "10.1002/(sici)1097-4636"),
        ("not-a-doi", None),
        ("https://example.org/10", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_doi(raw: str | None, expected: str | None) -> None:
    assert normalise_doi(raw) == expected


@given(st.from_regex(r"10\.[0-9]{4,6}/[A-Za-z0-9._;()/-]{1,20}", fullmatch=True))
def test_normalise_doi_is_idempotent(raw: str) -> None:
    once = normalise_doi(raw)
    assert once is None or normalise_doi(once) == once
    assert normalise_doi(f"https://doi.org/{raw}") == once


def test_find_doi_in_text() -> None:
    assert find_doi("see https://doi.org/10.5555/X.1 for more") == "10.5555/x.1"
    assert find_doi("doi=10.5555%2fabc&x=1") == "10.5555/abc&x=1"
    assert find_doi("no identifier here") is None


# --- PMID -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("31234567", "31234567"),
        ("PMID: 31234567", "31234567"),
        ("PMID:31234567.", "31234567"),
        ("PubMed ID 31234567", "31234567"),
        ("31234567 [pubmed]", "31234567"),
        ("0031234567", None),  # ten digits: too long for a PMID
        ("00312345", "312345"),
        ("WOS:000478123400011", None),
        ("PMC9470001", None),
        ("", None),
    ],
)
def test_normalise_pmid(raw: str, expected: str | None) -> None:
    assert normalise_pmid(raw) == expected


def test_find_pmid_in_note() -> None:
    assert find_pmid_in_note("Accession Number: 1. PMID: 33212345. Language: English") == (
        "33212345"
    )
    assert find_pmid_in_note("Export Date: 12 March 2024; PubMed ID: 35987654") == "35987654"
    assert find_pmid_in_note("Accession Number: 148765432") is None


# --- Pages and years ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("100", "110", "100-110"),
        ("1234", "9", "1234-1239"),
        ("1234-9", None, "1234-1239"),
        ("12--20", None, "12-20"),
        ("12\u201320", None, "12-20"),
        ("e345", "e352", "e345-e352"),
        ("S12", None, "S12"),
        ("e0006219", None, "e0006219"),
        ("100", "100", "100"),
        ("100", "99", "100-199"),  # MEDLINE's abbreviation
        ("110", "100", "110-100"),  # not an abbreviation: kept as given
        ("123-9, 140", None, "123-9, 140"),
        (None, "110", "110"),
        (None, None, None),
    ],
)
def test_normalise_pages(start: str | None, end: str | None, expected: str | None) -> None:
    assert normalise_pages(start, end) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020", 2020),
        ("2020///", 2020),
        ("2020/03/15/", 2020),
        ("2021//", 2021),
        ("2020 Mar 15", 2020),
        ("2019 Dec-2020 Jan", 2019),
        ("MAR 2020", 2020),
        ("Spring 2018", 2018),
        ("20200315", None),
        ("20O4", None),
        ("in press", None),
        ("0999", None),
        ("", None),
    ],
)
def test_parse_year(raw: str, expected: int | None) -> None:
    assert parse_year(raw) == expected


# --- Names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith, John A.", "Smith, John A."),
        ("Smith,John", "Smith, John"),
        ("  Smith ,  John  ", "Smith, John"),
        ("Smith JA", "Smith, JA"),
        ("Smith J.A.", "Smith, J.A."),
        ("Lucas J. S.", "Lucas, J.S."),
        ("van der Berg P.-J.", "van der Berg, P.-J."),
        ("Ó Súilleabháin P", "Ó Súilleabháin, P"),
        ("Mensah, Kofi (57190000001)", "Mensah, Kofi"),
        ("World Health Organization", "World Health Organization"),
        ("WHO", "WHO"),
        ("John Smith", "John Smith"),  # given-first without a comma: left as written
        ("", None),
    ],
)
def test_normalise_author(raw: str, expected: str | None) -> None:
    assert normalise_author(raw) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Smith, J.; Doe, A.B.", ["Smith, J.", "Doe, A.B."]),
        ("Smith J, Doe A, Brown B.", ["Smith J", "Doe A", "Brown B"]),
        ("Smith J., Doe A.B.", ["Smith J.", "Doe A.B."]),
        ("Smith, John", ["Smith, John"]),
        ("Smith, J.", ["Smith, J."]),
        ("", []),
    ],
)
def test_split_author_list(cell: str, expected: list[str]) -> None:
    assert split_author_list(cell) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith, John", "Smith, John"),
        ("John Smith", "Smith, John"),
        ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
        ("van Beethoven, Ludwig", "van Beethoven, Ludwig"),
        ("Smith, Jr., John", "Smith, John, Jr."),
        ("{World Health Organization}", "World Health Organization"),
        ("Jean-Luc Picard", "Picard, Jean-Luc"),
        (r"{\"O}zt{\"u}rk, Ay{\c{s}}e", "Öztürk, Ayşe"),
        ("{Barnes and Noble}, Inc", "Barnes and Noble, Inc"),
        ("Plato", "Plato"),
    ],
)
def test_bibtex_names(raw: str, expected: str) -> None:
    assert name_to_surname_given(raw) == expected


def test_bibtex_name_splitting() -> None:
    assert split_names("Smith, J. and {Barnes and Noble} AND Doe, A. and others") == [
        "Smith, J.",
        "{Barnes and Noble}",
        "Doe, A.",
    ]


# --- Types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Journal Article", "journal-article"),
        ("Article", "journal-article"),
        ("Review", "journal-article"),
        ("Randomized Controlled Trial", "journal-article"),
        ("Book Review", "journal-article"),
        ("Book", "book"),
        ("Book Section", "chapter"),
        ("Book Chapter", "chapter"),
        ("Conference Paper", "conference"),
        ("Proceedings Paper", "conference"),
        ("Congress", "conference"),
        ("Report", "report"),
        ("Government Document", "report"),
        ("Thesis", "thesis"),
        ("Dissertation", "thesis"),
        ("Web Page", "web"),
        ("Dataset", None),
        ("", None),
    ],
)
def test_type_from_label(label: str, expected: str | None) -> None:
    assert type_from_label(label) == expected


# --- LaTeX ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"{\"O}zt{\"u}rk", "Öztürk"),
        (r"\"{u}ber", "über"),
        (r"Ay{\c{s}}e", "Ayşe"),
        (r"Jos{\'e} Garc{\'\i}a", "José García"),
        (r"\v{S}koda and \v Sa", "Škoda and Ša"),
        (r"O{\'}Brien", "O'Brien"),
        (r"Stra\ss e, {\o}ster, \AA{}ngstr\"om", "Straße, øster, Ångström"),
        (r"10\% \& 5\$ and \{braces\}", "10% & 5$ and {braces}"),
        (r"\emph{in utero} and \textbf{bold}", "in utero and bold"),
        (r"$\beta$-blockers, $\alpha \leq 0.05$", "\u03b2-blockers, \u03b1\u22640.05"),
        ("Pages 5--6 and a---dash", "Pages 5\u20136 and a\u2014dash"),
        ("50~mg of {DNA}", "50 mg of DNA"),
        (r"\unknown{kept}", r"\unknownkept"),
    ],
)
def test_latex_to_text(raw: str, expected: str) -> None:
    assert latex_to_text(raw) == expected


def test_latex_identifiers_keep_their_characters() -> None:
    assert unescape_identifier(r"10.5555/a\_b{C}") == "10.5555/a_bC"
    assert unescape_identifier(r"https://x.org/\~{}user/a%20b") == "https://x.org/~user/a%20b"
    assert latex_to_text("12--20", dashes=False) == "12--20"


# --- Encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"plain ascii", "utf-8"),
        ("Müller".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "Müller".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "Müller".encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + "Müller".encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF32_LE + "Müller".encode("utf-32-le"), "utf-32-le"),
        ("TY  - JOUR\nTI  - Müller".encode("utf-16-le"), "utf-16-le"),
        ("TY  - JOUR\nTI  - Müller".encode("utf-16-be"), "utf-16-be"),
        ("Müller – “quoted”".encode("cp1252"), "cp1252"),
        ("Müller".encode("latin-1"), "cp1252"),
        (b"M\xfcller \x81", "latin-1"),  # 0x81 is undefined in cp1252
        (b"", "utf-8"),
    ],
)
def test_detect_encoding(data: bytes, expected: str) -> None:
    assert detect_encoding(data) == expected


def test_decode_drops_the_bom() -> None:
    assert decode(codecs.BOM_UTF8 + b"TY") == ("TY", "utf-8-sig")
    assert decode(codecs.BOM_UTF16_LE + "TY".encode("utf-16-le")) == ("TY", "utf-16-le")
    assert decode("Ü".encode("latin-1"), "latin-1") == ("Ü", "latin-1")


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be"]),
)
def test_decode_round_trip(text: str, encoding: str) -> None:
    boms = {"utf-8-sig": b"", "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
    data = boms.get(encoding, b"") + text.encode(encoding)
    decoded, detected = decode(data)
    assert decoded == text.removeprefix("\ufeff")
    assert detected == encoding


# --- CSV mapping guess ----------------------------------------------------------------------


def test_guess_mapping_scopus() -> None:
    headers = [
        "Authors",
        "Author full names",
        "Author(s) ID",
        "Title",
        "Year",
        "Source title",
        "Volume",
        "Issue",
        "Art. No.",
        "Page start",
        "Page end",
        "DOI",
        "Link",
        "Abstract",
        "Author Keywords",
        "Index Keywords",
        "Language of Original Document",
        "Abbreviated Source Title",
        "Document Type",
        "PubMed ID",
    ]
    assert guess_mapping(headers) == {
        "title": "Title",
        "abstract": "Abstract",
        "authors": "Author full names",
        "year": "Year",
        "journal": "Source title",
        "journal_abbrev": "Abbreviated Source Title",
        "volume": "Volume",
        "issue": "Issue",
        "start_page": "Page start",
        "end_page": "Page end",
        "doi": "DOI",
        "pmid": "PubMed ID",
        "keywords": "Author Keywords",
        "type": "Document Type",
        "url": "Link",
        "language": "Language of Original Document",
    }


def test_guess_mapping_web_of_science_and_pubmed() -> None:
    wos = ["Article Title", "Author Full Names", "Authors", "Source Title", "Publication Year"]
    wos += ["DOI", "Pubmed Id", "Abstract"]
    assert guess_mapping(wos) == {
        "title": "Article Title",
        "abstract": "Abstract",
        "authors": "Author Full Names",
        "year": "Publication Year",
        "journal": "Source Title",
        "doi": "DOI",
        "pmid": "Pubmed Id",
    }
    pubmed = ["PMID", "Title", "Authors", "Citation", "First Author", "Journal/Book"]
    pubmed += ["Publication Year", "Create Date", "PMCID", "NIHMS ID", "DOI"]
    assert guess_mapping(pubmed) == {
        "title": "Title",
        "authors": "Authors",
        "year": "Publication Year",
        "journal": "Journal/Book",
        "doi": "DOI",
        "pmid": "PMID",
    }


def test_guess_mapping_is_lenient_about_case_space_and_bom() -> None:
    assert guess_mapping(["\ufeffTITLE", " journal ", "publication  year"]) == {
        "title": "\ufeffTITLE",
        "journal": " journal ",
        "year": "publication  year",
    }
    assert guess_mapping([]) == {}
    assert guess_mapping(["Something", "Else"]) == {}
