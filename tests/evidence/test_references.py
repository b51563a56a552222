"""Tests for the bibliographic import (steppingstones.evidence.references).

The fixtures under fixtures/references/ are synthetic records written in the exact shape
of each exporter (tags, their order, their quirks); DOIs use the 10.5555 test prefix.
Each test states the normalised fields it expects, so a change to any normaliser shows.
"""

from __future__ import annotations

import codecs
import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest

from steppingstones.evidence.references import (
    FORMATS,
    REFERENCE_TYPES,
    ParseResult,
    Reference,
    ReferenceFormatError,
    detect_format,
    iter_parse,
    parse,
)

FIXTURES = Path(__file__).parent / "fixtures" / "references"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str, **kwargs: Any) -> ParseResult:
    return parse(load(name), filename=name, **kwargs)


def fields(reference: Reference, *names: str) -> dict[str, Any]:
    data = reference.to_dict()
    return {name: data[name] for name in names}


# --- RIS, one exporter at a time -----------------------------------------------------------


def test_pubmed_ris_first_record_in_full() -> None:
    result = parse_fixture("pubmed.ris")
    assert (result.format, result.encoding, result.warnings) == ("ris", "utf-8", [])
    assert len(result.records) == 2
    assert result.records[0].to_dict() == {
        "title": (
            "Buprenorphine versus methadone for opioid use disorder in pregnancy: a cohort study."
        ),
        "abstract": (
            "BACKGROUND: Opioid agonist treatment is recommended in pregnancy. METHODS: We "
            "compared 412 pregnancies. RESULTS: Neonatal outcomes were similar. CONCLUSIONS: "
            "Both treatments are reasonable options."
        ),
        "authors": ["Okafor, Chiamaka N", "Lindqvist, Maria", "O'Brien, Seán"],
        "year": 2021,
        "journal": "Journal of Perinatal Substance Use",
        "journal_abbrev": "J Perinat Subst Use",
        "volume": "12",
        "issue": "3",
        "pages": "201-209",
        "doi": "10.5555/jpsu.2021.0034",
        "pmid": "33456789",
        "keywords": [],
        "type": "journal-article",
        "source_type": "JOUR",
        "url": "https://pubmed.ncbi.nlm.nih.gov/33456789",
        "language": "eng",
        "source_record": 1,
        "source_line": 1,
    }


def test_pubmed_ris_corporate_author_and_keywords() -> None:
    second = parse_fixture("pubmed.ris").records[1]
    assert second.authors == ["Perinatal Outcomes Collaborative Group"]
    assert second.keywords == ["neonatal opioid withdrawal syndrome", "rooming-in"]
    assert (second.pmid, second.doi, second.year, second.pages) == (
        "31623456",
        None,
        2019,
        "841-848",
    )
    assert (second.source_record, second.source_line) == (2, 24)


def test_ovid_ris_numbered_records_crlf_and_doi_urls() -> None:
    result = parse_fixture("ovid.ris")
    assert result.warnings == []
    medline, embase = result.records
    assert fields(medline, "authors", "year", "pages", "doi", "pmid", "url", "source_line") == {
        "authors": ["Haddad, Rania", "Kowalczyk, Tomasz P"],
        "year": 2020,
        "pages": "45-53",
        "doi": "10.5555/asp.2020.0045",
        "pmid": "32567890",
        "url": ("http://ovidsp.ovid.com/ovidweb.cgi?T=JS&PAGE=reference&D=medl&NEWS=N&AN=32567890"),
        "source_line": 2,
    }
    # The abstract is in N2 and wraps onto an untagged line.
    assert medline.abstract == (
        "Objective: To describe neonatal outcomes after exposure to buprenorphine. Methods: "
        "Retrospective review of 220 mother-infant dyads. Results: 38% of infants needed "
        "pharmacological treatment."
    )
    assert medline.keywords[0] == "*Buprenorphine/ae [Adverse Effects]"
    # An Embase accession number is not a PMID; the DOI URL's trailing full stop goes.
    assert fields(embase, "authors", "pmid", "doi", "pages", "issue", "source_line") == {
        "authors": ["Fernández-García, Lucía", "Nakamura, Ken"],
        "pmid": None,
        "doi": "10.5555/jnn.2022.s12",
        "pages": "S12",
        "issue": "Supplement 1",
        "source_line": 28,
    }


def test_ebsco_ris_n2_continuation_and_pmid_in_u2() -> None:
    cinahl, medline = parse_fixture("ebsco.ris").records
    assert cinahl.abstract == (
        "Background: Women who use drugs face stigma in maternity care. Aim: To explore "
        "midwives' experiences. Findings: Three themes were identified."
    )
    assert fields(cinahl, "year", "pages", "doi", "pmid", "journal", "journal_abbrev") == {
        "year": 2021,
        "pages": "e345-e352",
        "doi": "10.5555/j.wombi.2020.11.004",
        "pmid": "33212345",  # "U2  - PMID: 33212345.", not the CINAHL accession number
        "journal": "Women and Birth",
        "journal_abbrev": "WOMEN BIRTH",
    }
    assert cinahl.keywords == [
        "Midwives -- Psychosocial Factors",
        "Substance Use Disorders -- In Pregnancy",
        "Qualitative Studies",
    ]
    # From EBSCO's MEDLINE, the accession number is the PMID.
    assert (medline.pmid, medline.authors, medline.year) == (
        "34123456",
        ["Carvalho, Beatriz"],
        2022,
    )


