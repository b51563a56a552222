"""Field normalisers shared by every format: DOIs, PMIDs, pages, years, names and types.

Each function takes the raw text a source gave and returns the normalised value, or
``None`` where the raw text holds nothing usable. None of them raises on odd input: the
callers turn a ``None`` from non-empty input into a warning naming the record and line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

_WS = re.compile(r"\s+")


def clean_text(value: str | None) -> str | None:
    """Collapse runs of whitespace (line breaks included) to one space; ``None`` if empty."""
    if value is None:
        return None
    if "  " in value or "\n" in value or "\t" in value or "\r" in value or "\xa0" in value:
        value = _WS.sub(" ", value)
    return value.strip() or None


# --- DOI ----------------------------------------------------------------------------------

_DOI_PREFIX = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?(?:dx\.)?doi\.org/|doi\s*:\s*|doi\s+)", re.IGNORECASE
)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_IN_TEXT = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
_DOI_SUFFIX_TAG = re.compile(r"\s*\[doi\]\s*$", re.IGNORECASE)


def normalise_doi(value: str | None) -> str | None:
    """``"https://doi.org/10.1000/ABC."`` -> ``"10.1000/abc"``; ``None`` if not a DOI.

    Removes resolver prefixes (``https://doi.org/``, ``http://dx.doi.org/``, ``doi:``), a
    MEDLINE ``[doi]`` suffix, percent-encoding, whitespace and trailing punctuation, then
    lower-cases (DOIs are case-insensitive). What is left must look like ``10.NNNN/...``.
    """
    if not value:
        return None
    text = _DOI_SUFFIX_TAG.sub("", value.strip())
    if "%" in text:
        text = unquote(text)
    previous = None
    while previous != text:
        previous = text
        text = _DOI_PREFIX.sub("", text.strip())
    text = _WS.sub("", text)
    text = text.rstrip(".,;:")
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].rstrip(".,;:")
    text = text.lower()
    return text if _DOI_SHAPE.match(text) else None


def find_doi(text: str | None) -> str | None:
    """The first DOI-shaped string inside free text or a URL, normalised; else ``None``."""
    if not text:
        return None
    match = _DOI_IN_TEXT.search(unquote(text) if "%" in text else text)
    return normalise_doi(match.group(0)) if match else None


def is_doi_url(url: str) -> bool:
    """Whether a URL points at a DOI resolver (``doi.org`` / ``dx.doi.org``)."""
    return bool(re.match(r"^(?:https?://)?(?:www\.)?(?:dx\.)?doi\.org/", url.strip(), re.I))


# --- PMID ---------------------------------------------------------------------------------

_PMID_PLAIN = re.compile(
    r"^(?:pmid|pubmed\s*id|pubmed)?\s*[:=]?\s*(\d{1,9})\s*(?:\[[a-z-]+\])?\s*\.?$",
    re.IGNORECASE,
)
_PMID_IN_NOTE = re.compile(r"\b(?:PMID|PubMed\s*ID)\s*[:=]?\s*(\d{1,9})\b", re.IGNORECASE)
_PMID_IN_URL = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})\b", re.IGNORECASE
)


def normalise_pmid(value: str | None) -> str | None:
    """``"PMID: 31234567"`` or ``"31234567 [pubmed]"`` -> ``"31234567"``; else ``None``."""
    if not value:
        return None
    match = _PMID_PLAIN.match(value.strip())
    if not match:
        return None
    digits = match.group(1).lstrip("0")
    return digits or None


def find_pmid_in_note(text: str | None) -> str | None:
    """A PMID written into a note as ``"PMID: 123"`` or ``"PubMed ID: 123"``."""
    if not text:
        return None
    match = _PMID_IN_NOTE.search(text)
    return (match.group(1).lstrip("0") or None) if match else None


def find_pmid_in_url(url: str | None) -> str | None:
    """The PMID of a PubMed record URL (``https://pubmed.ncbi.nlm.nih.gov/123/``)."""
    if not url:
        return None
    match = _PMID_IN_URL.search(url)
    return (match.group(1).lstrip("0") or None) if match else None


# --- Pages --------------------------------------------------------------------------------

_DASHES = re.compile(r"\s*(?:-{1,3}|[\u2010-\u2015\u2212])\s*")


def normalise_pages(start: str | None, end: str | None = None) -> str | None:
    """Join a first and last page as ``"start-end"``.

    ``start`` may already be a range (``"100-110"``, ``"100--110"``, ``"100–110"``).
    MEDLINE's abbreviated ranges are written out: ``"1234-9"`` -> ``"1234-1239"``. A
    single page, an article number (``"e0006219"``) or a list of ranges is kept as given,
    with its dashes made plain hyphens.
    """
    first = clean_text(start)
    last = clean_text(end)
    if first and not last and "," not in first and ";" not in first:
        parts = _DASHES.split(first)
        if len(parts) == 2 and parts[0] and parts[1]:
            first, last = parts
    if first is None:
        return last
    if last is None or last == first:
        return _DASHES.sub("-", first)
    if first.isdigit() and last.isdigit() and len(last) < len(first) and int(last) < int(first):
        last = first[: len(first) - len(last)] + last
    return f"{first}-{last}" if last != first else first


# --- Year ---------------------------------------------------------------------------------

_YEAR_AT_START = re.compile(r"^\s*(\d{4})(?!\d)")
_YEAR_ANYWHERE = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def parse_year(value: str | None) -> int | None:
    """The publication year in ``"2020"``, ``"2020///"``, ``"2020/03/15/"``, ``"2020 Mar 15"``,
    ``"MAR 2020"`` or ``"2019 Dec-2020 Jan"`` (the first year); ``None`` if there is none
    between 1400 and 2200."""
    if not value:
        return None
    match = _YEAR_AT_START.match(value) or _YEAR_ANYWHERE.search(value)
    if not match:
        return None
    year = int(match.group(1))
    return year if 1400 <= year <= 2200 else None


# --- Names --------------------------------------------------------------------------------

# "Smith JA", "Smith J.A.", "van der Berg J-P", "Smith J." (MEDLINE, Embase and Scopus write
# the surname first and the initials after it, without a comma).
_SURNAME_INITIALS = re.compile(r"^(.*[a-z\u00df-\u024f].*?)\s+((?:[A-Z]\.?\s?-?){1,4})$")
_TRAILING_ID = re.compile(r"\s*\(\d+\)\s*$")


def normalise_author(value: str | None) -> str | None:
    """One author as ``"Surname, Given"``.

    ``"Smith, John A."`` is kept; ``"Smith JA"`` / ``"Smith J.A."`` (surname then initials,
    no comma) become ``"Smith, JA"`` / ``"Smith, J.A."``; a Scopus author ID in brackets
    (``"Smith, John (57190000000)"``) is dropped. A name of other shape, such as a corporate
    author, is kept as written: reordering ``"World Health Organization"`` would be wrong.
    """
    text = clean_text(value)
    if text is None:
        return None
    text = _TRAILING_ID.sub("", text).strip(" ;,")
    if not text:
        return None
    if "," in text:
        surname, _, rest = text.partition(",")
        surname, given = surname.strip(), clean_text(rest.replace(" ,", ","))
        if not surname:
            return given
        return f"{surname}, {given}" if given else surname
    match = _SURNAME_INITIALS.match(text)
    if match:
        initials = match.group(2).replace(" ", "")
        return f"{match.group(1)}, {initials}"
    return text


_INITIALS_PART = re.compile(r"^\S.*\s(?:[A-Z]\.?-?){1,4}$")


def split_author_list(value: str | None) -> list[str]:
    """Split one cell holding several authors into single names (not yet normalised).

    ``;`` separates authors where present (``"Smith, J.; Doe, A."``). Without ``;``, a comma
    separates authors only when every piece is a surname with initials (PubMed's CSV
    ``"Smith J, Doe A."``, Scopus's older ``"Smith J., Doe A.B."``); otherwise the comma is
    the one between surname and given names and the cell is a single author.
    """
    text = clean_text(value)
    if text is None:
        return []
    if ";" in text:
        return [part.strip() for part in text.split(";") if part.strip()]
    if "," in text:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if len(parts) > 1 and all(_INITIALS_PART.match(part) for part in parts):
            # PubMed ends the list with a full stop ("Smith J, Doe A."): drop it when no
            # other name uses dotted initials.
            if not any("." in part for part in parts[:-1]):
                parts[-1] = parts[-1].rstrip(".")
            return parts
    return [text]


def unique(values: Iterable[str | None]) -> list[str]:
    """Cleaned, non-empty values in their first order, without repeats (case-sensitive)."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        text = clean_text(value)
        if text and text not in seen:
            seen.add(text)
            result.append(text)
    return result


# --- Types --------------------------------------------------------------------------------

# Matched against a lower-cased type label (an EndNote ref-type name, a Web of Science DT,
# a PubMed publication type, a CSV "Document Type"); the first rule that matches wins.
_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"\bbook review\b", "journal-article"),
    (r"\b(book\s*(chapter|section|part)|chapter|incollection|inbook)\b", "chapter"),
    (r"\b(conference|congress|proceedings|inproceedings|meeting|symposium)\b", "conference"),
    (r"\b(thesis|dissertation|phdthesis|mastersthesis)\b", "thesis"),
    (r"\b(report|techreport|government document|working paper|technical)\b", "report"),
    (r"\b(web\s*page|webpage|website|web site|online|blog|electronic source)\b", "web"),
    (r"\b(book|edited book|monograph|ebook|booklet)\b", "book"),
    (
        r"\b(journal|article|review|letter|editorial|comment|erratum|note|short survey|"
        r"trial|case reports?|meta-analysis|news|magazine|newspaper|j)\b",
        "journal-article",
    ),
)
_TYPE_PATTERNS = tuple((re.compile(pattern), kind) for pattern, kind in _TYPE_RULES)


def type_from_label(label: str | None) -> str | None:
    """Map a free-text type label to one of the normalised types; ``None`` if unknown."""
    text = clean_text(label)
    if not text:
        return None
    lowered = text.lower()
    for pattern, kind in _TYPE_PATTERNS:
        if pattern.search(lowered):
            return kind
    return None


def nfc(text: str) -> str:
    """Unicode NFC composition (``e`` + combining acute -> ``é``)."""
    return unicodedata.normalize("NFC", text)
