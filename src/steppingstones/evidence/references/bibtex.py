"""BibTeX (and biblatex) ``.bib`` files.

Why not ``bibtexparser``: version 2.1.0 (the current stable release) was tried. It gives
line numbers, but it leaves ``@string`` concatenations (``journal = pre # "Midwifery"``)
unresolved, and an extra ``}`` inside an entry silently ends the entry there and drops the
fields after it (they become a "comment"); its error messages name no entry and are
written to the root logger. Version 1 is no longer developed. This module is a careful
scanner of its own, linear in the size of the file.

Read: ``@type{key, field = value, ...}`` and ``@type(key, ...)``; values in braces (nested),
in double quotes (braces inside balanced), bare numbers and macros, joined with ``#``;
``@string`` macros (case-insensitive) and the standard month macros ``jan`` ... ``dec``;
``@comment`` and ``@preamble`` blocks and any text between entries are skipped, as BibTeX
does. LaTeX in values becomes Unicode (see
:mod:`~steppingstones.evidence.references.latex`). Names follow BibTeX's rules:
``"von Last, First"``, ``"von Last, Jr, First"`` and ``"First von Last"`` all become
``"von Last, First"``; a name in braces (``{World Health Organization}``) is one corporate
name; ``and others`` is dropped.

Malformed input raises :class:`~steppingstones.evidence.references.records.ReferenceFormatError`
naming the line and the entry: a brace opened and never closed (detected at the end of the
file or where the next ``@entry{`` begins on a new line), an extra ``}`` that ends an entry
before its last fields, a field without ``=``, an unterminated quoted value.

Fields: ``title``; ``author``; ``abstract``; ``year`` (else biblatex ``date``); ``journal``
/ ``journaltitle`` (``booktitle`` for parts of books and proceedings) and
``shortjournal``-style abbreviations; ``volume``; ``number``/``issue``; ``pages``;
``doi`` (else a DOI URL in ``url``); ``pmid`` (else ``eprint`` with
``eprinttype = {pubmed}``, else ``"PMID: 123"`` in ``note``); ``keywords`` (split on ``;``,
else ``,``); ``url``; ``language``/``langid``. Types: ``article`` -> journal-article;
``book``, ``booklet``, ``proceedings``... see :data:`TYPES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._context import Draft, ParseContext
from .latex import latex_to_text, unescape_identifier
from .normalise import find_doi, find_pmid_in_note, is_doi_url
from .records import Reference, ReferenceFormatError

FORMAT = "bibtex"

TYPES: dict[str, str] = {
    "article": "journal-article",
    "periodical": "journal-article",
    "book": "book",
    "mvbook": "book",
    "booklet": "book",
    "collection": "book",
    "mvcollection": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "bookinbook": "chapter",
    "suppbook": "chapter",
    "inproceedings": "conference",
    "conference": "conference",
    "proceedings": "conference",
    "mvproceedings": "conference",
    "techreport": "report",
    "report": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "online": "web",
    "electronic": "web",
    "www": "web",
    "webpage": "web",
}
_CONTAINER_AS_JOURNAL = frozenset({"inbook", "incollection", "inproceedings", "conference"})
_ABBREV_FIELDS = (
    "shortjournal",
    "journalabbrev",
    "journal-abbrev",
    "journal_abbrev",
    "journal-iso",
    "iso-abbrev",
)
MONTHS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w-]*)\s*([{(])")
_KEY = re.compile(r"\s*([^\s,{}()=\"#%]*)\s*")
_FIELD_NAME = re.compile(r"([A-Za-z_][\w.:+/-]*)\s*")
_MACRO = re.compile(r"[A-Za-z_][\w.:+/-]*")
_NUMBER = re.compile(r"\d+")
_WS = re.compile(r"(?:\s|%[^\n]*)*")
# A brace, or an entry that starts on a new line: inside a value, the latter means that
# a brace was opened and never closed.
_BRACE_SCAN = re.compile(r"[{}]|\n[ \t]*@[ \t]*[A-Za-z][\w-]*[ \t]*[{(]")
_QUOTE_SCAN = re.compile(r'[{}"]|\n[ \t]*@[ \t]*[A-Za-z][\w-]*[ \t]*[{(]')
_FIELD_AFTER_END = re.compile(r"[A-Za-z_][\w-]*\s*=\s*[{\"\d]")
_COUNT_ENTRIES = re.compile(r"^[ \t]*@[ \t]*(?!string|comment|preamble)[A-Za-z]", re.M | re.I)


def estimate_total(text: str) -> int | None:
    return len(_COUNT_ENTRIES.findall(text))


class _Lines:
    """Line numbers for positions in the text, counted incrementally (positions mostly grow)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