def test_scopus_ris_bom_t2_c2_and_article_number() -> None:
    result = parse_fixture("scopus.ris")
    assert result.encoding == "utf-8-sig"
    article, paper = result.records
    assert fields(
        article, "authors", "journal", "journal_abbrev", "pages", "doi", "pmid", "type"
    ) == {
        "authors": ["Mensah, K.", "Brennan, S.J.", "Al-Farsi, Y."],
        "journal": "Maternal and Child Health Journal",
        "journal_abbrev": "Matern. Child Health J.",
        "pages": "2231-2240",
        "doi": "10.5555/s10995-022-03456-7",
        "pmid": "35987654",
        "type": "journal-article",
    }
    assert fields(paper, "type", "source_type", "pages", "journal", "pmid") == {
        "type": "conference",
        "source_type": "CONF",
        "pages": "102345",
        "journal": "Proceedings of the International Perinatal Care Conference",
        "pmid": None,
    }


def test_web_of_science_ris_prefers_full_names() -> None:
    (record,) = parse_fixture("wos.ris").records
    assert fields(record, "authors", "year", "journal", "journal_abbrev", "pages", "pmid") == {
        "authors": ["Lindgren, Elin", "Osei, Kwame"],
        "year": 2019,
        "journal": "JOURNAL OF SUBSTANCE ABUSE TREATMENT",
        "journal_abbrev": "J. Subst. Abuse Treat.",
        "pages": "88-95",
        "pmid": None,  # AN is a WOS: accession number
    }


def test_web_of_science_ris_export_date_is_not_a_year() -> None:
    data = b"TY  - JOUR\nTI  - Early access\nAN  - WOS:000000000000001\nDA  - 2024-03-12\nER  - \n"
    (record,) = parse(data, filename="wos.ris").records
    assert record.year is None


def test_embase_ris_with_bom() -> None:
    result = parse_fixture("embase.ris")
    assert (result.format, result.encoding, result.warnings) == ("ris", "utf-8-sig", [])
    review, abstract = result.records
    assert fields(review, "title", "authors", "year", "pages", "doi", "pmid", "source_line") == {
        "title": (
            "Neonatal outcomes after prenatal exposure to methadone or buprenorphine: a "
            "systematic review"
        ),
        "authors": ["Schäfer, J.", "Lucas, J.S.", "van der Berg, P.-J."],
        "year": 2021,
        "pages": "812-823",
        "doi": "10.5555/dar.13245",
        "pmid": "33765432",  # Embase writes the PubMed ID in C5
        "source_line": 1,
    }
    assert review.abstract is not None and review.abstract.startswith("We included 18 studies")
    assert (abstract.type, abstract.pmid, abstract.pages) == ("conference", None, "A45")


def test_proquest_ris_quirks() -> None:
    article, thesis = parse_fixture("proquest.ris").records
    assert fields(article, "title", "year", "pages", "doi", "pmid", "keywords", "journal") == {
        "title": "Harm reduction approaches in antenatal care: a scoping review",
        "year": 2018,  # not Y2, the export date
        "pages": "150-158",
        "doi": "10.5555/jmwh.12701",
        "pmid": None,  # AN is a ProQuest document ID
        "keywords": ["Pregnancy", "Harm reduction", "Opioids", "Prenatal care"],
        "journal": "Journal of Midwifery & Women's Health",
    }
    assert fields(thesis, "type", "source_type", "year", "authors") == {
        "type": "thesis",
        "source_type": "THES",
        "year": 2020,
        "authors": ["Dubois, Camille"],
    }


def test_ris_tag_variants() -> None:
    data = (
        b"Provider: Example Database\n"
        b"Content: text/plain; charset=UTF-8\n\n"
        b"TY - JOUR\n"
        b"T1 - One space before the hyphen\n"
        b"A1 - Smith JA\n"
        b"JO - Journal One\n"
        b"Y1 - 2001/05/01/\n"
        b"SP - 100--110\n"
        b"M1 - 7\n"
        b"ER -\n"
        b"<2. >\n"
        b"TY\t- BOOK\n"
        b"BT  - A book title only\n"
        b"PY  - 1999\n"
        b"ER  - \n"
    )
    result = parse(data, filename="variants.ris")
    assert result.warnings == []  # header lines and Ovid's "<2. >" are skipped quietly
    first, second = result.records
    assert fields(first, "title", "authors", "journal", "year", "pages", "issue") == {
        "title": "One space before the hyphen",
        "authors": ["Smith, JA"],
        "journal": "Journal One",
        "year": 2001,
        "pages": "100-110",
        "issue": "7",
    }
    assert (second.title, second.type, second.year) == ("A book title only", "book", 1999)


def test_ris_type_mapping() -> None:
    kinds = ["JOUR", "MGZN", "BOOK", "CHAP", "CONF", "CPAPER", "RPRT", "THES", "ELEC", "GEN"]
    data = "".join(f"TY  - {kind}\nTI  - {kind}\nER  - \n" for kind in kinds).encode()
    result = parse(data, filename="types.ris")
    assert [(r.source_type, r.type) for r in result.records] == [
        ("JOUR", "journal-article"),
        ("MGZN", "journal-article"),
        ("BOOK", "book"),
        ("CHAP", "chapter"),
        ("CONF", "conference"),
        ("CPAPER", "conference"),
        ("RPRT", "report"),
        ("THES", "thesis"),
        ("ELEC", "web"),
        ("GEN", "other"),
    ]


