"""Retrieval over coded transcripts: Boolean code queries, full-text search, code counts.

Code queries
------------
``parse_query("Stigma AND (Housing OR Midwife) AND NOT Police")`` reads a Boolean expression over
code names into a tree. Operators are the upper-case words ``AND``, ``OR`` and ``NOT``; ``NOT``
binds tightest, then ``AND``, then ``OR``; parentheses group. A code name is a run of words
(``Named midwife``) or a quoted string (``"Stigma: services"``) when it holds an operator word,
a parenthesis or a quote. Errors say what was expected, and where.

``passages`` evaluates the tree on character ranges, document by document:

* a code is the union of the ranges coded with it;
* ``A AND B`` is the intersection: the characters coded with both A and B (so overlapping codings
  give their overlap, and codings that do not overlap give nothing);
* ``A OR B`` is the union, overlapping or touching ranges joined;
* ``NOT A`` is the rest of the document: ``[0, length)`` minus A, so ``A AND NOT B`` is A with the
  B-coded characters cut out. Without a known length a document is taken to end at its last coded
  character.

The result is then narrowed by the filters (site, wave, participant, participant attributes) and,
for speaker roles, cut to the characters inside the turns of those speakers.

Full-text search
----------------
``search(texts, '"named midwife" NEAR/5 trust')``: case-insensitive and word-based. A word is a
run of letters and digits (apostrophes inside a word kept: ``didn't``), compared case-folded;
punctuation between words is ignored. A quoted phrase matches those words in a row; ``word*``
matches words starting with ``word``; ``X NEAR/n Y`` matches X and Y, in either order, with at
most n words between them (``NEAR`` in capitals: a lower-case "near" is a word to find). A hit is
the character range from the first matched word to the last.

Counts
------
``frequencies`` counts references (codings), documents and participants per code by wave, site or
participant. ``cooccurrence`` counts, for each pair of codes, how many pairs of their passages
overlap by at least one character within a document, and in how many documents that happens.

Plain Python: no Django.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from steppingstones.voices.agreement import Coding

Range = tuple[int, int]
UNKNOWN = "(unknown)"

# --------------------------------------------------------------------------- documents and filters


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    start: int
    end: int
    role: str  # for example "participant", "interviewer", "staff", "partner"


@dataclass(frozen=True)
class DocumentInfo:
    """What retrieval knows of a transcript: where and when, whose, how long, and who spoke when."""

    document_id: str
    site: str | None = None
    wave: str | None = None
    participant: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    length: int | None = None
    turns: tuple[SpeakerTurn, ...] = ()


@dataclass(frozen=True)
class PassageFilter:
    """Which passages to keep. ``None`` (or an empty mapping) means no restriction."""

    sites: Collection[str] | None = None
    waves: Collection[str] | None = None
    participants: Collection[str] | None = None
    attributes: Mapping[str, Collection[str]] = field(default_factory=dict)
    speaker_roles: Collection[str] | None = None
    coders: Collection[str] | None = None

    def restricts_documents(self) -> bool:
        return (
            self.sites is not None
            or self.waves is not None
            or self.participants is not None
            or bool(self.attributes)
        )

    def admits(self, info: DocumentInfo | None) -> bool:
        """Whether a document passes the site, wave, participant and attribute filters."""
        if not self.restricts_documents():
            return True
        if info is None:
            return False
        if self.sites is not None and info.site not in self.sites:
            return False
        if self.waves is not None and info.wave not in self.waves:
            return False
        if self.participants is not None and info.participant not in self.participants:
            return False
        return all(
            info.attributes.get(name) in allowed for name, allowed in self.attributes.items()
        )


@dataclass(frozen=True, slots=True)
class Passage:
    document_id: str
    start: int
    end: int
    text: str | None = None


# --------------------------------------------------------------------------- range algebra


def merge_ranges(ranges: Iterable[Range]) -> list[Range]:
    """Union: sorted, disjoint, with overlapping or touching ranges joined; empty ranges dropped."""
    merged: list[Range] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect_ranges(first: Sequence[Range], second: Sequence[Range]) -> list[Range]:
    """Intersection of two sorted disjoint range lists."""
    result: list[Range] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract_ranges(first: Sequence[Range], second: Sequence[Range]) -> list[Range]:
    """``first`` minus ``second``, both sorted and disjoint."""
    result: list[Range] = []
    j = 0
    for start, end in first:
        while j < len(second) and second[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(second) and second[k][0] < end:
            if second[k][0] > cursor:
                result.append((cursor, second[k][0]))
            cursor = max(cursor, second[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


# --------------------------------------------------------------------------- query language


class QueryError(ValueError):
    """A query that cannot be read; the message says what was expected and at which position."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        super().__init__(message if position is None else f"{message} (at position {position})")


