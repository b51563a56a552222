"""PubMed XML (``<PubmedArticleSet>``, from PubMed's "Send to: File, XML" or E-utilities efetch).

Read with the hardened, streaming reader of :mod:`._xml` (entities, internal DTD subsets
and external references refused). Each ``<PubmedArticle>`` (and ``<PubmedBookArticle>``)
is one record.

Fields: ``ArticleTitle`` (inline ``<i>``/``<sup>`` flattened; ``BookTitle`` for books);
``AuthorList/Author`` as ``LastName, ForeName`` (``Initials`` when there is no fore name)
or ``CollectiveName``; ``AbstractText`` paragraphs, each prefixed with its ``Label``
(``"BACKGROUND: ..."``); ``Journal/Title`` and ``ISOAbbreviation`` (else
``MedlineJournalInfo/MedlineTA``); ``JournalIssue`` ``Volume``, ``Issue`` and ``PubDate``
(``Year``, else the first year of ``MedlineDate`` such as ``"2019 Dec-2020 Jan"``, else
``ArticleDate``); ``Pagination/MedlinePgn`` (else ``StartPage``/``EndPage``); the DOI from
``ELocationID[@EIdType="doi"]``, else the article's own ``PubmedData/ArticleIdList`` (never
the ``ArticleId`` of a cited reference); ``PMID``; MeSH descriptors and ``Keyword`` terms;
``PublicationType`` (``source_type`` lists them joined by ``"; "``); ``Language``.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from ._context import Draft, ParseContext
from ._xml import iter_elements, text_of
from .normalise import type_from_label
from .records import Reference

FORMAT = "pubmed-xml"

_RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle"})
_ROOTS = frozenset({"PubmedArticleSet", "PubmedArticle", "PubmedBookArticle"})


def estimate_total(text: str) -> int | None:
    return text.count("<PubmedArticle>") + text.count("<PubmedBookArticle>")


def iter_records(text: str, ctx: ParseContext) -> Iterator[Reference]:
    def check_root(tag: str) -> None:
        if tag not in _ROOTS:
            raise ctx.error(f"not PubMed XML: the root element is <{tag}>, not <PubmedArticleSet>")

    for number, (element, line) in enumerate(
        iter_elements(text, ctx, _RECORD_TAGS, check_root), start=1
    ):
        yield build(element, number, line, ctx)


def _author(author: Element) -> str | None:
    collective = text_of(author.find("CollectiveName"))
    if collective:
        return collective
    last = text_of(author.find("LastName"))
    given = text_of(author.find("ForeName")) or text_of(author.find("Initials"))
    if last and given:
        return f"{last}, {given}"
    return last


def _abstract(abstract: Element | None) -> str | None:
    if abstract is None:
        return None
    parts: list[str] = []
    for paragraph in abstract.findall("AbstractText"):
        body = text_of(paragraph)
        if not body:
            continue
        label = paragraph.get("Label")
        parts.append(f"{label}: {body}" if label else body)
    return " ".join(parts) or None


def build(element: Element, number: int, line: int, ctx: ParseContext) -> Reference:
    if element.tag == "PubmedBookArticle":
        return _build_book(element, number, line, ctx)
    citation = element.find("MedlineCitation")
    article = citation.find("Article") if citation is not None else None
    draft = Draft(record=number, line=line, type="journal-article")
    if citation is None or article is None:
        ctx.warn("PubmedArticle has no MedlineCitation/Article", record=number, line=line)
        return ctx.finish(draft)
    draft.pmid = text_of(citation.find("PMID"))
    draft.title = text_of(article.find("ArticleTitle")) or text_of(article.find("VernacularTitle"))
    author_list = article.find("AuthorList")
    if author_list is not None:
        draft.authors = [name for a in author_list.findall("Author") if (name := _author(a))]
    draft.abstract = _abstract(article.find("Abstract"))
    journal = article.find("Journal")
    if journal is not None:
        draft.journal = text_of(journal.find("Title"))
        draft.journal_abbrev = text_of(journal.find("ISOAbbreviation"))
        issue = journal.find("JournalIssue")
        if issue is not None:
            draft.volume = text_of(issue.find("Volume"))
            draft.issue = text_of(issue.find("Issue"))
            draft.year = text_of(issue.find("PubDate/Year")) or text_of(
                issue.find("PubDate/MedlineDate")
            )
    if draft.journal_abbrev is None:
        draft.journal_abbrev = text_of(citation.find("MedlineJournalInfo/MedlineTA"))
    if draft.year is None:
        draft.year = text_of(article.find("ArticleDate/Year"))
    draft.start_page = text_of(article.find("Pagination/MedlinePgn"))
    if draft.start_page is None:
        draft.start_page = text_of(article.find("Pagination/StartPage"))
        draft.end_page = text_of(article.find("Pagination/EndPage"))
    draft.doi = next(
        (
            text_of(loc)
            for loc in article.findall("ELocationID")
            if loc.get("EIdType", "").lower() == "doi"
        ),
        None,
    ) or _article_id(element, "doi")
    if draft.pmid is None:
        draft.pmid = _article_id(element, "pubmed")
    draft.keywords = [
        text
        for node in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")
        + citation.findall("KeywordList/Keyword")
        if (text := text_of(node))
    ]
    types = [
        t for node in article.findall("PublicationTypeList/PublicationType") if (t := text_of(node))
    ]
    draft.source_type = "; ".join(types) or None
    kinds = {type_from_label(label) for label in types}
    for kind in ("chapter", "book", "conference", "report", "thesis"):
        if kind in kinds:
            draft.type = kind
            break
    draft.language = text_of(article.find("Language"))
    return ctx.finish(draft)


def _article_id(element: Element, kind: str) -> str | None:
    for node in element.findall("PubmedData/ArticleIdList/ArticleId"):
        if node.get("IdType", "").lower() == kind:
            return text_of(node)
    return None


def _build_book(element: Element, number: int, line: int, ctx: ParseContext) -> Reference:
    document = element.find("BookDocument")
    draft = Draft(record=number, line=line, type="book", source_type="PubmedBookArticle")
    if document is None:
        ctx.warn("PubmedBookArticle has no BookDocument", record=number, line=line)
        return ctx.finish(draft)
    book = document.find("Book")
    draft.pmid = text_of(document.find("PMID"))
    chapter_title = text_of(document.find("ArticleTitle"))
    book_title = text_of(book.find("BookTitle")) if book is not None else None
    if chapter_title:
        draft.type = "chapter"
        draft.title = chapter_title
        draft.journal = book_title
    else:
        draft.title = book_title
    author_list = document.find("AuthorList")
    if author_list is None and book is not None:
        author_list = book.find("AuthorList")
    if author_list is not None:
        draft.authors = [name for a in author_list.findall("Author") if (name := _author(a))]
    draft.abstract = _abstract(document.find("Abstract"))
    if book is not None:
        draft.year = text_of(book.find("PubDate/Year"))
    draft.language = text_of(document.find("Language"))
    draft.doi = _article_id(element, "doi") or next(
        (
            text_of(n)
            for n in document.findall("ArticleIdList/ArticleId")
            if n.get("IdType") == "doi"
        ),
        None,
    )
    draft.keywords = [t for n in document.findall("KeywordList/Keyword") if (t := text_of(n))]
    return ctx.finish(draft)