def test_ris_pmid_in_note_and_pubmed_url() -> None:
    data = (
        b"TY  - JOUR\nTI  - Note\nN1  - Some text; PMID: 00123456; more\nER  - \n"
        b"TY  - JOUR\nTI  - URL\nUR  - https://pubmed.ncbi.nlm.nih.gov/7654321/\nER  - \n"
        b"TY  - JOUR\nTI  - CINAHL number only\nAN  - 148765432\nDB  - CINAHL\nER  - \n"
    )
    assert [r.pmid for r in parse(data, filename="x.ris").records] == ["123456", "7654321", None]


# --- Web of Science tagged text -------------------------------------------------------------


def test_web_of_science_tagged_text() -> None:
    result = parse_fixture("wos.txt")
    assert (result.format, result.warnings) == ("wos", [])
    first, review, proceedings = result.records
    assert first.to_dict() == {
        "title": (
            "Caregivers' views on the care of infants with neonatal opioid withdrawal "
            "syndrome in a district hospital"
        ),
        "abstract": (
            "Background Caring for infants with withdrawal is demanding. Methods "
            "Semi-structured interviews with 20 caregivers."
        ),
        "authors": ["Asante, Esi", "Moreau, Lucie", "Nguyen, Thi Minh"],
        "year": 2018,
        "journal": "JOURNAL OF PERINATAL AND NEONATAL NURSING",
        "journal_abbrev": "J. Perinat. Neonatal Nurs.",
        "volume": "32",
        "issue": "1",
        "pages": "60-67",
        "doi": "10.5555/jpn.0000000000000301",
        "pmid": "29377890",
        "keywords": [
            "neonatal opioid withdrawal syndrome",
            "caregivers",
            "qualitative",
            "NEWBORNS",
            "ROOMING-IN",
            "STIGMA",
        ],
        "type": "journal-article",
        "source_type": "Article",
        "url": None,
        "language": "English",
        "source_record": 1,
        "source_line": 3,
    }
    assert fields(review, "authors", "pages", "type", "source_line") == {
        "authors": ["Delgado, Maria G.", "Perinatal Harm Reduction Study Group"],
        "pages": "e0231234",  # the article number, for want of pages
        "type": "journal-article",
        "source_line": 41,
    }
    assert (proceedings.type, proceedings.source_type, proceedings.pages) == (
        "conference",
        "Proceedings Paper",
        "112-119",
    )


# --- Encodings ------------------------------------------------------------------------------


def test_utf16_le_with_bom() -> None:
    result = parse_fixture("utf16le.ris")
    assert result.encoding == "utf-16-le"
    (record,) = result.records
    assert record.authors == ["Søndergaard, Åse", "Dvořák, Jiří", "Ólafsdóttir, Guðrún"]
    assert record.title == (
        "Postnatal follow-up of infants exposed to opioids in utero – a Nordic registry study"
    )
    assert record.doi == "10.5555/sjpc.2020.101"  # "DOI: 10.5555/SJPC.2020.101"


def test_utf16_be_with_bom_and_without() -> None:
    text = load("utf16le.ris")[2:].decode("utf-16-le")
    with_bom = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    result = parse(with_bom, filename="be.ris")
    assert result.encoding == "utf-16-be"
    assert result.records[0].authors[1] == "Dvořák, Jiří"
    without_bom = parse(text.encode("utf-16-le"), filename="nobom.ris")
    assert without_bom.encoding == "utf-16-le"
    assert without_bom.records[0].authors[0] == "Søndergaard, Åse"


def test_latin1_file_with_accented_names() -> None:
    result = parse_fixture("latin1.ris")
    # Latin-1 bytes that are not UTF-8 are read as Windows-1252, its superset.
    assert result.encoding == "cp1252"
    (record,) = result.records
    assert record.authors == [
        "Müller, Jürgen",
        "Hernández, José",
        "Lefèvre, Hélène",
        "Søgaard, Bjørn",
    ]
    assert record.journal == "Revue de Médecine Périnatale"


def test_cp1252_punctuation() -> None:
    data = "TY  - JOUR\nTI  - Smith’s “care” – a study\nER  - \n".encode("cp1252")
    result = parse(data, filename="win.ris")
    assert result.encoding == "cp1252"
    assert result.records[0].title == "Smith’s “care” – a study"


def test_explicit_encoding() -> None:
    data = "TY  - JOUR\nTI  - Ünïcödé\nER  - \n".encode("latin-1")
    assert parse(data, encoding="latin-1").records[0].title == "Ünïcödé"
    with pytest.raises(ReferenceFormatError, match="cannot decode the file as ascii"):
        parse(data, filename="x.ris", encoding="ascii")


# --- BibTeX ---------------------------------------------------------------------------------


