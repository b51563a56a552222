"""De-duplication of bibliographic records from several databases (no Django).

Two stages, then a union-find over the accepted links:

1. **Exact**: records with the same normalised DOI, then the same PMID, are one group.
2. **Fuzzy**: candidate pairs come from blocking (a sorted neighbourhood over three keys:
   the normalised title, the title read backwards, and the first author's surname followed
   by the title), so the work grows as ``n x window`` rather than ``n^2``. Each candidate
   is scored on the normalised title (``rapidfuzz``), first author / author overlap, year,
   journal (full name or abbreviation), volume and first page.

Guards against false merges:

* two records (or groups) with *different* DOIs, or different PMIDs, are never joined by a
  fuzzy match (a cannot-link constraint enforced inside the union-find, so not even through
  a third record);
* erratum, correction, comment, reply and retraction notices differing between the two
  titles, and years more than one apart, lower the score;
* the same title with a different volume or first page (a protocol and its results paper,
  a conference abstract and the article) is recorded as a *conflict*: the group is still
  offered for review but never merged automatically;
* very short titles ("Editorial", "Preterm labor") need two agreeing fields beside the title;
* automatic merging also needs each fuzzy link to agree on at least one field beside the
  title.

``find_duplicates`` returns :class:`DuplicateGroup` objects carrying the member ids, the
weakest link's score, the reason (``"doi"``, ``"pmid"`` or ``"fuzzy"``) and per-pair field
similarities, so a page can show the members side by side (:func:`side_by_side`) for a
reviewer to confirm or split. :func:`auto_merge` keeps only the groups safe to merge without
a person; :func:`source_counts` gives the per-database counts before and after for PRISMA.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from rapidfuzz.distance import Indel
from rapidfuzz.fuzz import ratio

__all__ = [
    "DEFAULT_AUTO_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "DuplicateGroup",
    "PairEvidence",
    "Record",
    "SideBySideRow",
    "SourceCount",
    "as_record",
    "auto_merge",
    "choose_primary",
    "compare",
    "find_duplicates",
    "first_author_surname",
    "journal_similarity",
    "normalise_doi",
    "normalise_journal",
    "normalise_pmid",
    "normalise_title",
    "side_by_side",
    "source_counts",
    "surname",
]

#: Pairs scoring at least this are grouped and offered for review.
DEFAULT_THRESHOLD = 0.85
#: Groups whose weakest link scores at least this (and without conflicts) may be merged
#: without a person.
DEFAULT_AUTO_THRESHOLD = 0.95
#: Records compared with each of the next ``window - 1`` records in each sorted pass.
DEFAULT_WINDOW = 10

#: Weights of the field similarities; a field missing on either side drops out of the mean.
WEIGHTS: dict[str, float] = {
    "title": 0.55,
    "authors": 0.15,
    "year": 0.10,
    "journal": 0.08,
    "volume": 0.04,
    "pages": 0.08,
}
#: Score multipliers for the guards.
YEAR_GAP_FACTOR = 0.80
NOTICE_FACTOR = 0.75
CONFLICT_FACTOR = 0.92
SHORT_TITLE_FACTOR = 0.80
SHORT_TITLE_TOKENS = 4
#: Candidate pairs whose title similarity is below this are not scored further.
TITLE_FLOOR = 0.75
#: A field "agrees" (corroborates the title) at or above this similarity.
AGREES = 0.8


@dataclass(frozen=True, slots=True)
class Record:
    """One bibliographic record as exported by a database. ``authors`` are "Surname, Given"."""

    id: str
    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str = ""
    journal_abbrev: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    source: str = ""


_RECORD_FIELDS = tuple(f.name for f in fields(Record))


def _year(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(str(value).strip()[:6]))
    except ValueError:
        match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", str(value))
        return int(match.group(1)) if match else None


def _authors(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        parts: Iterable[Any] = value.split(";") if ";" in value else [value]
    else:
        parts = value
    return tuple(str(part).strip() for part in parts if str(part).strip())


def as_record(data: Record | Mapping[str, Any]) -> Record:
    """A :class:`Record` from a record or a plain dict (unknown keys ignored; ``authors`` may
    be a list or one string separated by semicolons; ``year`` may be "1999.0")."""
    if isinstance(data, Record):
        return data
    if "id" not in data or data["id"] in (None, ""):
        raise ValueError("every record needs an id")
    values: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        value = data.get(name)
        if name == "authors":
            values[name] = _authors(value)
        elif name == "year":
            values[name] = _year(value)
        else:
            values[name] = "" if value is None else str(value).strip()
    return Record(**values)


# --- normalisers ------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]{0,200}>")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ARTICLE = re.compile(r"^(?:the|a|an) ")


def _fold(text: str) -> str:
    """Casefold and strip diacritics (NFKD, then drop combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ß", "ss")


def normalise_title(title: str) -> str:
    """Casefolded title without HTML tags or entities, diacritics or punctuation, single-spaced.

    >>> normalise_title("The <i>Effect</i> of Café-Based   Care: a Trial.")
    'the effect of cafe based care a trial'
    """
    text = _TAG.sub(" ", html.unescape(html.unescape(title or "")))
    return " ".join(_NON_ALNUM.sub(" ", _fold(text)).split())


def _title_key(normalised: str) -> str:
    """The normalised title without a leading article ("The", "A", "An")."""
    return _ARTICLE.sub("", normalised)


_DOI_PREFIX = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/|^doi:\s*|^https?://", re.I)


def normalise_doi(doi: str) -> str:
    """Lower-case DOI without resolver prefix ("https://doi.org/", "doi:") or trailing
    punctuation; "" when it does not look like a DOI ("10." followed by a prefix and "/").

    >>> normalise_doi(" https://doi.org/10.1136/BMJ.N71. ")
    '10.1136/bmj.n71'
    """
    text = html.unescape((doi or "").strip())
    text = _DOI_PREFIX.sub("", text).strip()
    text = re.sub(r"\s+", "", text).rstrip(".,;")
    text = text.lower()
    return text if re.match(r"^10\.\d{3,9}/\S+$", text) else ""


def normalise_pmid(pmid: str) -> str:
    """Digits of a PubMed id without leading zeros ("PMID: 012345" -> "12345"); "" if none."""
    text = str(pmid or "").strip()
    text = re.sub(r"^(?:pmid|pubmed)\s*:?\s*", "", text, flags=re.I)
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        return ""
    return text.lstrip("0")


_INITIALS = re.compile(r"^(?:[A-Z]\.?){1,3}$|^(?:[A-Z]\.-?){1,3}[A-Z]?\.?$")


def surname(author: str) -> str:
    """The normalised surname of one author: the part before the comma in "Surname, Given";
    without a comma, "Levy M" and "M Levy" give "levy", "Jane Smith" gives "smith".
    Diacritics, case, spaces and punctuation are dropped ("de Lignières" -> "delignieres")."""
    text = _TAG.sub(" ", html.unescape(author or "")).strip()
    if not text:
        return ""
    if "," in text:
        name = text.split(",", 1)[0]
    else:
        tokens = text.split()
        if len(tokens) == 1:
            name = tokens[0]
        elif _INITIALS.match(tokens[-1]):
            name = " ".join(tokens[:-1])  # MEDLINE style "Levy MA"
        else:
            rest = list(tokens)
            while len(rest) > 1 and _INITIALS.match(rest[0]):
                rest.pop(0)
            name = " ".join(rest) if len(rest) < len(tokens) else tokens[-1]
    return _NON_ALNUM.sub("", _fold(name))


def first_author_surname(authors: Sequence[str] | str) -> str:
    """Normalised surname of the first author ("" when there is none)."""
    listed = _authors(authors)
    return surname(listed[0]) if listed else ""


_JOURNAL_STOP = frozenset({"the", "of", "and", "for", "in", "on", "de", "la", "et", "und", "fur"})


def normalise_journal(journal: str) -> str:
    """Casefolded journal name without punctuation, "&" read as "and", leading "The" dropped."""
    text = html.unescape(journal or "").replace("&", " and ")
    return _title_key(" ".join(_NON_ALNUM.sub(" ", _fold(text)).split()))


def _subsequence(short: str, long: str) -> bool:
    """``short`` is ``long`` with letters left out and starts the same ("natl" in "national")."""
    if not short or not long or short[0] != long[0]:
        return False
    position = 0
    for char in short:
        position = long.find(char, position) + 1
        if position == 0:
            return False
    return True


def _abbreviates(abbrev: str, full: str) -> bool:
    """Whether the normalised ``abbrev`` is an abbreviation (ISO 4 / NLM style: each word
    shortened, little words left out) or the acronym of the normalised ``full`` name."""
    short = [t for t in abbrev.split() if t not in _JOURNAL_STOP]
    long = [t for t in full.split() if t not in _JOURNAL_STOP]
    if not short or not long:
        return False
    if len(short) == 1 and len(long) > 1:
        acronym = "".join(t[0] for t in long)
        acronym_all = "".join(t[0] for t in full.split())
        if short[0] in (acronym, acronym_all):
            return True
    position = 0
    for token in short:  # each short word abbreviates a later long word, in order
        while position < len(long) and not _subsequence(token, long[position]):
            position += 1
        if position == len(long):
            return False
        position += 1
    return len(short) >= max(1, len(long) - 1) or len(long) <= 2


def journal_similarity(a: Iterable[str], b: Iterable[str]) -> float | None:
    """Similarity in [0, 1] of two records' journal names (each the full name and/or the
    abbreviation, already normalised); None when either has none. An abbreviation of the
    other's full name counts as a match."""
    left = [x for x in a if x]
    right = [y for y in b if y]
    if not left or not right:
        return None
    best = 0.0
    for x in left:
        for y in right:
            if x == y or _abbreviates(x, y) or _abbreviates(y, x):
                return 1.0
            best = max(best, ratio(x, y) / 100)
    return best


def _start_page(pages: str) -> str:
    text = _fold(pages or "").strip()
    text = re.sub(r"^(?:pp?\.?\s*)", "", text)
    match = re.match(r"[a-z]?\d+[a-z]?|[ivxlc]+\b", text)
    return match.group(0) if match else ""


def _volume(volume: str) -> str:
    return _NON_ALNUM.sub("", _fold(volume or "")).lstrip("0")


_NOTICE = re.compile(
    r"\b(errat(?:um|a)|corrigend(?:um|a)|correction|retract(?:ion|ed)|expression of concern"
    r"|comment(?:ary)?|reply|response to|withdrawn|letter to the editor|addendum)\b"
)


_NOTICE_LABEL = {
    "errat": "erratum",
    "corri": "erratum",
    "corre": "correction",
    "retra": "retraction",
    "expre": "expression of concern",
    "comme": "comment",
    "reply": "reply",
    "respo": "reply",
    "withd": "withdrawal",
    "lette": "letter",
    "adden": "addendum",
}


def _notices(normalised_title: str) -> frozenset[str]:
    """Kinds of notice (erratum, comment, reply, ...) the title announces."""
    return frozenset(_NOTICE_LABEL[m.group(1)[:5]] for m in _NOTICE.finditer(normalised_title))


# --- features and comparison -------------------------------------------------------------


@dataclass(slots=True)
class _Features:
    title: str
    title_sorted: str
    tokens: int
    notices: frozenset[str]
    surnames: tuple[str, ...]
    year: int | None
    journals: tuple[str, ...]
    volume: str
    page: str
    doi: str
    pmid: str


def _features(record: Record) -> _Features:
    title = _title_key(normalise_title(record.title))
    words = title.split()
    surnames = tuple(s for s in (surname(a) for a in record.authors) if s)
    journals = tuple(
        dict.fromkeys(
            j
            for j in (normalise_journal(record.journal), normalise_journal(record.journal_abbrev))
            if j
        )
    )
    return _Features(
        title=title,
        title_sorted=" ".join(sorted(words)),
        tokens=len(words),
        notices=_notices(title),
        surnames=surnames,
        year=record.year,
        journals=journals,
        volume=_volume(record.volume),
        page=_start_page(record.pages),
        doi=normalise_doi(record.doi),
        pmid=normalise_pmid(record.pmid),
    )


def _title_similarity(a: _Features, b: _Features, floor: float = 0.0) -> float:
    if not a.title or not b.title:
        return 0.0
    cutoff = floor * 100
    straight = ratio(a.title, b.title, score_cutoff=cutoff)
    if straight >= 99.999:
        return 1.0
    shuffled = ratio(a.title_sorted, b.title_sorted, score_cutoff=cutoff)
    return max(straight, shuffled) / 100


def _author_similarity(a: _Features, b: _Features) -> float | None:
    if not a.surnames or not b.surnames:
        return None
    first = Indel.normalized_similarity(a.surnames[0], b.surnames[0])
    if first == 1.0 or len(a.surnames) == 1 or len(b.surnames) == 1:
        # One author on a side: is it anywhere in the other's list (order swapped)?
        if len(a.surnames) == 1 and a.surnames[0] in b.surnames[:3]:
            return max(first, 0.9)
        if len(b.surnames) == 1 and b.surnames[0] in a.surnames[:3]:
            return max(first, 0.9)
        return first
    left, right = set(a.surnames), set(b.surnames)
    overlap = len(left & right) / min(len(left), len(right))
    return max(first, overlap)


def _year_similarity(a: _Features, b: _Features) -> float | None:
    if a.year is None or b.year is None:
        return None
    gap = abs(a.year - b.year)
    return 1.0 if gap == 0 else 0.8 if gap == 1 else 0.0


def _equal(x: str, y: str) -> float | None:
    if not x or not y:
        return None
    return 1.0 if x == y else 0.0


@dataclass(frozen=True, slots=True)
class PairEvidence:
    """Why two records were linked: the score, the reason and each field's similarity
    (None where a field is missing on either side), with notes on guards that applied."""

    a: str
    b: str
    score: float
    reason: str
    fields: Mapping[str, float | None]
    notes: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()

    @property
    def corroborated(self) -> bool:
        """At least one field beside the title agrees."""
        return any(
            value is not None and value >= AGREES
            for name, value in self.fields.items()
            if name != "title"
        )


def _compare(
    a: _Features, b: _Features, ida: str, idb: str, reason: str, title: float | None = None
) -> PairEvidence:
    sims: dict[str, float | None] = {
        "title": _title_similarity(a, b) if title is None else title,
        "authors": _author_similarity(a, b),
        "year": _year_similarity(a, b),
        "journal": journal_similarity(a.journals, b.journals),
        "volume": _equal(a.volume, b.volume),
        "pages": _equal(a.page, b.page),
    }
    if not a.title or not b.title:
        sims["title"] = None
    total = weight = 0.0
    for name, value in sims.items():
        if value is not None:
            total += WEIGHTS[name] * value
            weight += WEIGHTS[name]
    score = total / weight if weight else 0.0
    notes: list[str] = []
    conflicts: list[str] = []
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        score *= YEAR_GAP_FACTOR
        notes.append(f"years differ by {abs(a.year - b.year)}")
    if a.notices != b.notices:
        score *= NOTICE_FACTOR
        differing = sorted(a.notices ^ b.notices)
        notes.append("only one is a notice (" + ", ".join(differing) + ")")
    if sims["volume"] == 0.0:
        conflicts.append("volume differs")
    if sims["pages"] == 0.0:
        conflicts.append("first page differs")
    if a.doi and b.doi and a.doi != b.doi:
        conflicts.append("DOIs differ")
    if a.pmid and b.pmid and a.pmid != b.pmid:
        conflicts.append("PMIDs differ")
    if conflicts:
        score *= CONFLICT_FACTOR
    agreeing = sum(
        1
        for name, value in sims.items()
        if name != "title" and value is not None and value >= AGREES
    )
    if min(a.tokens, b.tokens) < SHORT_TITLE_TOKENS and agreeing < 2:
        score *= SHORT_TITLE_FACTOR
        notes.append("short title with little else agreeing")
    if reason in ("doi", "pmid"):
        if (sims["title"] or 0.0) < 0.6 and a.title and b.title:
            conflicts.append(f"same {reason.upper()} but titles differ")
        score = 1.0
    return PairEvidence(
        a=ida,
        b=idb,
        score=round(score, 4),
        reason=reason,
        fields={k: None if v is None else round(v, 4) for k, v in sims.items()},
        notes=tuple(notes),
        conflicts=tuple(conflicts),
    )


def compare(a: Record | Mapping[str, Any], b: Record | Mapping[str, Any]) -> PairEvidence:
    """Score one pair of records (reason "fuzzy"), as ``find_duplicates`` does."""
    left, right = as_record(a), as_record(b)
    return _compare(_features(left), _features(right), left.id, right.id, "fuzzy")


# --- grouping ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Records taken to be one publication.

    ``score`` is the weakest link's score (1.0 for groups joined only by DOI/PMID);
    ``reason`` is that link's reason; ``pairs`` are the links that joined the group (a
    spanning tree, ``len(ids) - 1`` of them) with their field similarities; ``conflicts``
    lists disagreements (volume, first page, DOI) that rule out merging without a person;
    ``auto`` says whether :func:`auto_merge` takes it; ``primary`` is the id of the most
    complete member (see :func:`choose_primary`).
    """

    ids: tuple[str, ...]
    score: float
    reason: str
    pairs: tuple[PairEvidence, ...]
    conflicts: tuple[str, ...]
    auto: bool
    primary: str

    def __len__(self) -> int:
        return len(self.ids)


class _UnionFind:
    """Union-find with cannot-link sets: each root keeps its members' DOIs and PMIDs."""

    def __init__(self, feats: Sequence[_Features]) -> None:
        self.parent = list(range(len(feats)))
        self.dois: dict[int, set[str]] = {i: {f.doi} for i, f in enumerate(feats) if f.doi}
        self.pmids: dict[int, set[str]] = {i: {f.pmid} for i, f in enumerate(feats) if f.pmid}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def may_join(self, ra: int, rb: int) -> bool:
        for sets in (self.dois, self.pmids):
            left, right = sets.get(ra), sets.get(rb)
            if left and right and left.isdisjoint(right):
                return False
        return True

    def union(self, ra: int, rb: int) -> None:
        if ra == rb:
            return
        self.parent[rb] = ra
        for sets in (self.dois, self.pmids):
            moved = sets.pop(rb, None)
            if moved:
                sets.setdefault(ra, set()).update(moved)


