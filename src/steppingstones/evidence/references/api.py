"""The entry points: :func:`parse`, :func:`iter_parse` and :func:`detect_format`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from types import ModuleType

from . import bibtex, csv_refs, endnote_xml, nbib, pubmed_xml, ris, wos
from ._context import ParseContext
from .encoding import decode
from .records import ParseResult, Reference, ReferenceFormatError

Progress = Callable[[int, int | None], object]
"""A progress callback: called with ``(records_done, expected_total_or_None)``."""

PARSERS: dict[str, ModuleType] = {
    ris.FORMAT: ris,
    wos.FORMAT: wos,
    nbib.FORMAT: nbib,
    bibtex.FORMAT: bibtex,
    pubmed_xml.FORMAT: pubmed_xml,
    endnote_xml.FORMAT: endnote_xml,
    csv_refs.FORMAT: csv_refs,
}
FORMATS: tuple[str, ...] = tuple(PARSERS)
"""Format names :func:`parse` accepts and :func:`detect_format` returns."""

_ALIASES = {
    "ris": "ris",
    "wos": "wos",
    "ciw": "wos",
    "web of science": "wos",
    "isi": "wos",
    "nbib": "nbib",
    "medline": "nbib",
    "pubmed": "nbib",
    "bibtex": "bibtex",
    "bib": "bibtex",
    "biblatex": "bibtex",
    "pubmed-xml": "pubmed-xml",
    "pubmed_xml": "pubmed-xml",
    "endnote-xml": "endnote-xml",
    "endnote_xml": "endnote-xml",
    "endnote": "endnote-xml",
    "csv": "csv",
    "tsv": "csv",
}
_SUFFIXES = {
    ".ris": "ris",
    ".nbib": "nbib",
    ".medline": "nbib",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ciw": "wos",
    ".csv": "csv",
    ".tsv": "csv",
}

PROGRESS_EVERY = 1000
"""Records between two calls of the progress callback."""

_HEAD = 65536
_RIS_TY = re.compile(r"^[ \t]*TY[ \t]{1,2}-", re.MULTILINE)
_NBIB_PMID = re.compile(r"^PMID- ?\d", re.MULTILINE)
_WOS_START = re.compile(r"\A\s*(?:FN |VR |PT [A-Z]\s*$)", re.MULTILINE)
_BIB_ENTRY = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)


def normalise_format(name: str) -> str:
    """The canonical format name for ``name`` or one of its aliases (``"bib"``, ``"ciw"``)."""
    canonical = _ALIASES.get(name.strip().lower())
    if canonical is None:
        raise ValueError(f"unknown format {name!r}; expected one of: {', '.join(FORMATS)}")
    return canonical


def _detect_text(head: str, filename: str, raw: bytes) -> str:
    suffix = PurePath(filename).suffix.lower() if filename else ""
    stripped = head.lstrip()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if stripped.startswith("<"):
        if "<PubmedArticleSet" in head or "<PubmedArticle" in head or "<PubmedBookArticle" in head:
            return "pubmed-xml"
        if re.search(r"<xml>\s*<records>|<records>\s*<record>", head):
            return "endnote-xml"
        raise ReferenceFormatError(
            "XML that is neither PubMed XML (<PubmedArticleSet>) nor EndNote XML (<xml><records>)",
            filename=filename,
        )
    if _WOS_START.match(head):
        return "wos"
    if _NBIB_PMID.search(head):
        return "nbib"
    if _RIS_TY.search(head):
        return "ris"
    if _BIB_ENTRY.search(head):
        return "bibtex"
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    first_line = stripped.split("\n", 1)[0]
    delimiter = csv_refs.sniff_delimiter(first_line)
    if delimiter in first_line and "title" in csv_refs.guess_mapping(
        [cell.strip().strip('"') for cell in first_line.split(delimiter)]
    ):
        return "csv"
    if raw.startswith(b"PK\x03\x04"):
        reason = "this looks like a ZIP or Excel file; export the references as RIS or CSV"
    elif raw.startswith(b"%PDF"):
        reason = "this is a PDF, not a file of references"
    else:
        reason = (
            "could not recognise the format (RIS, Web of Science, MEDLINE/nbib, BibTeX, "
            "PubMed XML, EndNote XML or CSV); pass format= to name it"
        )
    raise ReferenceFormatError(reason, filename=filename)


def detect_format(data: bytes, filename: str = "") -> str:
    """The format of ``data`` (one of :data:`FORMATS`), from its content and file name.

    Content decides where it is clear: an XML root (``<PubmedArticleSet>`` or EndNote's
    ``<xml><records>``), Web of Science's ``FN``/``VR``/``PT`` opening, a MEDLINE
    ``PMID- `` line, a RIS ``TY  - `` line, a BibTeX ``@type{``. A ``.csv``/``.tsv`` name is
    always CSV. Otherwise the suffix decides (``.ris``, ``.nbib``, ``.bib``, ``.ciw``;
    ``.txt`` and ``.xml`` say nothing on their own), and last a header row with a title
    column means CSV. Raises :class:`ReferenceFormatError` when nothing fits.
    """
    head_bytes = data[: _HEAD * 4]
    text, _encoding = decode(head_bytes) if _decodes(head_bytes) else _lenient(head_bytes)
    return _detect_text(text[:_HEAD], filename, data[:8])


def _decodes(data: bytes) -> bool:
    try:
        decode(data)
    except UnicodeDecodeError:
        return False
    return True


def _lenient(data: bytes) -> tuple[str, str]:
    # The head may end inside a multi-byte character: drop the partial one.
    for cut in range(1, 4):
        try:
            return decode(data[:-cut])
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


class ReferenceStream(Iterator[Reference]):
    """Records of one file, parsed as they are iterated over.

    ``format`` and ``encoding`` are known at once; ``warnings`` grows as records are read.
    A :class:`ReferenceFormatError` is raised from the iteration at the first malformed
    place, after the records before it have been yielded.
    """

    def __init__(
        self,
        text: str,
        *,
        format: str,
        encoding: str,
        filename: str,
        mapping: Mapping[str, str] | None,
        progress: Progress | None,
    ) -> None:
        self.format = format
        self.encoding = encoding
        self.filename = filename
        self._context = ParseContext(filename=filename, mapping=mapping)
        self.warnings = self._context.warnings
        module = PARSERS[format]
        self.total: int | None = module.estimate_total(text) if progress else None
        self._records: Iterator[Reference] = module.iter_records(text, self._context)
        self._progress = progress
        self.count = 0
        self._finished = False

    def __iter__(self) -> ReferenceStream:
        return self

    def __next__(self) -> Reference:
        try:
            record = next(self._records)
        except StopIteration:
            if not self._finished:
                self._finished = True
                self._context.summarise_warnings()
                if self._progress is not None:
                    self._progress(self.count, self.count)
            raise
        self.count += 1
        if self._progress is not None and self.count % PROGRESS_EVERY == 0:
            self._progress(self.count, self.total)
        return record


def iter_parse(
    data: bytes,
    *,
    format: str | None = None,
    filename: str = "",
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> ReferenceStream:
    """Start parsing ``data``; iterate over the result to get the records one by one.

    Arguments as for :func:`parse`. Decoding and format detection happen here (and raise
    here); the records are parsed lazily, in one linear pass.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("data must be bytes (the file's raw content)")
    data = bytes(data)
    if not data.strip():
        raise ReferenceFormatError("the file is empty", filename=filename)
    try:
        text, used_encoding = decode(data, encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ReferenceFormatError(
            f"cannot decode the file as {encoding}: {exc}", filename=filename
        ) from None
    if format is not None:
        name = normalise_format(format)
    else:
        name = _detect_text(text[:_HEAD], filename, data[:8])
    if mapping is not None and name != "csv":
        raise ValueError(f"a column mapping applies to CSV files only, not to {name}")
    return ReferenceStream(
        text,
        format=name,
        encoding=used_encoding,
        filename=filename,
        mapping=mapping,
        progress=progress,
    )


def parse(
    data: bytes,
    *,
    format: str | None = None,
    filename: str = "",
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> ParseResult:
    """Parse a file of search results into normalised :class:`Reference` records.

    ``data`` is the file's raw bytes; its encoding is detected (see
    :mod:`~steppingstones.evidence.references.encoding`) unless ``encoding`` names it.
    ``format`` is one of :data:`FORMATS` (or an alias such as ``"bib"``, ``"medline"``);
    without it :func:`detect_format` decides from the content and ``filename``.
    ``filename`` is also used in every warning and error message. ``mapping`` is the CSV
    column mapping (our field -> the file's header; guessed when omitted). ``progress``,
    if given, is called every :data:`PROGRESS_EVERY` records with ``(done, total)``, the
    total being an estimate from a quick scan of the file (or ``None`` where the format
    allows none), and once at the end with ``(done, done)``.

    Raises :class:`ReferenceFormatError` (a ``ValueError``) for malformed or hostile input,
    with a message naming the file and the line or record.
    """
    stream = iter_parse(
        data,
        format=format,
        filename=filename,
        mapping=mapping,
        encoding=encoding,
        progress=progress,
    )
    records = list(stream)
    return ParseResult(
        records=records,
        encoding=stream.encoding,
        format=stream.format,
        warnings=stream.warnings,
        filename=filename,
    )


__all__ = [
    "FORMATS",
    "PROGRESS_EVERY",
    "Progress",
    "ReferenceStream",
    "detect_format",
    "iter_parse",
    "normalise_format",
    "parse",
]