def test_bibtex_entries() -> None:
    result = parse_fixture("refs.bib")
    assert (result.format, result.warnings) == ("bibtex", [])
    article, proceedings, chapter, parens, thesis, misc = result.records
    assert article.to_dict() == {
        "title": 'Opioid Agonist Treatment in "Pregnancy": a Cohort Study',
        "abstract": "We followed 312 women & their infants; 45% received buprenorphine.",
        "authors": [
            "Öztürk, Ayşe",
            "Picard, Jean-Luc",
            "van der Berg, Jan",
            "Perinatal Outcomes Collaborative",
        ],
        "year": 2020,
        "journal": "Journal of Substance Abuse Treatment",  # an @string macro
        "journal_abbrev": None,
        "volume": "112",
        "issue": "3",
        "pages": "12-20",
        "doi": "10.5555/jsat.2020.01.003",
        "pmid": None,
        "keywords": ["opioids", "pregnancy", "methadone"],
        "type": "journal-article",
        "source_type": "article",
        "url": None,
        "language": None,
        "source_record": 1,
        "source_line": 10,
    }
    assert fields(proceedings, "title", "authors", "journal", "pmid", "type", "pages") == {
        "title": "Rooming-in and neonatal abstinence: a quality improvement project",  # "#"
        "authors": ["García, José", "O'Brien, Mary"],
        "journal": "Proceedings of the Perinatal Quality Forum",
        "pmid": "31234567",  # from "PMID: 31234567" in the note
        "type": "conference",
        "pages": "101-108",
    }
    assert fields(chapter, "authors", "journal", "type") == {
        "authors": ["Nguyen, Thi Minh", "Smith, John, Jr."],  # editors are not authors
        "journal": "Neonatal Care: A Handbook",
        "type": "chapter",
    }
    assert fields(parens, "authors", "journal", "volume", "issue", "pmid", "source_line") == {
        "authors": ["Lee, Soo-Jin"],  # "and others" dropped
        "journal": "Journal of Telemedicine",  # macro # string
        "volume": "27",
        "issue": "4",
        "pmid": "33999999",  # eprinttype = pubmed
        "source_line": 44,
    }
    assert (thesis.type, thesis.authors) == ("thesis", ["Moreau, Élodie"])
    assert (misc.type, misc.authors, misc.url) == (
        "other",
        ["World Health Organization"],
        "https://www.who.int/publications/i/item/9789241548731",
    )


def test_bibtex_undefined_macro_duplicate_key_and_missing_key_warn() -> None:
    data = (
        b"@article{k1, title = {One}, journal = nosuchmacro}\n"
        b"@article{k1, title = {Two}}\n"
        b"@article{title = {Three}}\n"
    )
    result = parse(data, filename="w.bib")
    assert [r.title for r in result.records] == ["One", "Two", "Three"]
    assert result.records[0].journal == "nosuchmacro"
    assert result.warnings == [
        "w.bib, record 1, line 1: undefined @string macro 'nosuchmacro' in field 'journal' "
        "of entry 'k1'; its name is used as the value",
        "w.bib, record 2, line 2: citation key 'k1' already used by the entry on line 1",
        "w.bib, record 3, line 3: entry has no citation key",
    ]


# --- PubMed / MEDLINE nbib ------------------------------------------------------------------


def test_nbib_records() -> None:
    result = parse_fixture("pubmed.nbib")
    assert (result.format, result.warnings) == ("nbib", [])
    first, second = result.records
    assert first.to_dict() == {
        "title": (
            "Perinatal outcomes of women receiving buprenorphine or methadone for opioid use "
            "disorder: a retrospective cohort study."
        ),
        "abstract": (
            "INTRODUCTION: Opioid agonist treatment improves outcomes. METHODS: We reviewed "
            "the records of 512 pregnancies. RESULTS: Preterm birth was less common with "
            "buprenorphine. DISCUSSION: Both treatments should be offered."
        ),
        "authors": [
            "Abernathy, Claire M",
            "Ó Súilleabháin, Pádraig",
            "Perinatal Substance Use Research Network",
        ],
        "year": 2021,
        "journal": "Journal of midwifery & women's health",
        "journal_abbrev": "J Midwifery Womens Health",
        "volume": "66",
        "issue": "5",
        "pages": "1234-1239",
        "doi": "10.5555/jmwh.13245",
        "pmid": "34567890",
        "keywords": [
            "Analgesics, Opioid/therapeutic use",
            "Buprenorphine/*therapeutic use",
            "Female",
            "Humans",
            "*Opioid-Related Disorders/drug therapy",
            "Pregnancy",
            "buprenorphine",
            "methadone",
        ],
        "type": "journal-article",
        "source_type": "Journal Article; Research Support, N.I.H., Extramural",
        "url": None,
        "language": "eng",
        "source_record": 1,
        "source_line": 1,
    }
    assert fields(second, "authors", "year", "pages", "doi", "pmid", "source_line") == {
        "authors": ["Tanaka, K", "Jones-Smith, AB"],  # AU only, no FAU
        "year": 2022,  # "2022 Jan-Feb"
        "pages": "e0123",
        "doi": "10.5555/j.midw.2021.103123",  # the AID marked [doi], not the [pii]
        "pmid": "35678901",
        "source_line": 58,
    }


def test_nbib_record_without_pmid_warns() -> None:
    result = parse(b"TI  - No PMID here\nAU  - Smith J\n", filename="x.nbib", format="nbib")
    assert result.records[0].authors == ["Smith, J"]
    assert result.warnings == ["x.nbib, record 1, line 1: record has no PMID line"]


# --- PubMed XML -----------------------------------------------------------------------------


