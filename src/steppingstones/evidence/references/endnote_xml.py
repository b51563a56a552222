"""EndNote XML (File > Export > XML): ``<xml><records><record>...``.

Read with the hardened, streaming reader of :mod:`._xml` (entities, internal DTD subsets
and external references refused). EndNote wraps most text in ``<style face="normal"
font="default" size="100%">`` elements, sometimes several per field; the text of all of
them is joined, so wrapped and bare text read the same.

Fields: ``titles/title``; ``contributors/authors/author`` (editors in
``secondary-authors`` are not authors); ``abstract``; ``dates/year``;
``periodical/full-title`` else ``titles/secondary-title`` (the journal, or the book for a
book section) and ``periodical/abbr-1`` else ``titles/alt-title``; ``volume``; ``number``
(issue); ``pages``; ``electronic-resource-num`` (the DOI); ``accession-num`` as the PMID
when ``remote-database-provider``/``remote-database-name`` is PubMed, NLM or MEDLINE, else
``"PMID: 123"`` in ``notes``; ``keywords/keyword`` (EndNote sometimes puts several terms in
one keyword, one per line: they are split); ``urls/related-urls/url`` (else
``web-urls``); ``language``; ``ref-type``'s ``name`` attribute (``"Journal Article"``,
``"Book Section"`` ...) as ``source_type``, mapped to the normalised type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from ._context import Draft, ParseContext
from ._xml import iter_elements, text_of
from .normalise import find_doi, find_pmid_in_note, type_from_label
from .records import Reference

FORMAT = "endnote-xml"

_RECORD_TAGS = frozenset({"record"})
_ROOTS = frozenset({"xml", "records", "record"})
_LINES = re.compile(r"[\r\n]+")


def estimate_total(text: str) -> int | None:
    return text.count("<record>")


def iter_records(text: str, ctx: ParseContext) -> Iterator[Reference]:
    def check_root(tag: str) -> None:
        if tag not in _ROOTS:
            raise ctx.error(f"not EndNote XML: the root element is <{tag}>, not <xml>")

    for number, (element, line) in enumerate(
        iter_elements(text, ctx, _RECORD_TAGS, check_root), start=1
    ):
        yield build(element, number, line, ctx)


def build(record: Element, number: int, line: int, ctx: ParseContext) -> Reference:
    def get(*paths: str) -> str | None:
        for path in paths:
            value = text_of(record.find(path))
            if value:
                return value
        return None

    ref_type = record.find("ref-type")
    label = ref_type.get("name") if ref_type is not None else None
    kind = type_from_label(label) or "other"
    draft = Draft(record=number, line=line, type=kind, source_type=label)
    draft.title = get("titles/title")
    draft.authors = [
        name for node in record.findall("contributors/authors/author") if (name := text_of(node))
    ]
    draft.abstract = get("abstract")
    draft.year = get("dates/year")
    draft.journal = get("periodical/full-title", "titles/secondary-title")
    draft.journal_abbrev = get("periodical/abbr-1", "titles/alt-title", "alt-periodical/abbr-1")
    draft.volume = get("volume")
    draft.issue = get("number", "issue")
    draft.start_page = get("pages")
    draft.language = get("language")
    urls = [
        url
        for path in ("urls/related-urls/url", "urls/web-urls/url")
        for node in record.findall(path)
        if (url := text_of(node))
    ]
    draft.url = urls[0] if urls else None
    doi = get("electronic-resource-num")
    if doi is not None and find_doi(doi) is None and urls:
        doi = next((found for url in urls if (found := find_doi(url))), doi)
    draft.doi = doi
    database = " ".join(
        value for value in (get("remote-database-provider"), get("remote-database-name")) if value
    ).lower()
    accession = get("accession-num")
    if (
        accession
        and accession.isdigit()
        and any(name in database for name in ("pubmed", "nlm", "medline"))
    ):
        draft.pmid = accession
    else:
        draft.pmid = find_pmid_in_note(get("notes"))
    keywords: list[str] = []
    for node in record.findall("keywords/keyword"):
        value = text_of(node)
        if value:
            keywords.extend(_LINES.split(value))
    draft.keywords = keywords
    return ctx.finish(draft)