def _sorted_passes(feats: Sequence[_Features]) -> list[list[int]]:
    """Orders of the records with a title for the sorted-neighbourhood passes."""
    titled = [i for i, f in enumerate(feats) if f.title]
    keys = (
        lambda i: feats[i].title,
        lambda i: feats[i].title[::-1],
        lambda i: (feats[i].surnames[0] if feats[i].surnames else "~") + " " + feats[i].title,
    )
    return [sorted(titled, key=key) for key in keys]


def _candidates(feats: Sequence[_Features], window: int) -> Iterator[tuple[int, int]]:
    for order in _sorted_passes(feats):
        for position, i in enumerate(order):
            for j in order[position + 1 : position + window]:
                yield (i, j) if i < j else (j, i)


_COMPLETENESS = (
    ("doi", 3),
    ("pmid", 2),
    ("title", 2),
    ("authors", 2),
    ("year", 1),
    ("journal", 1),
    ("journal_abbrev", 1),
    ("volume", 1),
    ("issue", 1),
    ("pages", 1),
)


def _completeness(record: Record) -> tuple[int, int, int]:
    points = sum(weight for name, weight in _COMPLETENESS if getattr(record, name))
    return points, len(record.authors), len(record.title)


def choose_primary(records: Iterable[Record | Mapping[str, Any]]) -> Record:
    """The most complete record: valid DOI and PMID first, then title, authors and the rest;
    ties go to more authors, then the longer title, then the first given."""
    listed = [as_record(r) for r in records]
    if not listed:
        raise ValueError("choose_primary needs at least one record")
    best = listed[0]
    best_key = _completeness(best)
    for record in listed[1:]:
        key = _completeness(record)
        if key > best_key:
            best, best_key = record, key
    return best