def test_pubmed_xml() -> None:
    result = parse_fixture("pubmed.xml")
    assert (result.format, result.warnings) == ("pubmed-xml", [])
    article, review, chapter = result.records
    assert article.to_dict() == {
        "title": "Infant outcomes after in utero exposure to opioids: a cohort study.",
        "abstract": (
            "BACKGROUND: Opioid use in pregnancy is rising. METHODS: A cohort of 1,204 "
            "infants. RESULTS: Exposure to opioids was associated with lower birthweight "
            "(β = -120 g)."
        ),
        "authors": ["Kovačević, Ana", "O'Connor, Siobhán M", "NOWS Study Group"],
        "year": 2022,
        "journal": "BMC pregnancy and childbirth",
        "journal_abbrev": "BMC Pregnancy Childbirth",
        "volume": "22",
        "issue": "1",
        "pages": "345-352",
        "doi": "10.5555/s12884-022-04999-1",
        "pmid": "36123456",
        "keywords": ["Female", "Infant, Newborn", "neonatal opioid withdrawal syndrome"],
        "type": "journal-article",
        "source_type": "Journal Article",
        "url": None,
        "language": "eng",
        "source_record": 1,
        "source_line": 4,
    }
    # The DOI comes from the article's own ids, never from its reference list.
    assert fields(review, "authors", "year", "pages", "doi", "journal_abbrev") == {
        "authors": ["Whitaker, J"],
        "year": 2019,  # MedlineDate "2019 Dec-2020 Jan"
        "pages": "12-14",
        "doi": "10.5555/mt.2019.41.6.12",
        "journal_abbrev": "Midwifery Today",
    }
    assert fields(chapter, "title", "journal", "type", "pmid", "year", "source_line") == {
        "title": "Neonatal Opioid Withdrawal",
        "journal": "Perinatal Substance Use: A Clinical Guide",
        "type": "chapter",
        "pmid": "30000123",
        "year": 2018,
        "source_line": 94,
    }


# --- EndNote XML ----------------------------------------------------------------------------


def test_endnote_xml() -> None:
    result = parse_fixture("endnote.xml")
    assert (result.format, result.warnings) == ("endnote-xml", [])
    article, section = result.records
    assert fields(
        article, "title", "authors", "year", "journal", "pages", "doi", "pmid", "keywords"
    ) == {
        # Two <style> runs in one title are joined.
        "title": (
            "Continuity of midwifery care for women with opioid use disorder: a mixed-methods "
            "evaluation"
        ),
        "authors": ["Rahman, Farida", "Kowalski, Piotr J."],
        "year": 2022,
        "journal": "Midwifery",
        "pages": "103456",
        "doi": "10.5555/j.midw.2022.103456",
        "pmid": "35812345",  # accession number from an NLM database
        "keywords": ["continuity of care", "midwifery", "opioid use disorder"],
    }
    assert (article.type, article.source_type) == ("journal-article", "Journal Article")
    assert fields(section, "type", "source_type", "authors", "journal", "pmid", "pages") == {
        "type": "chapter",
        "source_type": "Book Section",
        "authors": ["Bianchi, Giulia"],  # the editor is left out
        "journal": "Handbook of Perinatal Social Work",
        "pmid": "27000001",  # "PMID: 27000001" in notes
        "pages": "87-102",
    }


# --- CSV ------------------------------------------------------------------------------------


def test_scopus_csv_with_guessed_mapping() -> None:
    result = parse_fixture("scopus.csv")
    assert (result.format, result.warnings) == ("csv", [])
    article, paper = result.records
    assert fields(
        article, "authors", "year", "journal", "journal_abbrev", "pages", "doi", "pmid"
    ) == {
        "authors": ["Mensah, Kofi", "Brennan, Sarah Jane"],  # author IDs dropped
        "year": 2022,
        "journal": "Maternal and Child Health Journal",
        "journal_abbrev": "Matern. Child Health J.",
        "pages": "2231-2240",
        "doi": "10.5555/s10995-022-03456-7",
        "pmid": "35987654",
    }
    assert (
        article.abstract == "Breastfeeding initiation was 61%. A second paragraph, on its own line."
    )
    assert article.keywords == ["breastfeeding", "methadone"]
    # The first row's quoted abstract spans two lines, so the second row starts on line 4.
    assert (article.source_line, paper.source_line) == (2, 4)
    assert (paper.type, paper.source_type, paper.pmid) == ("conference", "Conference Paper", None)


def test_pubmed_csv_comma_separated_authors() -> None:
    first, second = parse_fixture("pubmed.csv").records
    assert first.authors == ["Abernathy, CM", "Ó Súilleabháin, P", "Jones-Smith, AB"]
    assert (first.journal, first.year, first.doi, first.pmid) == (
        "J Midwifery Womens Health",
        2021,
        "10.5555/jmwh.13245",
        "34567890",
    )
    assert (second.doi, second.pmid) == (None, "35678901")


def test_csv_explicit_mapping_and_delimiters() -> None:
    data = (
        b"Naam;Auteurs;Jaar;Tijdschrift;DOI\n"
        b'"Zorg; een studie";"de Vries, Anna; Jansen, Piet";2019;Tijdschrift voor Zorg;'
        b"https://doi.org/10.5555/TVZ.1\n"
    )
    mapping = {
        "title": "Naam",
        "authors": "Auteurs",
        "year": "jaar",  # matched case-insensitively
        "journal": "Tijdschrift",
        "doi": "DOI",
    }
    (record,) = parse(data, filename="lijst.csv", mapping=mapping).records
    assert fields(record, "title", "authors", "year", "journal", "doi") == {
        "title": "Zorg; een studie",
        "authors": ["de Vries, Anna", "Jansen, Piet"],
        "year": 2019,
        "journal": "Tijdschrift voor Zorg",
        "doi": "10.5555/tvz.1",
    }