@dataclass(frozen=True, slots=True)
class CodeRef:
    name: str

    def __str__(self) -> str:
        if _needs_quotes(self.name):
            return '"' + self.name + '"'
        return self.name


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr

    def __str__(self) -> str:
        return f"NOT {_wrap(self.operand)}"


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]

    def __str__(self) -> str:
        return " AND ".join(_wrap(o) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]

    def __str__(self) -> str:
        return " OR ".join(_wrap(o) for o in self.operands)


Expr = CodeRef | Not | And | Or

_KEYWORDS = ("AND", "OR", "NOT")
_KEYWORD_KINDS: dict[str, Literal["AND", "OR", "NOT"]] = {"AND": "AND", "OR": "OR", "NOT": "NOT"}


def _needs_quotes(name: str) -> bool:
    words = name.split()
    return (
        not words
        or " ".join(words) != name
        or any(w in _KEYWORDS for w in words)
        or any(ch in name for ch in '()"')
    )


def _wrap(expr: Expr) -> str:
    return f"({expr})" if isinstance(expr, And | Or) else str(expr)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["(", ")", "AND", "OR", "NOT", "NAME", "END"]
    text: str
    position: int


def _tokenise(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(_Token("(" if ch == "(" else ")", ch, i))
            i += 1
        elif ch == '"':
            close = query.find('"', i + 1)
            if close < 0:
                raise QueryError("a quoted code name is never closed", i)
            name = " ".join(query[i + 1 : close].split())
            if not name:
                raise QueryError("empty quoted code name", i)
            tokens.append(_Token("NAME", name, i))
            i = close + 1
        else:
            j = i
            while j < len(query) and not query[j].isspace() and query[j] not in '()"':
                j += 1
            word = query[i:j]
            keyword = _KEYWORD_KINDS.get(word)
            if keyword is not None:
                tokens.append(_Token(keyword, word, i))
            elif tokens and tokens[-1].kind == "NAME" and query[tokens[-1].position] != '"':
                # Adjacent bare words form one code name: "Named midwife".
                last = tokens[-1]
                tokens[-1] = _Token("NAME", f"{last.text} {word}", last.position)
            else:
                tokens.append(_Token("NAME", word, i))
            i = j
    tokens.append(_Token("END", "", len(query)))
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = _tokenise(query)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Expr:
        if self.peek().kind == "END":
            raise QueryError("empty query: name at least one code")
        expr = self.disjunction()
        token = self.peek()
        if token.kind == ")":
            raise QueryError("')' without a matching '('", token.position)
        if token.kind != "END":
            hint = " (use AND NOT to exclude a code)" if token.kind == "NOT" else ""
            raise QueryError(f"expected AND or OR before {_describe(token)}{hint}", token.position)
        return expr

    def disjunction(self) -> Expr:
        operands = [self.conjunction()]
        while self.peek().kind == "OR":
            self.take()
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self) -> Expr:
        operands = [self.negation()]
        while self.peek().kind == "AND":
            self.take()
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def negation(self) -> Expr:
        if self.peek().kind == "NOT":
            self.take()
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Expr:
        token = self.take()
        if token.kind == "NAME":
            return CodeRef(token.text)
        if token.kind == "(":
            if self.peek().kind == ")":
                raise QueryError("empty parentheses", token.position)
            expr = self.disjunction()
            close = self.peek()
            if close.kind != ")":
                if close.kind == "END":
                    raise QueryError("'(' is never closed", token.position)
                raise QueryError(
                    f"expected AND, OR or ')' before {_describe(close)}", close.position
                )
            self.take()
            return expr
        raise QueryError(
            f"expected a code name or '(' but found {_describe(token)}", token.position
        )


def _describe(token: _Token) -> str:
    if token.kind == "END":
        return "the end of the query"
    if token.kind == "NAME":
        return f"code name {token.text!r}"
    return repr(token.text)


def parse_query(query: str) -> Expr:
    """Read a Boolean code query into an expression tree; QueryError says what is wrong, where."""
    return _Parser(query).parse()


def code_names(expr: Expr) -> set[str]:
    """Every code name an expression mentions."""
    if isinstance(expr, CodeRef):
        return {expr.name}
    if isinstance(expr, Not):
        return code_names(expr.operand)
    return set().union(*(code_names(o) for o in expr.operands))