def find_duplicates(
    records: Iterable[Record | Mapping[str, Any]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    auto_threshold: float = DEFAULT_AUTO_THRESHOLD,
    window: int = DEFAULT_WINDOW,
) -> list[DuplicateGroup]:
    """Groups of two or more records taken to be the same publication, largest score first.

    Records with the same normalised DOI or PMID are joined first; then candidate pairs from
    the sorted-neighbourhood blocking (``window`` records ahead in each of three sorted orders)
    scoring at least ``threshold`` are joined, best first, unless that would put two different
    DOIs (or PMIDs) in one group. A group is ``auto`` when its weakest link scores at least
    ``auto_threshold``, no pair has a conflict and every fuzzy link agrees on a field beside the
    title. Ids must be unique."""
    if not 0.0 < threshold <= 1.0 or not 0.0 < auto_threshold <= 1.0:
        raise ValueError("thresholds must be in (0, 1]")
    if window < 2:
        raise ValueError("window must be at least 2")
    listed = [as_record(r) for r in records]
    ids = [r.id for r in listed]
    if len(set(ids)) != len(ids):
        repeated = sorted(k for k, v in Counter(ids).items() if v > 1)[:5]
        raise ValueError(f"record ids must be unique; repeated: {', '.join(repeated)}")
    feats = [_features(r) for r in listed]
    forest = _UnionFind(feats)
    links: list[tuple[int, int, PairEvidence]] = []

    # 1. exact identifiers
    for reason in ("doi", "pmid"):
        by_key: dict[str, list[int]] = defaultdict(list)
        for i, f in enumerate(feats):
            key = f.doi if reason == "doi" else f.pmid
            if key:
                by_key[key].append(i)
        for same in by_key.values():
            for j in same[1:]:
                i = same[0]
                ri, rj = forest.find(i), forest.find(j)
                if ri == rj:
                    continue
                forest.union(ri, rj)
                links.append((i, j, _compare(feats[i], feats[j], ids[i], ids[j], reason)))

    # 2. fuzzy, on blocked candidates; cheap title filter first
    floor = min(TITLE_FLOOR, threshold)
    scored: dict[tuple[int, int], PairEvidence] = {}
    for i, j in _candidates(feats, window):
        if (i, j) in scored:
            continue
        fi, fj = feats[i], feats[j]
        if fi.doi and fj.doi and fi.doi != fj.doi:
            continue
        if fi.pmid and fj.pmid and fi.pmid != fj.pmid:
            continue
        title = _title_similarity(fi, fj, floor)
        if title < floor:
            continue
        evidence = _compare(fi, fj, ids[i], ids[j], "fuzzy", title)
        if evidence.score >= threshold:
            scored[(i, j)] = evidence
    for (i, j), evidence in sorted(scored.items(), key=lambda item: -item[1].score):
        ri, rj = forest.find(i), forest.find(j)
        if ri == rj or not forest.may_join(ri, rj):
            continue
        forest.union(ri, rj)
        links.append((i, j, evidence))

    # 3. collect groups
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(listed)):
        members[forest.find(i)].append(i)
    group_links: dict[int, list[PairEvidence]] = defaultdict(list)
    for i, _j, evidence in links:
        group_links[forest.find(i)].append(evidence)
    groups: list[DuplicateGroup] = []
    for root, indices in members.items():
        if len(indices) < 2:
            continue
        pairs = tuple(group_links[root])
        weakest = min(pairs, key=lambda p: p.score)
        reason = "fuzzy" if any(p.reason == "fuzzy" for p in pairs) else weakest.reason
        conflicts = tuple(dict.fromkeys(c for p in pairs for c in p.conflicts))
        auto = (
            weakest.score >= auto_threshold
            and not conflicts
            and all(p.corroborated for p in pairs if p.reason == "fuzzy")
        )
        groups.append(
            DuplicateGroup(
                ids=tuple(ids[i] for i in indices),
                score=weakest.score,
                reason=reason,
                pairs=pairs,
                conflicts=conflicts,
                auto=auto,
                primary=choose_primary(listed[i] for i in indices).id,
            )
        )
    groups.sort(key=lambda g: (-g.score, g.ids))
    return groups