def test_tab_delimited_web_of_science_export() -> None:
    data = (
        b"PT\tAU\tAF\tTI\tSO\tPY\tVL\tBP\tEP\tDI\tPM\tUT\n"
        b"J\tSmith, J; Doe, A\tSmith, John; Doe, Anne\tA tab-delimited record\tJ TEST\t2015"
        b"\t3\t10\t19\t10.5555/tab.1\t25000001\tWOS:000000000000001\n"
    )
    result = parse(data, filename="savedrecs.txt")
    assert result.format == "csv"
    (record,) = result.records
    assert fields(record, "authors", "title", "year", "pages", "doi", "pmid", "type") == {
        "authors": ["Smith, John", "Doe, Anne"],
        "title": "A tab-delimited record",
        "year": 2015,
        "pages": "10-19",
        "doi": "10.5555/tab.1",
        "pmid": "25000001",
        "type": "journal-article",
    }


def test_csv_mapping_errors() -> None:
    data = b"Title,Year\nA,2020\n"
    with pytest.raises(ReferenceFormatError) as info:
        parse(data, filename="a.csv", mapping={"title": "Heading"})
    assert str(info.value) == (
        "a.csv, line 1: the mapping names the column 'Heading' for 'title', but the file has "
        "no such column (columns: Title, Year)"
    )
    with pytest.raises(ValueError, match="unknown field"):
        parse(data, filename="a.csv", mapping={"headline": "Title"})
    with pytest.raises(ReferenceFormatError, match="could not find a title column"):
        parse(b"Name,Year\nA,2020\n", filename="b.csv")
    with pytest.raises(ValueError, match="CSV files only"):
        parse(load("pubmed.ris"), mapping={"title": "TI"})


def test_csv_short_row_warns() -> None:
    result = parse(b"Title,Year,DOI\nA title,2020\n", filename="short.csv")
    assert result.records[0].title == "A title"
    assert result.warnings == ["short.csv, record 1, line 2: row has 2 cells but the header has 3"]


# --- Field problems become warnings ---------------------------------------------------------


def test_field_problems_are_warnings_naming_file_record_and_line() -> None:
    result = parse_fixture("field_problems.ris")
    assert len(result.records) == 3
    assert result.records[0].year is None
    assert result.records[0].doi is None
    assert result.records[1].title is None
    assert result.warnings == [
        "field_problems.ris, record 1, line 1: year '20O4' is not a year; year left empty",
        "field_problems.ris, record 1, line 1: DOI 'not-a-doi' is not a DOI; DOI left empty",
        "field_problems.ris, record 2, line 8: record has no title",
    ]


# --- Malformed input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("malformed_no_ty.ris", "malformed_no_ty.ris, line 10: record has no TY line before ER"),
        (
            "malformed_truncated.ris",
            "malformed_truncated.ris, line 7: the file ends inside record 2, which began on "
            "line 7 and has no ER line (is the file complete?)",
        ),
        (
            "malformed_missing_er.ris",
            "malformed_missing_er.ris, line 4: a new record (TY) starts before the record "
            "that began on line 1 was closed with ER",
        ),
        (
            "malformed_braces.bib",
            "malformed_braces.bib, line 9: unbalanced braces in entry 'smith2020': the '{' "
            "that opens the field 'title' is not closed before the next entry on line 13",
        ),
        (
            "malformed_extra_brace.bib",
            "malformed_extra_brace.bib, line 4: unbalanced braces in entry 'doe2020': an "
            "extra '}' closes the entry before this field",
        ),
        (
            "malformed.nbib",
            "malformed.nbib, line 4: expected a MEDLINE tag line ('TAG - value', the tag in "
            "four columns) or a continuation line indented by six spaces, found 'this line "
            "is neither a tag nor a continu'",
        ),
        ("malformed.xml", "malformed.xml, line 6: malformed XML: mismatched tag (column 38)"),
        ("malformed_wos.txt", "malformed_wos.txt, line 12: record has no PT line before ER"),
    ],
)
def test_malformed_files(name: str, message: str) -> None:
    with pytest.raises(ReferenceFormatError) as info:
        parse_fixture(name)
    assert str(info.value) == message
    assert info.value.filename == name
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"TI  - Stray\nER  - \n", "x.ris, line 2: record has no TY line before ER"),
        (
            b"TI  - Stray tag, no ER\nTY  - JOUR\nER  - \n",
            "x.ris, line 1: TI line outside a record (no TY line before it)",
        ),
    ],
)
def test_ris_stray_tags(data: bytes, message: str) -> None:
    with pytest.raises(ReferenceFormatError) as info:
        parse(data, filename="x.ris", format="ris")
    assert str(info.value) == message