def _resolve_names(wanted: Iterable[str], names: Mapping[str, str]) -> dict[str, str]:
    """Query name -> code id for every name wanted; case-insensitive where that is unambiguous."""
    folded: dict[str, list[str]] = defaultdict(list)
    for name in names:
        folded[name.casefold()].append(name)
    resolved = {}
    for name in sorted(wanted):
        if name in names:
            resolved[name] = names[name]
            continue
        candidates = folded.get(name.casefold(), [])
        if len(candidates) == 1:
            resolved[name] = names[candidates[0]]
            continue
        if candidates:
            raise QueryError(f"code name {name!r} is ambiguous: {', '.join(sorted(candidates))}")
        close = difflib.get_close_matches(name, list(names), n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise QueryError(f"unknown code {name!r}{hint}")
    return resolved


# --------------------------------------------------------------------------- passages


def _evaluate(
    expr: Expr,
    code_ranges: Mapping[str, list[Range]],
    universe: list[Range],
    ids: Mapping[str, str],
) -> list[Range]:
    if isinstance(expr, CodeRef):
        return code_ranges.get(ids[expr.name], [])
    if isinstance(expr, Not):
        return subtract_ranges(universe, _evaluate(expr.operand, code_ranges, universe, ids))
    if isinstance(expr, And):
        result = _evaluate(expr.operands[0], code_ranges, universe, ids)
        for operand in expr.operands[1:]:
            if not result:
                break
            result = intersect_ranges(result, _evaluate(operand, code_ranges, universe, ids))
        return result
    pieces: list[Range] = []
    for operand in expr.operands:
        pieces.extend(_evaluate(operand, code_ranges, universe, ids))
    return merge_ranges(pieces)


def passages(
    query: str | Expr,
    codings: Iterable[Coding],
    documents: Mapping[str, DocumentInfo] | None = None,
    filters: PassageFilter | None = None,
    names: Mapping[str, str] | None = None,
    texts: Mapping[str, str] | None = None,
) -> list[Passage]:
    """The passages a Boolean code query selects, after the filters; sorted by document and start.

    ``names`` maps the code names a query may use to code ids; without it the names are the code
    ids found in ``codings``. An unknown name is a QueryError (with close matches suggested).
    ``documents`` supplies sites, waves, participants, attributes, lengths and speaker turns.
    """
    expr = parse_query(query) if isinstance(query, str) else query
    documents = documents or {}
    filters = filters or PassageFilter()
    codings = list(codings)
    if names is None:
        names = {c.code_id: c.code_id for c in codings}
    codings = [c for c in codings if filters.coders is None or c.coder in filters.coders]
    ids = _resolve_names(code_names(expr), names)

    per_document: dict[str, dict[str, list[Range]]] = defaultdict(lambda: defaultdict(list))
    last_end: dict[str, int] = defaultdict(int)
    for coding in codings:
        per_document[coding.document_id][coding.code_id].append((coding.start, coding.end))
        last_end[coding.document_id] = max(last_end[coding.document_id], coding.end)

    found: list[Passage] = []
    for doc in sorted(set(per_document) | set(documents)):
        info = documents.get(doc)
        if not filters.admits(info):
            continue
        length = info.length if info is not None and info.length is not None else last_end[doc]
        code_ranges = {code: merge_ranges(r) for code, r in per_document.get(doc, {}).items()}
        result = _evaluate(expr, code_ranges, [(0, length)] if length > 0 else [], ids)
        if filters.speaker_roles is not None:
            turns = info.turns if info is not None else ()
            spoken = merge_ranges(
                (t.start, t.end) for t in turns if t.role in filters.speaker_roles
            )
            result = intersect_ranges(result, spoken)
        text = texts.get(doc) if texts is not None else None
        for start, end in result:
            found.append(Passage(doc, start, end, text[start:end] if text is not None else None))
    return found


# --------------------------------------------------------------------------- full-text search

_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
_NEAR = re.compile(r"NEAR/(\d+)$")


@dataclass(frozen=True, slots=True)
class _Term:
    words: tuple[str, ...]  # case-folded; a trailing "*" on a word makes it a prefix

    def label(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    first: _Term
    second: _Term | None = None
    distance: int = 0


@dataclass(frozen=True, slots=True)
class SearchHit:
    document_id: str
    start: int
    end: int
    text: str


def _term(raw: str, position: int) -> _Term:
    words = []
    for piece in raw.split():
        prefix = piece.endswith("*")
        found = [w.casefold() for w in _WORD.findall(piece)]
        if not found:
            raise QueryError(f"{piece!r} has no letters or digits to search for", position)
        if prefix:
            found[-1] += "*"
        words.extend(found)
    if not words:
        raise QueryError("empty search term", position)
    return _Term(tuple(words))


def parse_search(query: str) -> SearchQuery:
    """Read ``word``, ``"a phrase"``, ``word*`` or ``X NEAR/n Y`` (X and Y words or phrases)."""
    parts: list[tuple[str, str, int]] = []  # (kind, text, position)
    for match in re.finditer(r'"([^"]*)"|(\S+)', query):
        if match.group(1) is not None:
            parts.append(("term", match.group(1), match.start()))
        elif match.group(2).startswith('"'):
            raise QueryError("a quoted phrase is never closed", match.start())
        elif match.group(2) == "NEAR" or match.group(2).startswith("NEAR/"):
            parts.append(("near", match.group(2), match.start()))
        else:
            parts.append(("term", match.group(2), match.start()))
    if not parts:
        raise QueryError("empty search: give a word or a quoted phrase")
    kinds = [kind for kind, _, _ in parts]
    if kinds == ["term"]:
        return SearchQuery(_term(parts[0][1], parts[0][2]))
    if kinds == ["term", "near", "term"]:
        near = _NEAR.match(parts[1][1])
        if near is None:
            raise QueryError("NEAR needs a distance in words, as in NEAR/5", parts[1][2])
        return SearchQuery(
            _term(parts[0][1], parts[0][2]), _term(parts[2][1], parts[2][2]), int(near.group(1))
        )
    if "near" in kinds:
        raise QueryError("NEAR/n goes between exactly two words or quoted phrases")
    raise QueryError(
        'put several words in quotes for a phrase ("named midwife"), or join two with NEAR/n'
    )


class _Index:
    """One text's words: case-folded, with their character spans."""

    def __init__(self, text: str) -> None:
        matches = list(_WORD.finditer(text))
        self.words = [m.group().casefold() for m in matches]
        self.starts = [m.start() for m in matches]
        self.ends = [m.end() for m in matches]
        self.positions: dict[str, list[int]] = defaultdict(list)
        for index, word in enumerate(self.words):
            self.positions[word].append(index)

    def _matches(self, pattern: str, index: int) -> bool:
        word = self.words[index]
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    def occurrences(self, term: _Term) -> list[int]:
        """Token indices where the term begins (it spans len(term.words) tokens)."""
        first = term.words[0]
        if first.endswith("*"):
            candidates: Iterable[int] = (
                i for i in range(len(self.words)) if self._matches(first, i)
            )
        else:
            candidates = self.positions.get(first, [])
        size = len(term.words)
        return [
            i
            for i in candidates
            if i + size <= len(self.words)
            and all(self._matches(term.words[k], i + k) for k in range(1, size))
        ]


def search(
    texts: Mapping[str, str],
    query: str | SearchQuery,
    within: Iterable[Passage] | None = None,
) -> list[SearchHit]:
    """Full-text search for a word, phrase or proximity query; sorted by document and start.

    With ``within`` (for example the passages of a code query), only hits lying wholly inside one
    of those passages are kept.
    """
    parsed = parse_search(query) if isinstance(query, str) else query
    allowed: dict[str, list[Range]] | None = None
    if within is not None:
        grouped: dict[str, list[Range]] = defaultdict(list)
        for passage in within:
            grouped[passage.document_id].append((passage.start, passage.end))
        allowed = {doc: merge_ranges(r) for doc, r in grouped.items()}
    hits: list[SearchHit] = []
    for doc in sorted(texts):
        if allowed is not None and doc not in allowed:
            continue
        text = texts[doc]
        index = _Index(text)
        spans = _spans(index, parsed)
        for start, end in sorted(set(spans)):
            if allowed is not None and not _inside(allowed[doc], start, end):
                continue
            hits.append(SearchHit(doc, start, end, text[start:end]))
    return hits


def _spans(index: _Index, query: SearchQuery) -> list[Range]:
    first_size = len(query.first.words)
    firsts = index.occurrences(query.first)
    if query.second is None:
        return [(index.starts[i], index.ends[i + first_size - 1]) for i in firsts]
    second_size = len(query.second.words)
    seconds = index.occurrences(query.second)  # sorted by first token, so also by last token
    spans = []
    n = query.distance
    for a in firsts:
        a_last = a + first_size - 1
        # Second after the first: it begins within n words after the first ends.
        low = bisect.bisect_left(seconds, a_last + 1)
        high = bisect.bisect_right(seconds, a_last + 1 + n)
        for b in seconds[low:high]:
            spans.append((index.starts[a], index.ends[b + second_size - 1]))
        # Second before the first: it ends within n words before the first begins.
        low = bisect.bisect_left(seconds, a - 1 - n - (second_size - 1))
        high = bisect.bisect_right(seconds, a - 1 - (second_size - 1))
        for b in seconds[low:high]:
            spans.append((index.starts[b], index.ends[a_last]))
    return spans


def _inside(ranges: Sequence[Range], start: int, end: int) -> bool:
    position = bisect.bisect_right(ranges, (start, float("inf"))) - 1
    return position >= 0 and ranges[position][0] <= start and end <= ranges[position][1]


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True, slots=True)
class CodeFrequency:
    references: int  # codings
    documents: int
    participants: int


def frequencies(
    codings: Iterable[Coding],
    documents: Mapping[str, DocumentInfo],
    by: Literal["wave", "site", "participant"] = "wave",
    coder: str | None = None,
) -> dict[str, dict[str, CodeFrequency]]:
    """Code -> group (wave, site or participant) -> counts. Unknown groups are ``(unknown)``."""
    if by not in ("wave", "site", "participant"):
        raise ValueError(f"frequencies by {by!r}: choose wave, site or participant")
    references: dict[tuple[str, str], int] = defaultdict(int)
    docs: dict[tuple[str, str], set[str]] = defaultdict(set)
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    for coding in codings:
        if coder is not None and coding.coder != coder:
            continue
        info = documents.get(coding.document_id)
        group = getattr(info, by, None) if info is not None else None
        key = (coding.code_id, group if group is not None else UNKNOWN)
        references[key] += 1
        docs[key].add(coding.document_id)
        if info is not None and info.participant is not None:
            people[key].add(info.participant)
    result: dict[str, dict[str, CodeFrequency]] = {}
    for code, group in sorted(references):
        key = (code, group)
        result.setdefault(code, {})[group] = CodeFrequency(
            references[key], len(docs[key]), len(people[key])
        )
    return result


@dataclass(frozen=True)
class Cooccurrence:
    """Symmetric code x code counts. Off the diagonal: overlapping passage pairs (``overlaps``)
    and documents with such an overlap (``documents``); on it: the code's passages and documents.
    """

    codes: tuple[str, ...]
    overlaps: npt.NDArray[np.int64]
    documents: npt.NDArray[np.int64]

    def count(self, first: str, second: str) -> int:
        return int(self.overlaps[self.codes.index(first), self.codes.index(second)])

    def documents_with(self, first: str, second: str) -> int:
        return int(self.documents[self.codes.index(first), self.codes.index(second)])


def cooccurrence(codings: Iterable[Coding], coder: str | None = None) -> Cooccurrence:
    """How often codes overlap in the same document.

    Each code's codings in a document are first merged into passages (so double coding by several
    coders, or overlapping codings, counts once); two passages co-occur when they share at least
    one character.
    """
    per_document: dict[str, dict[str, list[Range]]] = defaultdict(lambda: defaultdict(list))
    for coding in codings:
        if coder is None or coding.coder == coder:
            per_document[coding.document_id][coding.code_id].append((coding.start, coding.end))
    codes = tuple(sorted({code for by_code in per_document.values() for code in by_code}))
    position = {code: i for i, code in enumerate(codes)}
    overlaps = np.zeros((len(codes), len(codes)), dtype=np.int64)
    documents = np.zeros_like(overlaps)
    for by_code in per_document.values():
        passages_here = sorted(
            (start, end, position[code])
            for code, ranges in by_code.items()
            for start, end in merge_ranges(ranges)
        )
        seen = np.zeros_like(overlaps, dtype=bool)
        active: list[tuple[int, int]] = []  # (end, code index) of passages still open
        for start, end, code in passages_here:
            active = [(e, c) for e, c in active if e > start]
            overlaps[code, code] += 1
            seen[code, code] = True
            for _, other in active:
                overlaps[code, other] += 1
                overlaps[other, code] += 1
                seen[code, other] = seen[other, code] = True
            active.append((end, code))
        documents += seen
    return Cooccurrence(codes, overlaps, documents)