def auto_merge(
    groups: Iterable[DuplicateGroup], *, threshold: float | None = None
) -> list[DuplicateGroup]:
    """The groups safe to merge without a person: those marked ``auto`` by
    ``find_duplicates``, or, with ``threshold``, those at or above it that have no conflicts
    and whose fuzzy links all agree on a field beside the title."""
    if threshold is None:
        return [g for g in groups if g.auto]
    return [
        g
        for g in groups
        if g.score >= threshold
        and not g.conflicts
        and all(p.corroborated for p in g.pairs if p.reason == "fuzzy")
    ]


@dataclass(frozen=True, slots=True)
class SourceCount:
    """Records from one source before de-duplication and kept after it."""

    before: int
    after: int

    @property
    def removed(self) -> int:
        return self.before - self.after


def source_counts(
    records: Iterable[Record | Mapping[str, Any]], groups: Iterable[DuplicateGroup]
) -> dict[str, SourceCount]:
    """Per source (database name; "" when unknown), records before and after removing the
    non-primary members of ``groups``, with a ``"total"`` entry last. The total's ``removed``
    is PRISMA's "duplicate records removed"."""
    listed = [as_record(r) for r in records]
    removed: set[str] = set()
    for group in groups:
        removed.update(i for i in group.ids if i != group.primary)
    before: Counter[str] = Counter(r.source for r in listed)
    after: Counter[str] = Counter(r.source for r in listed if r.id not in removed)
    counts = {name: SourceCount(before[name], after[name]) for name in sorted(before)}
    counts["total"] = SourceCount(sum(before.values()), sum(after.values()))
    return counts


@dataclass(frozen=True, slots=True)
class SideBySideRow:
    """One field of a duplicate group, with each member's value, for a review page."""

    field: str
    values: tuple[str, ...]
    differs: bool = False


def side_by_side(
    group: DuplicateGroup, records: Iterable[Record | Mapping[str, Any]]
) -> list[SideBySideRow]:
    """The group's members field by field (in ``group.ids`` order), marking the fields whose
    normalised values differ, so a reviewer can confirm or split the group."""
    wanted = set(group.ids)
    by_id = {r.id: r for r in (as_record(x) for x in records) if r.id in wanted}
    members = [by_id[i] for i in group.ids]
    rows: list[SideBySideRow] = []
    for name in _RECORD_FIELDS:
        values = []
        for record in members:
            value = getattr(record, name)
            if name == "authors":
                value = "; ".join(value)
            values.append("" if value is None else str(value))
        compared = {
            "title": normalise_title,
            "doi": normalise_doi,
            "pmid": normalise_pmid,
            "journal": normalise_journal,
        }.get(name, lambda v: v.strip().casefold())
        differs = len({compared(v) for v in values if v}) > 1
        rows.append(SideBySideRow(field=name, values=tuple(values), differs=differs))
    return rows