def test_ris_text_between_records_warns() -> None:
    data = b"TY  - JOUR\nTI  - One\nER  - \nstray words\nTY  - JOUR\nTI  - Two\nER  - \n"
    result = parse(data, filename="x.ris")
    assert [r.title for r in result.records] == ["One", "Two"]
    assert result.warnings == ["x.ris, line 4: text outside a record ignored"]


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"@article{a, title = {x}\n", 1, "unbalanced braces in entry 'a': the entry is not"),
        (b'@article{a,\n title = "open\n}\n', 2, "the quoted value of the field 'title'"),
        (b"@article{a,\n title {x}}\n", 2, "expected '=' after the field name 'title'"),
        (b"@article{a, title = {x} year = 1}\n", 1, "expected ',' or '}' after the field"),
        (b"@article{a b, title = {x}}\n", 1, "expected ',' after the citation key 'a'"),
    ],
)
def test_bibtex_errors(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(ReferenceFormatError) as info:
        parse(data, filename="e.bib")
    assert info.value.line == line
    assert info.value.reason.startswith(reason)


def test_empty_and_unrecognised_files() -> None:
    with pytest.raises(ReferenceFormatError, match=r"^empty\.ris: the file is empty$"):
        parse(b"  \n", filename="empty.ris")
    with pytest.raises(ReferenceFormatError, match="could not recognise the format"):
        parse(b"hello world\n", filename="notes.txt")
    with pytest.raises(ReferenceFormatError, match="ZIP or Excel"):
        parse(b"PK\x03\x04rest-of-an-xlsx", filename="refs.xlsx")
    with pytest.raises(ReferenceFormatError, match="no RIS records found"):
        parse(b"just text\n", filename="x.ris", format="ris")
    with pytest.raises(ValueError, match="unknown format 'marc'"):
        parse(b"x", format="marc")


# --- Hostile XML ----------------------------------------------------------------------------


def test_billion_laughs_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(ReferenceFormatError) as info:
        parse_fixture("billion_laughs.xml")
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert message.startswith("billion_laughs.xml, line 2: refused:")
    assert "billion laughs" in message


def test_external_entity_refused() -> None:
    with pytest.raises(ReferenceFormatError) as info:
        parse_fixture("external_entity.xml")
    assert str(info.value).startswith("external_entity.xml, line 2: refused:")


def test_entities_refused_whatever_the_root() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n'
        b'<!ENTITY % remote SYSTEM "http://127.0.0.1/evil.dtd">\n%remote;\n]>\n'
        b"<PubmedArticleSet/>\n"
    )
    with pytest.raises(ReferenceFormatError, match="refused"):
        parse(data, filename="p.xml")


def test_doctype_without_internal_subset_is_not_fetched() -> None:
    # The identifier would fail to load if anything tried: it is never fetched.
    data = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE PubmedArticleSet SYSTEM "missing/pubmed_250101.dtd">\n'
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
        b"<ArticleTitle>T</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
        b"</PubmedArticleSet>\n"
    )
    (record,) = parse(data, filename="p.xml").records
    assert (record.pmid, record.title, record.source_line) == ("1", "T", 3)


def test_xml_of_another_kind_is_rejected() -> None:
    with pytest.raises(ReferenceFormatError, match="neither PubMed XML"):
        parse(b"<rss><channel/></rss>", filename="feed.xml")
    with pytest.raises(ReferenceFormatError, match=r"not EndNote XML: the root element is <rss>"):
        parse(b"<rss><channel/></rss>", filename="feed.xml", format="endnote-xml")


# --- Format detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pubmed.ris", "ris"),
        ("ovid.ris", "ris"),
        ("ebsco.ris", "ris"),
        ("scopus.ris", "ris"),
        ("wos.ris", "ris"),
        ("embase.ris", "ris"),
        ("proquest.ris", "ris"),
        ("utf16le.ris", "ris"),
        ("latin1.ris", "ris"),
        ("wos.txt", "wos"),
        ("refs.bib", "bibtex"),
        ("pubmed.nbib", "nbib"),
        ("pubmed.xml", "pubmed-xml"),
        ("endnote.xml", "endnote-xml"),
        ("scopus.csv", "csv"),
        ("pubmed.csv", "csv"),
    ],
)
def test_detect_format_from_content(name: str, expected: str) -> None:
    assert detect_format(load(name), name) == expected
    # Content decides even when the file is saved as .txt or has no name at all.
    assert detect_format(load(name), "export.txt") == expected or expected == "csv"
    if expected != "csv":
        assert detect_format(load(name)) == expected


def test_detect_format_by_suffix_and_content_over_suffix() -> None:
    assert detect_format(b"", "empty.ris") == "ris"
    assert detect_format(b"Title,Year\n", "list.csv") == "csv"
    assert detect_format(b"Title\tYear\n") == "csv"
    assert detect_format(load("pubmed.nbib"), "mislabelled.ris") == "nbib"
    assert detect_format(load("wos.txt"), "savedrecs.ciw") == "wos"
    with pytest.raises(ReferenceFormatError, match="could not recognise"):
        detect_format(b"nothing to see", "notes.txt")
    assert set(FORMATS) == {"ris", "wos", "nbib", "bibtex", "pubmed-xml", "endnote-xml", "csv"}


def test_format_aliases() -> None:
    assert parse(load("refs.bib"), format="bib").format == "bibtex"
    assert parse(load("pubmed.nbib"), format="MEDLINE").format == "nbib"
    assert parse(load("wos.txt"), format="ciw").format == "wos"


# --- Streaming, progress, scale -------------------------------------------------------------