class _Parser:
    def __init__(self, text: str, ctx: ParseContext) -> None:
        self.text = text
        self.n = len(text)
        self.ctx = ctx
        self.lines = _Lines(text)
        self.macros: dict[str, str] = dict(MONTHS)
        self.key = ""
        self.entry_line = 0
        self.number = 0
        self.keys_seen: dict[str, int] = {}
        self.in_entry = False

    # -- errors ------------------------------------------------------------------------

    def error(
        self, reason: str, pos: int | None = None, *, line: int | None = None
    ) -> ReferenceFormatError:
        if line is None and pos is not None:
            line = self.lines.at(pos)
        return self.ctx.error(reason, line=line)

    def unbalanced(
        self, pos: int | None, detail: str, *, line: int | None = None
    ) -> ReferenceFormatError:
        return self.error(f"unbalanced braces in entry {self.key!r}: {detail}", pos, line=line)

    def warn(self, message: str, pos: int) -> None:
        record = self.number if self.in_entry else None
        self.ctx.warn(message, record=record, line=self.lines.at(pos))

    # -- scanning ----------------------------------------------------------------------

    def skip_ws(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def entries(self) -> Iterator[tuple[str, str, int, dict[str, str]]]:
        """``(type, key, line, fields)`` for each entry, ``@string`` macros applied."""
        text = self.text
        pos = 0
        while True:
            at = text.find("@", pos)
            if at == -1:
                return
            match = _ENTRY_START.match(text, at)
            if match is None:
                pos = at + 1
                continue
            kind = match.group(1).lower()
            close = "}" if match.group(2) == "{" else ")"
            self.entry_line = self.lines.at(at)
            self.in_entry = False
            if kind == "comment":
                pos = self.skip_block(match.end() - 1, close, strict=False)
                continue
            if kind == "preamble":
                self.key = "@preamble"
                pos = self.skip_block(match.end() - 1, close, strict=True)
                continue
            if kind == "string":
                self.key = "@string"
                fields, pos = self.fields(match.end(), close)
                for name, value in fields.items():
                    self.macros[name] = value
                continue
            key_match = _KEY.match(text, match.end())
            assert key_match is not None  # the pattern can match the empty string
            self.key = key_match.group(1)
            after_key = key_match.end()
            self.number += 1
            self.in_entry = True
            if after_key < self.n and text[after_key] == ",":
                fields_start = after_key + 1
            elif after_key < self.n and text[after_key] == close:
                fields_start = after_key
            elif after_key < self.n and text[after_key] == "=":
                self.warn("entry has no citation key", at)
                fields_start = match.end()
                self.key = ""
            else:
                raise self.error(f"expected ',' after the citation key {self.key!r}", after_key)
            fields, pos = self.fields(fields_start, close)
            self.check_after_entry(pos)
            if self.key:
                if self.key in self.keys_seen:
                    self.warn(
                        f"citation key {self.key!r} already used by the entry on line "
                        f"{self.keys_seen[self.key]}",
                        at,
                    )
                else:
                    self.keys_seen[self.key] = self.entry_line
            yield kind, self.key, self.entry_line, fields

    def skip_block(self, pos: int, close: str, *, strict: bool) -> int:
        """Skip a balanced ``{...}``/``(...)`` block starting at ``pos``."""
        opener = self.text[pos]
        depth = 0
        for index in range(pos, self.n):
            char = self.text[index]
            if char == opener:
                depth += 1
            elif char == close:
                depth -= 1
                if depth == 0:
                    return index + 1
        if strict:
            raise self.unbalanced(pos, "the block is never closed")
        end = self.text.find("\n", pos)
        return self.n if end == -1 else end

    def check_after_entry(self, pos: int) -> None:
        """An extra ``}`` ends an entry early: the fields after it must not vanish quietly."""
        next_at = self.text.find("@", pos)
        segment = self.text[pos : self.n if next_at == -1 else next_at]
        match = _FIELD_AFTER_END.search(segment)
        if match:
            raise self.unbalanced(
                pos + match.start(),
                "an extra '}' closes the entry before this field",
            )

    def fields(self, pos: int, close: str) -> tuple[dict[str, str], int]:
        text = self.text
        fields: dict[str, str] = {}
        while True:
            pos = self.skip_ws(pos)
            if pos >= self.n:
                raise self.unbalanced(
                    None,
                    "the entry is not closed before the end of the file",
                    line=self.entry_line,
                )
            char = text[pos]
            if char == close:
                return fields, pos + 1
            if char == ",":
                pos += 1
                continue
            if char == "@" and _ENTRY_START.match(text, pos):
                raise self.unbalanced(
                    None,
                    f"the entry is not closed before the next entry on line {self.lines.at(pos)}",
                    line=self.entry_line,
                )
            name_match = _FIELD_NAME.match(text, pos)
            if name_match is None:
                raise self.error(
                    f"unexpected {char!r} in entry {self.key!r} (expected a field name)", pos
                )
            name = name_match.group(1).lower()
            pos = name_match.end()
            if pos >= self.n or text[pos] != "=":
                raise self.error(
                    f"expected '=' after the field name {name!r} in entry {self.key!r}", pos
                )
            value, pos = self.value(pos + 1, name)
            if name in fields:
                self.warn(
                    f"field {name!r} repeated in entry {self.key!r}; the first value is used",
                    name_match.start(),
                )
            else:
                fields[name] = value
            pos = self.skip_ws(pos)
            if pos < self.n and text[pos] == ",":
                pos += 1
            elif pos < self.n and text[pos] == close:
                return fields, pos + 1
            elif pos >= self.n:
                raise self.unbalanced(
                    None,
                    "the entry is not closed before the end of the file",
                    line=self.entry_line,
                )
            else:
                raise self.error(
                    f"expected ',' or {close!r} after the field {name!r} in entry "
                    f"{self.key!r}, found {text[pos]!r}",
                    pos,
                )

    def value(self, pos: int, name: str) -> tuple[str, int]:
        text = self.text
        parts: list[str] = []
        while True:
            pos = self.skip_ws(pos)
            char = text[pos] if pos < self.n else ""
            if char == "{":
                part, pos = self.braced(pos, name)
            elif char == '"':
                part, pos = self.quoted(pos, name)
            elif char.isdigit():
                number = _NUMBER.match(text, pos)
                assert number is not None
                part, pos = number.group(0), number.end()
            elif char.isalpha() or char == "_":
                macro = _MACRO.match(text, pos)
                assert macro is not None
                macro_name = macro.group(0).lower()
                if macro_name in self.macros:
                    part = self.macros[macro_name]
                else:
                    self.warn(
                        f"undefined @string macro {macro.group(0)!r} in field {name!r} of "
                        f"entry {self.key!r}; its name is used as the value",
                        pos,
                    )
                    part = macro.group(0)
                pos = macro.end()
            else:
                raise self.error(
                    f"expected a value for the field {name!r} in entry {self.key!r}", pos
                )
            parts.append(part)
            pos = self.skip_ws(pos)
            if pos < self.n and text[pos] == "#":
                pos += 1
                continue
            return "".join(parts), pos

    def braced(self, pos: int, name: str) -> tuple[str, int]:
        depth = 0
        for match in _BRACE_SCAN.finditer(self.text, pos):
            piece = match.group(0)
            if piece == "{":
                depth += 1
            elif piece == "}":
                depth -= 1
                if depth == 0:
                    return self.text[pos + 1 : match.start()], match.end()
            else:
                raise self.unbalanced(
                    pos,
                    f"the '{{' that opens the field {name!r} is not closed before the next "
                    f"entry on line {self.lines.at(match.start() + 1)}",
                )
        raise self.unbalanced(
            pos, f"the '{{' that opens the field {name!r} is not closed before the end of the file"
        )

    def quoted(self, pos: int, name: str) -> tuple[str, int]:
        depth = 0
        for match in _QUOTE_SCAN.finditer(self.text, pos + 1):
            piece = match.group(0)
            if piece == "{":
                depth += 1
            elif piece == "}":
                depth -= 1
                if depth < 0:
                    raise self.error(
                        f"the quoted value of the field {name!r} in entry {self.key!r} has a "
                        f"'}}' without a '{{' on line {self.lines.at(match.start())} (or its "
                        "closing '\"' is missing)",
                        pos,
                    )
            elif piece == '"':
                if depth == 0:
                    return self.text[pos + 1 : match.start()], match.end()
            else:
                break
        raise self.error(
            f"the quoted value of the field {name!r} in entry {self.key!r} is never closed",
            pos,
        )


def iter_records(text: str, ctx: ParseContext) -> Iterator[Reference]:
    parser = _Parser(text, ctx)
    for kind, _key, line, fields in parser.entries():
        yield build(kind, fields, parser.number, line, ctx)
    if parser.number == 0 and "@" not in text and text.strip():
        raise ctx.error("no BibTeX entries found (no '@type{' line)")


def split_names(value: str) -> list[str]:
    """Split an ``author`` value on ``and`` outside braces; drop ``and others``."""
    names: list[str] = []
    depth = 0
    current: list[str] = []
    words = re.split(r"(\s+)", value)
    for word in words:
        if depth == 0 and word.lower() == "and":
            names.append("".join(current).strip())
            current = []
            continue
        depth += word.count("{") - word.count("}")
        current.append(word)
    names.append("".join(current).strip())
    return [name for name in names if name and name.lower() != "others"]


def _split_outside_braces(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and (char == separator or (separator == " " and char.isspace())):
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return [part.strip() for part in parts if part.strip()]


def _starts_lower(word: str) -> bool:
    # BibTeX's von test: the first letter outside braces is lower-case.
    for char in word:
        if char == "{":
            return False
        if char.isalpha():
            return char.islower()
    return False


def name_to_surname_given(raw: str) -> str:
    """A BibTeX name as ``"von Last, First"`` (or ``"von Last, First, Jr"``), LaTeX decoded."""
    parts = _split_outside_braces(raw, ",")
    if len(parts) >= 3:
        last, jr, first = parts[0], parts[1], ", ".join(parts[2:])
        return f"{latex_to_text(last)}, {latex_to_text(first)}, {latex_to_text(jr)}"
    if len(parts) == 2:
        return f"{latex_to_text(parts[0])}, {latex_to_text(parts[1])}"
    words = _split_outside_braces(raw, " ")
    if len(words) <= 1:
        return latex_to_text(raw)
    von = next(
        (index for index in range(1, len(words) - 1) if _starts_lower(words[index])),
        len(words) - 1,
    )
    first = " ".join(words[:von])
    last = " ".join(words[von:])
    return f"{latex_to_text(last)}, {latex_to_text(first)}"


def build(
    kind: str, fields: dict[str, str], number: int, line: int, ctx: ParseContext
) -> Reference:
    def text(*names: str) -> str | None:
        for name in names:
            value = fields.get(name)
            if value is not None and value.strip():
                return latex_to_text(value)
        return None

    draft = Draft(record=number, line=line, type=TYPES.get(kind, "other"), source_type=kind)
    draft.title = text("title")
    draft.abstract = text("abstract")
    draft.authors = [name_to_surname_given(name) for name in split_names(fields.get("author", ""))]
    draft.year = text("year", "date")
    journal_fields = ["journal", "journaltitle"]
    if kind in _CONTAINER_AS_JOURNAL:
        journal_fields.append("booktitle")
    draft.journal = text(*journal_fields)
    draft.journal_abbrev = text(*_ABBREV_FIELDS)
    draft.volume = text("volume")
    draft.issue = text("number", "issue")
    pages = fields.get("pages")
    draft.start_page = latex_to_text(pages, dashes=False) if pages else None
    url = unescape_identifier(fields["url"]) if fields.get("url") else None
    draft.url = url
    doi = unescape_identifier(fields["doi"]) if fields.get("doi") else None
    if doi is None and url and is_doi_url(url):
        doi = find_doi(url)
    draft.doi = doi
    pmid = text("pmid")
    if pmid is None and (text("eprinttype") or "").lower() in ("pubmed", "pmid"):
        pmid = text("eprint")
    if pmid is None:
        pmid = find_pmid_in_note(text("note")) or find_pmid_in_note(text("annote"))
    draft.pmid = pmid
    keywords = text("keywords", "keyword")
    if keywords:
        draft.keywords = keywords.split(";") if ";" in keywords else keywords.split(",")
    draft.language = text("language", "langid")
    return ctx.finish(draft)
