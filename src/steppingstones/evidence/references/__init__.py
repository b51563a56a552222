"""Parse bibliographic search results into normalised reference records.

A plain domain package (no Django): give it the raw bytes of an export and it gives back
:class:`Reference` records with the same fields and conventions whatever the source::

    from steppingstones.evidence.references import parse

    result = parse(upload.read(), filename=upload.name)
    result.format      # "ris"
    result.encoding    # "utf-8-sig"
    result.records[0]  # Reference(title=..., authors=["Smith, John"], year=2020, ...)
    result.warnings    # ["search.ris, record 3, line 57: year '20O4' is not a year; ..."]

Formats (:data:`FORMATS`): ``ris`` (PubMed, Ovid, EBSCO, Scopus, Web of Science, Embase,
ProQuest and reference-manager RIS), ``wos`` (Web of Science tagged text), ``nbib``
(PubMed/MEDLINE format), ``bibtex``, ``pubmed-xml``, ``endnote-xml`` and ``csv`` (with a
column mapping; :func:`guess_mapping` proposes one). Each module's docstring lists the
vendor quirks it handles.

Malformed input raises :class:`ReferenceFormatError` (a ``ValueError``) whose message
names the file and the line, e.g. ``"search.ris, line 57: record has no TY line before
ER"``; hostile XML (entity expansion, external entities, DTD internal subsets) is refused
the same way. Problems with single fields become warnings instead, and the record is kept.

:func:`iter_parse` yields the records lazily; every parser runs in one linear pass, and an
optional ``progress(done, total_or_None)`` callback reports how far it has got.
"""

from .api import (
    FORMATS,
    PROGRESS_EVERY,
    Progress,
    ReferenceStream,
    detect_format,
    iter_parse,
    normalise_format,
    parse,
)
from .csv_refs import CSV_FIELDS, guess_mapping
from .encoding import decode, detect_encoding
from .records import REFERENCE_TYPES, ParseResult, Reference, ReferenceFormatError

__all__ = [
    "CSV_FIELDS",
    "FORMATS",
    "PROGRESS_EVERY",
    "REFERENCE_TYPES",
    "ParseResult",
    "Progress",
    "Reference",
    "ReferenceFormatError",
    "ReferenceStream",
    "decode",
    "detect_encoding",
    "detect_format",
    "guess_mapping",
    "iter_parse",
    "normalise_format",
    "parse",
]