def test_iter_parse_yields_records_before_the_error() -> None:
    stream = iter_parse(load("malformed_no_ty.ris"), filename="malformed_no_ty.ris")
    assert (stream.format, stream.encoding) == ("ris", "utf-8")
    first = next(stream)
    assert first.title == "A complete first record"
    with pytest.raises(ReferenceFormatError, match="line 10"):
        next(stream)


def test_progress_callback() -> None:
    calls: list[tuple[int, int | None]] = []
    record = "TY  - JOUR\nTI  - T\nER  - \n"
    result = parse(
        (record * 2500).encode(), progress=lambda done, total: calls.append((done, total))
    )
    assert len(result.records) == 2500
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]
    calls.clear()
    parse(load("scopus.csv"), filename="scopus.csv", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 2)]


def test_fifty_thousand_ris_records() -> None:
    template = (
        "TY  - JOUR\nAU  - Smith, John\nAU  - Doe, J.\nTI  - Record {i} on perinatal care\n"
        "AB  - An abstract of a realistic length, describing the methods and the results\n"
        "  of study {i}, wrapped onto a second line.\n"
        "PY  - 2020///\nJO  - Journal of Tests\nVL  - 12\nIS  - 3\nSP  - {i}1\nEP  - 9\n"
        "DO  - https://doi.org/10.5555/TEST.{i}\nKW  - one\nKW  - two\nER  - \n\n"
    )
    data = "".join(template.replace("{i}", str(i)) for i in range(50_000)).encode()
    calls: list[tuple[int, int | None]] = []
    result = parse(data, filename="big.ris", progress=lambda d, t: calls.append((d, t)))
    assert len(result.records) == 50_000
    assert result.warnings == []
    last = result.records[-1]
    assert fields(last, "title", "authors", "year", "pages", "doi", "source_record") == {
        "title": "Record 49999 on perinatal care",
        "authors": ["Smith, John", "Doe, J."],
        "year": 2020,
        "pages": "499991-499999",  # "EP  - 9" written out
        "doi": "10.5555/test.49999",
        "source_record": 50_000,
    }
    assert last.source_line == 49_999 * 17 + 1
    assert calls[0] == (1000, 50_000) and calls[-1] == (50_000, 50_000)
    assert len(calls) == 51


# --- The record type ------------------------------------------------------------------------


def test_reference_is_frozen_and_to_dict_copies_lists() -> None:
    record = parse_fixture("pubmed.ris").records[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.title = "changed"  # type: ignore[misc]
    data = record.to_dict()
    data["authors"].append("Someone, Else")
    assert "Someone, Else" not in record.authors
    assert set(data) == {field.name for field in dataclasses.fields(Reference)}
    assert Reference().type in REFERENCE_TYPES
    copy = dataclasses.replace(record)
    assert copy == record and hash(copy) == hash(record)
    assert len({record, copy}) == 1


def test_every_fixture_type_is_a_known_type() -> None:
    for path in FIXTURES.iterdir():
        if path.name.startswith(("malformed", "billion", "external")):
            continue
        for record in parse(path.read_bytes(), filename=path.name).records:
            assert record.type in REFERENCE_TYPES
            assert record.source_record >= 1
            assert record.source_line is not None and record.source_line >= 1
            assert record.doi is None or record.doi == record.doi.lower()
            assert record.pmid is None or record.pmid.isdigit()


def test_warnings_are_capped_with_a_summary() -> None:
    data = b"TY  - JOUR\nPY  - 2020\nER  - \n" * 1200
    result = parse(data, filename="untitled.ris")
    assert len(result.records) == 1200
    assert len(result.warnings) == 1001
    assert result.warnings[0] == "untitled.ris, record 1, line 1: record has no title"
    assert result.warnings[-1] == "untitled.ris: 200 more warnings not listed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"FN x\n   stray continuation\n", "w.txt, line 2: continuation line outside a record"),
        (
            b"PT J\nTI A\nPT J\n",
            "w.txt, line 3: a new record (PT) starts before the record that began on line 1 "
            "was closed with ER",
        ),
        (
            b"PT J\nTI A\n",
            "w.txt, line 1: the file ends inside record 1, which began on line 1 and has no ER "
            "line (is the file complete?)",
        ),
        (b"PT J\nER\nEF\nPT J\n", "w.txt, line 4: PT line after the EF line that ends the file"),
        (
            b"PT J\nthis is not tagged\n",
            "w.txt, line 2: expected a two-letter tag or a line indented by three spaces, "
            "found 'this is not tagged'",
        ),
    ],
)
def test_web_of_science_errors(data: bytes, message: str) -> None:
    with pytest.raises(ReferenceFormatError) as info:
        parse(data, filename="w.txt", format="wos")
    assert str(info.value) == message


def test_nbib_continuation_outside_a_record() -> None:
    with pytest.raises(ReferenceFormatError, match=r"^m\.nbib, line 1: continuation line"):
        parse(b"      indented\nPMID- 1\n", filename="m.nbib", format="nbib")


def test_detection_when_the_head_ends_inside_a_character() -> None:
    data = ("TY  - JOUR\nTI  - " + "é" * 200_000 + "\nER  - \n").encode()
    assert detect_format(data[:262_145]) == "ris"  # cut in the middle of an "é"
    assert detect_format(data) == "ris"
    assert parse(data).records[0].title == "é" * 200_000
