"""De-duplication: pairwise precision, recall and F1 on labelled duplicate sets, time and memory.

The labelled sets are built from the real search results shipped beside the project in
``../shared/data/screening/*.csv`` (relative to the project root; see its README): titles,
authors, years and PMIDs of 17 systematic reviews' searches. Records sharing a PMID, or linked
by the datasets' own ``duplicate_record_id`` column, are one publication ("entity").

Those files have no journal, volume, pages or DOI, so each entity is given a journal (a real
journal name and its NLM abbreviation, from the table below), volume, issue, first/last page
and, for 75%, a DOI under the 10.5555 test prefix. Each record is put in a database
(MEDLINE, Embase, ...); then, seeded, duplicates are injected for some entities, as another
database's export of the same paper, each with a random mix of realistic variants:

* title case changed (upper, lower, title case), punctuation changed (full stop, colon to
  dash, hyphens, HTML italics or entities), a leading "The"/"A"/"An" dropped, 1-2 typos;
* DOI missing or written as a URL in capitals, PMID missing (as in Embase and CINAHL);
* journal abbreviated (NLM abbreviation instead of the full name);
* author order of the first two swapped, author list cut to three, "Levy M" (MEDLINE) style;
* year one off (online-first vs print), year missing, last page abbreviated ("123-9"),
  pages missing.

Hard negatives (distinct entities that look alike) are injected too: erratum, correction,
comment and reply notices that repeat a paper's title (same authors and journal, their own
pages), and "companion" papers with the same title and authors two or three years apart in
another journal (a protocol and its results).

Methods, all on the same records in one run: a naive baseline (exact match of the lower-cased
title), exact DOI/PMID only, ours (``find_duplicates``; groups for review and ``auto_merge``),
and, when installed, ``dedupe`` (3.x), trained on labelled pairs from a separate set built
from two held-out source files with another seed (those files are left out of the evaluation
set). The same set is scored again with only the fields the CSVs really have (title,
authors, year, PMID). Finally ~100,000 records (distinct synthetic entities made by
recombining halves of real titles, plus injected duplicates) for time and peak memory
(``tracemalloc``, measured in a second, separate run as it slows Python down).

Run: .venv/bin/python bench/dedup_precision_recall.py [--seed N] [--no-dedupe] [--skip-large]
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import re
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from math import comb
from pathlib import Path
from typing import Any

from steppingstones.evidence.dedup import (
    Record,
    auto_merge,
    find_duplicates,
    normalise_doi,
    normalise_journal,
    normalise_pmid,
    normalise_title,
    surname,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "screening"
HELD_OUT = ("Cohen_2006_ACEInhibitors.csv", "Bannach-Brown_2019.csv")  # dedupe's training
DATABASES = ("MEDLINE", "Embase", "CINAHL", "PsycINFO", "CENTRAL", "Web of Science", "Scopus")

# Real journals with their NLM (or ISO 4) abbreviations.
JOURNALS = (
    ("The Lancet", "Lancet"),
    ("BMJ", "BMJ"),
    ("Journal of the American Medical Association", "JAMA"),
    ("The New England Journal of Medicine", "N Engl J Med"),
    ("American Journal of Obstetrics and Gynecology", "Am J Obstet Gynecol"),
    ("Obstetrics and Gynecology", "Obstet Gynecol"),
    ("BJOG: An International Journal of Obstetrics and Gynaecology", "BJOG"),
    ("Drug and Alcohol Dependence", "Drug Alcohol Depend"),
    ("Addiction", "Addiction"),
    ("Journal of Substance Abuse Treatment", "J Subst Abuse Treat"),
    ("Pediatrics", "Pediatrics"),
    (
        "Archives of Disease in Childhood: Fetal and Neonatal Edition",
        "Arch Dis Child Fetal Neonatal Ed",
    ),
    ("Journal of Perinatology", "J Perinatol"),
    ("Maternal and Child Health Journal", "Matern Child Health J"),
    ("Birth", "Birth"),
    ("Midwifery", "Midwifery"),
    ("Women and Birth", "Women Birth"),
    ("Journal of Clinical Psychiatry", "J Clin Psychiatry"),
    ("American Journal of Psychiatry", "Am J Psychiatry"),
    ("Archives of General Psychiatry", "Arch Gen Psychiatry"),
    ("Clinical Pharmacology and Therapeutics", "Clin Pharmacol Ther"),
    ("British Journal of Clinical Pharmacology", "Br J Clin Pharmacol"),
    ("Annals of Internal Medicine", "Ann Intern Med"),
    ("Archives of Internal Medicine", "Arch Intern Med"),
    ("Circulation", "Circulation"),
    ("Hypertension", "Hypertension"),
    ("Journal of Hypertension", "J Hypertens"),
    ("American Journal of Cardiology", "Am J Cardiol"),
    ("European Heart Journal", "Eur Heart J"),
    ("Diabetes Care", "Diabetes Care"),
    ("Pain", "Pain"),
    ("Headache", "Headache"),
    ("Cephalalgia", "Cephalalgia"),
    ("Journal of Allergy and Clinical Immunology", "J Allergy Clin Immunol"),
    ("Gastroenterology", "Gastroenterology"),
    ("Alimentary Pharmacology and Therapeutics", "Aliment Pharmacol Ther"),
    ("Journal of Urology", "J Urol"),
    ("Neuropsychopharmacology", "Neuropsychopharmacology"),
    ("Psychopharmacology", "Psychopharmacology (Berl)"),
    ("Behavioural Brain Research", "Behav Brain Res"),
    ("Information and Software Technology", "Inf Softw Technol"),
    ("IEEE Transactions on Software Engineering", "IEEE Trans Softw Eng"),
    ("Journal of Health Services Research and Policy", "J Health Serv Res Policy"),
    ("Implementation Science", "Implement Sci"),
    ("Social Science and Medicine", "Soc Sci Med"),
    ("Journal of the National Cancer Institute", "J Natl Cancer Inst"),
    ("Proceedings of the National Academy of Sciences", "Proc Natl Acad Sci U S A"),
)


# --- the source data ---------------------------------------------------------------------


@dataclass
class Base:
    entity: str
    dataset: str
    title: str
    authors: list[str]
    year: int | None
    pmid: str


def _split_authors(text: str) -> list[str]:
    """The CSVs' author strings ("M Levy; T Azaz-Livshits" or "R. L. Whistler and W. C.
    Lake") as "Surname, Given" names."""
    text = (text or "").strip()
    if not text:
        return []
    parts = re.split(r";\s*|,\s*(?:and\s+)?|\s+and\s+", text)
    names = []
    for part in parts:
        tokens = part.split()
        if not tokens:
            continue
        given = []
        while len(tokens) > 1 and re.fullmatch(r"(?:[A-Z]\.?-?){1,3}", tokens[0]):
            given.append(tokens.pop(0))
        names.append(" ".join(tokens) + (", " + " ".join(given) if given else ""))
    return names


def _int_year(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def load_base(files: Iterable[Path]) -> list[Base]:
    """One Base per CSV row; rows sharing a PMID or linked by duplicate_record_id share an
    entity label."""
    rows: list[Base] = []
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links: list[tuple[str, str]] = []
    for path in files:
        name = path.stem
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                title = (row.get("title") or "").strip()
                if not title:
                    continue
                pmid = normalise_pmid(row.get("pubmedID") or "")
                own = f"{name}:{row['record_id']}"
                if pmid:
                    links.append((own, f"pmid:{pmid}"))
                dup = (row.get("duplicate_record_id") or "").split(".")[0]
                if dup:
                    links.append((own, f"{name}:{dup}"))
                rows.append(
                    Base(
                        own,
                        name,
                        title,
                        _split_authors(row.get("authors") or ""),
                        _int_year(row.get("year")),
                        pmid,
                    )
                )
    for a, b in links:
        parent[find(a)] = find(b)
    for base in rows:
        base.entity = find(base.entity)
    return rows


# --- variants ------------------------------------------------------------------------------


@dataclass
class Item:
    record: Record
    entity: str
    variants: tuple[str, ...] = ()
    kind: str = "original"  # original | duplicate | notice | companion


@dataclass
class Meta:
    journal: tuple[str, str]
    volume: str
    issue: str
    first: int
    last: int
    doi: str


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 8:
        return text
    chars = list(text)
    for _ in range(rng.choice((1, 1, 2))):
        k = rng.randrange(1, len(chars) - 1)
        action = rng.randrange(4)
        if action == 0:
            del chars[k]
        elif action == 1:
            chars[k], chars[k + 1] = chars[k + 1], chars[k]
        elif action == 2 and chars[k].isalpha():
            chars[k] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        else:
            chars.insert(k, rng.choice("aeinorst"))
    return "".join(chars)


def _punctuation(title: str, rng: random.Random) -> str:
    options: list[Callable[[str], str]] = [
        lambda t: t.rstrip(".") if t.endswith(".") else t + ".",
        lambda t: t.replace(": ", " - "),
        lambda t: t.replace("-", " "),
        lambda t: t.replace(",", ""),
        lambda t: re.sub(r"(\w{5,})", r"<i>\1</i>", t, count=1),
        lambda t: t.replace(" and ", " &amp; ", 1),
        lambda t: f"[{t.rstrip('.')}]",
    ]
    return rng.choice(options)(title)


def _medline(name: str) -> str:
    if ", " not in name:
        return name
    last, given = name.split(", ", 1)
    return f"{last} {re.sub(r'[^A-Z]', '', given)}"


def variant(
    original: Record, meta: Meta, rng: random.Random, new_id: str
) -> tuple[Record, tuple[str, ...]]:
    title = original.title
    applied: list[str] = []
    if rng.random() < 0.3:
        title = rng.choice((str.upper, str.lower, str.title))(title)
        applied.append("case")
    if rng.random() < 0.4:
        title = _punctuation(title, rng)
        applied.append("punctuation")
    article = re.match(r"^(The|A|An) ", title, flags=re.I)
    if article and rng.random() < 0.5:
        title = title[article.end() :]
        applied.append("article dropped")
    if rng.random() < 0.25:
        title = _typo(title, rng)
        applied.append("typo")
    doi = original.doi
    if doi and rng.random() < 0.5:
        doi = ""
        applied.append("no DOI")
    elif doi and rng.random() < 0.3:
        doi = "https://doi.org/" + doi.upper()
        applied.append("DOI as URL")
    pmid = original.pmid
    if pmid and rng.random() < 0.4:
        pmid = ""
        applied.append("no PMID")
    journal, abbrev = original.journal, original.journal_abbrev
    if rng.random() < 0.5:
        journal, abbrev = "", meta.journal[1]
        applied.append("journal abbreviated")
    authors = list(original.authors)
    if len(authors) >= 2 and rng.random() < 0.2:
        authors[0], authors[1] = authors[1], authors[0]
        applied.append("authors swapped")
    if len(authors) > 3 and rng.random() < 0.1:
        authors = authors[:3]
        applied.append("authors cut")
    if authors and rng.random() < 0.3:
        authors = [_medline(a) for a in authors]
        applied.append("MEDLINE names")
    year = original.year
    if year is not None and rng.random() < 0.1:
        year += rng.choice((-1, 1))
        applied.append("year +-1")
    elif year is not None and rng.random() < 0.05:
        year = None
        applied.append("no year")
    pages = original.pages
    if pages and rng.random() < 0.15:
        pages = ""
        applied.append("no pages")
    elif rng.random() < 0.3:
        last = str(meta.last)
        first = str(meta.first)
        shortened = last[len(last) - len(first) :].lstrip("0") if len(last) == len(first) else last
        pages = f"{first}-{shortened or last}"
        applied.append("pages short")
    source = rng.choice([d for d in DATABASES if d != original.source])
    return (
        replace(
            original,
            id=new_id,
            title=title,
            authors=tuple(authors),
            year=year,
            journal=journal,
            journal_abbrev=abbrev,
            pages=pages,
            doi=doi,
            pmid=pmid,
            source=source,
        ),
        tuple(applied),
    )


NOTICES = ("Erratum: {}", "Correction to: {}", 'Comment on "{}"', "Reply to: {}", "{} [Retraction]")


def _meta(rng: random.Random, serial: int, doi_share: float = 0.75) -> Meta:
    first = rng.randrange(1, 2000)
    return Meta(
        journal=rng.choice(JOURNALS),
        volume=str(rng.randrange(1, 200)),
        issue=str(rng.randrange(1, 13)),
        first=first,
        last=first + rng.randrange(2, 16),
        doi=f"10.5555/ssb.{serial}" if rng.random() < doi_share else "",
    )


def _record(base: Base, meta: Meta, new_id: str, source: str, full: bool) -> Record:
    return Record(
        id=new_id,
        title=base.title,
        authors=tuple(base.authors),
        year=base.year,
        journal=meta.journal[0] if full else "",
        journal_abbrev=meta.journal[1] if full else "",
        volume=meta.volume if full else "",
        issue=meta.issue if full else "",
        pages=f"{meta.first}-{meta.last}" if full else "",
        doi=meta.doi if full else "",
        pmid=base.pmid,
        source=source,
    )


def build(
    bases: Sequence[Base],
    seed: int,
    *,
    dup_rate: tuple[float, float, float] = (0.30, 0.10, 0.03),
    notice_rate: float = 0.01,
    companion_rate: float = 0.006,
) -> list[Item]:
    """Records of the bases (one per CSV row) plus injected duplicates and hard negatives."""
    rng = random.Random(seed)
    items: list[Item] = []
    metas: dict[str, Meta] = {}
    serial = 0
    for base in bases:
        if base.entity not in metas:
            serial += 1
            metas[base.entity] = _meta(rng, serial)
        meta = metas[base.entity]
        full = rng.random() < 0.85  # 15% of exports without journal, volume, pages, DOI
        record = _record(base, meta, f"r{len(items)}", rng.choice(DATABASES), full)
        if full and rng.random() < 0.4:
            record = replace(record, journal_abbrev="")
        items.append(Item(record, base.entity))
    originals = list(items)
    for item in originals:
        meta = metas[item.entity]
        draw = rng.random()
        copies = (
            3 if draw < dup_rate[2] else 2 if draw < dup_rate[1] else 1 if draw < dup_rate[0] else 0
        )
        for _ in range(copies):
            record, applied = variant(item.record, meta, rng, f"r{len(items)}")
            items.append(Item(record, item.entity, applied, "duplicate"))
        if rng.random() < notice_rate:
            serial += 1
            other = _meta(rng, serial, 0.5)
            pattern = rng.choice(NOTICES)
            title = pattern.format(item.record.title.rstrip("."))
            record = replace(
                item.record,
                id=f"r{len(items)}",
                title=title,
                year=(item.record.year or 2000) + rng.choice((0, 0, 1)),
                volume=other.volume,
                pages=str(other.first),
                doi=other.doi,
                pmid="",
                source=rng.choice(DATABASES),
            )
            items.append(Item(record, f"notice:{serial}", (pattern.split(" ")[0],), "notice"))
        if rng.random() < companion_rate:
            serial += 1
            other = _meta(rng, serial, 0.5)
            record = replace(
                item.record,
                id=f"r{len(items)}",
                year=(item.record.year or 2000) + rng.choice((-3, -2, 2, 3)),
                journal=other.journal[0],
                journal_abbrev=other.journal[1],
                volume=other.volume,
                pages=f"{other.first}-{other.last}",
                doi=other.doi,
                pmid="",
                source=rng.choice(DATABASES),
            )
            items.append(Item(record, f"companion:{serial}", ("companion",), "companion"))
    return items


def synthetic_bases(bases: Sequence[Base], count: int, seed: int) -> list[Base]:
    """``count`` distinct made-up entities: the first half of one real title's words and the
    second half of another's, authors and year of two more."""
    rng = random.Random(seed)
    seen = {normalise_title(b.title) for b in bases}
    made: list[Base] = []
    while len(made) < count:
        a, b, c, d = (rng.choice(bases) for _ in range(4))
        left, right = a.title.split(), b.title.split()
        title = " ".join(left[: max(1, len(left) // 2)] + right[len(right) // 2 :])
        key = normalise_title(title)
        if key in seen or len(key.split()) < 4:
            continue
        seen.add(key)
        made.append(Base(f"synthetic:{len(made)}", "synthetic", title, c.authors, d.year, ""))
    return made


def strip_to_csv_fields(items: Sequence[Item]) -> list[Item]:
    """The same records with only what the source CSVs have: title, authors, year, PMID."""
    return [
        replace(
            item,
            record=Record(
                id=item.record.id,
                title=item.record.title,
                authors=item.record.authors,
                year=item.record.year,
                pmid=item.record.pmid,
                source=item.record.source,
            ),
        )
        for item in items
    ]


# --- scoring -------------------------------------------------------------------------------


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    by_variant: dict[str, tuple[int, int]] = field(default_factory=dict)


def pairwise(items: Sequence[Item], clusters: Iterable[Iterable[str]]) -> Scores:
    entity = {item.record.id: item.entity for item in items}
    true_pairs = sum(comb(n, 2) for n in Counter(entity.values()).values())
    predicted = correct = 0
    cluster_of: dict[str, int] = {}
    for number, members in enumerate(clusters):
        listed = list(members)
        for member in listed:
            cluster_of[member] = number
        predicted += comb(len(listed), 2)
        correct += sum(comb(n, 2) for n in Counter(entity[m] for m in listed).values())
    precision = correct / predicted if predicted else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # recall per variant kind, over (original, duplicate) pairs
    original: dict[str, str] = {}
    for item in items:
        if item.kind == "original":
            original.setdefault(item.entity, item.record.id)
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        if item.kind != "duplicate":
            continue
        first = original[item.entity]
        hit = first in cluster_of and cluster_of.get(item.record.id) == cluster_of[first]
        for kind in item.variants or ("none",):
            found[kind][0] += int(hit)
            found[kind][1] += 1
    return Scores(
        precision,
        recall,
        f1,
        true_pairs,
        predicted,
        correct,
        {k: (v[0], v[1]) for k, v in found.items()},
    )


def false_merges(items: Sequence[Item], clusters: Iterable[Iterable[str]]) -> Counter[str]:
    """Which kinds of hard negative ended up in a group with another entity."""
    kind = {item.record.id: item for item in items}
    out: Counter[str] = Counter()
    for members in clusters:
        listed = list(members)
        entities = {kind[m].entity for m in listed}
        if len(entities) > 1:
            for m in listed:
                if kind[m].kind in ("notice", "companion"):
                    out[kind[m].kind] += 1
    return out


# --- methods -------------------------------------------------------------------------------


def naive_exact_title(records: Sequence[Record]) -> list[list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for r in records:
        groups[r.title.strip().lower()].append(r.id)
    return [g for g in groups.values() if len(g) > 1]


def exact_ids(records: Sequence[Record]) -> list[list[str]]:
    parent = {r.id: r.id for r in records}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key in (lambda r: normalise_doi(r.doi), lambda r: normalise_pmid(r.pmid)):
        first: dict[str, str] = {}
        for r in records:
            k = key(r)
            if k:
                parent[find(r.id)] = find(first.setdefault(k, r.id))
    groups: dict[str, list[str]] = defaultdict(list)
    for r in records:
        groups[find(r.id)].append(r.id)
    return [g for g in groups.values() if len(g) > 1]


def _dedupe_row(r: Record) -> dict[str, Any]:
    journal = normalise_journal(r.journal_abbrev or r.journal)
    return {
        "title": normalise_title(r.title) or None,
        "first_author": surname(r.authors[0]) if r.authors else None,
        "authors": " ".join(surname(a) for a in r.authors) or None,
        "year": str(r.year) if r.year else None,
        "journal": journal or None,
        "volume": r.volume or None,
        "pages": (r.pages.split("-")[0] if r.pages else "") or None,
        "doi": normalise_doi(r.doi) or None,
        "pmid": normalise_pmid(r.pmid) or None,
    }


def train_dedupe(train: Sequence[Item], pairs: int = 400) -> Any:
    """dedupe trained on labelled pairs from ``train``: ``pairs`` matches, and as many distinct
    pairs (hard negatives, a notice or companion with its paper, then random pairs). Its
    ``prepare_training`` is given only the records in those pairs: on all of a few thousand
    records it needed over 4 GB (and 23 GB on 7,000)."""
    import dedupe  # a peer, only for this benchmark
    from dedupe import variables as v

    fields = [
        v.String("title"),
        v.ShortString("first_author", has_missing=True),
        v.ShortString("year", has_missing=True),
        v.ShortString("journal", has_missing=True),
        v.ShortString("volume", has_missing=True),
        v.ShortString("pages", has_missing=True),
        v.Exact("doi", has_missing=True),
        v.Exact("pmid", has_missing=True),
    ]
    rng = random.Random(7)
    by_entity: dict[str, list[str]] = defaultdict(list)
    for item in train:
        by_entity[item.entity].append(item.record.id)
    matches = [(ids[0], j) for ids in by_entity.values() if len(ids) > 1 for j in ids[1:]]
    rng.shuffle(matches)
    matches = matches[:pairs]
    source_of: dict[str, str] = {}
    for item in train:
        if item.kind == "original":
            source_of.setdefault(normalise_title(item.record.title), item.record.id)
    hard: list[tuple[str, str]] = []
    for item in train:
        if item.kind == "companion":
            other = source_of.get(normalise_title(item.record.title))
            if other:
                hard.append((other, item.record.id))
        elif item.kind == "notice":
            title = normalise_title(item.record.title)
            for key, other in source_of.items():
                if key and key in title:
                    hard.append((other, item.record.id))
                    break
    ids = [item.record.id for item in train]
    entity_of = {item.record.id: item.entity for item in train}
    distinct = hard[: pairs // 2]
    while len(distinct) < pairs:
        a, b = rng.sample(ids, 2)
        if entity_of[a] != entity_of[b]:
            distinct.append((a, b))
    by_id = {item.record.id: item.record for item in train}
    used = {i for pair in (*matches, *distinct) for i in pair}
    data = {i: _dedupe_row(by_id[i]) for i in used}
    deduper = dedupe.Dedupe(fields, num_cores=1)
    deduper.prepare_training(data, sample_size=300)
    deduper.mark_pairs(
        {
            "match": [(data[a], data[b]) for a, b in matches],
            "distinct": [(data[a], data[b]) for a, b in distinct],
        }
    )
    deduper.train(index_predicates=False)  # its TF-IDF index predicates need much memory
    return deduper


def run_dedupe(deduper: Any, records: Sequence[Record]) -> list[list[str]]:
    data = {r.id: _dedupe_row(r) for r in records}
    return [list(ids) for ids, _scores in deduper.partition(data, threshold=0.5) if len(ids) > 1]


# --- the run -------------------------------------------------------------------------------


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def row(name: str, scores: Scores, seconds: float, extra: str = "") -> str:
    return (
        f"| {name} | {scores.precision:.4f} | {scores.recall:.4f} | {scores.f1:.4f} | "
        f"{scores.predicted_pairs:,} | {scores.correct_pairs:,} | {seconds:.2f} s | {extra} |"
    )


HEADER = (
    "| method | precision | recall | F1 | predicted pairs | correct | time | note |\n"
    "|---|---|---|---|---|---|---|---|"
)


def evaluate(label: str, items: Sequence[Item], deduper: Any | None) -> None:
    records = [item.record for item in items]
    true_pairs = sum(comb(n, 2) for n in Counter(i.entity for i in items).values())
    print(f"\n### {label}: {len(records):,} records, {true_pairs:,} true duplicate pairs\n")
    print(HEADER)
    t, naive = timed(lambda: naive_exact_title(records))
    naive_scores = pairwise(items, naive)
    print(row("naive exact title", naive_scores, t))
    t, exact = timed(lambda: exact_ids(records))
    print(row("exact DOI/PMID only", pairwise(items, exact), t))
    t, groups = timed(lambda: find_duplicates(records))
    review = pairwise(items, (g.ids for g in groups))
    auto = [g.ids for g in auto_merge(groups)]
    auto_scores = pairwise(items, auto)
    wrong = false_merges(items, (g.ids for g in groups))
    print(
        row(
            "ours, groups for review",
            review,
            t,
            f"{len(groups):,} groups; hard negatives grouped: {dict(wrong) or 0}",
        )
    )
    wrong_auto = false_merges(items, auto)
    print(
        row(
            "ours, auto-merge only",
            auto_scores,
            t,
            f"{len(auto):,} groups; hard negatives merged: {dict(wrong_auto) or 0}",
        )
    )
    if deduper is not None:
        t, clusters = timed(lambda: run_dedupe(deduper, records))
        print(row("dedupe 3 (trained)", pairwise(items, clusters), t, f"{len(clusters):,} groups"))
    print(
        f"\nF1 ratio ours (review) / naive exact title: "
        f"{review.f1 / naive_scores.f1 if naive_scores.f1 else float('inf'):.2f}x; "
        f"recall ratio {review.recall / naive_scores.recall:.2f}x\n"
    )
    print("Recall of (original, duplicate) pairs by injected variant, ours for review / auto:\n")
    print("| variant | pairs | review | auto |\n|---|---|---|---|")
    for kind in sorted(review.by_variant, key=lambda k: -review.by_variant[k][1]):
        hit, total = review.by_variant[kind]
        hit_auto = auto_scores.by_variant.get(kind, (0, total))[0]
        print(f"| {kind} | {total:,} | {hit / total:.3f} | {hit_auto / total:.3f} |")


def large(bases: Sequence[Base], seed: int, target: int = 100_000) -> None:
    entities = len({b.entity for b in bases})
    extra = synthetic_bases(bases, max(0, int(target / 1.45) - entities), seed + 1)
    items = build([*bases, *extra], seed + 2)[:target]
    records = [item.record for item in items]
    print(f"\n### Scale: {len(records):,} records ({len(extra):,} synthetic entities)\n")
    t, groups = timed(lambda: find_duplicates(records))
    scores = pairwise(items, (g.ids for g in groups))
    auto_scores = pairwise(items, (g.ids for g in auto_merge(groups)))
    t_naive, naive = timed(lambda: naive_exact_title(records))
    naive_scores = pairwise(items, naive)
    gc.collect()
    tracemalloc.start()
    find_duplicates(records)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(HEADER)
    print(row("naive exact title", naive_scores, t_naive))
    print(row("ours, groups for review", scores, t, f"peak memory {peak / 2**20:,.0f} MiB"))
    print(row("ours, auto-merge only", auto_scores, t, f"{len(auto_merge(groups)):,} groups"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--no-dedupe", action="store_true", help="skip the dedupe peer")
    parser.add_argument("--skip-large", action="store_true", help="skip the 100,000 run")
    args = parser.parse_args(argv)
    files = sorted(DATA.glob("*.csv"))
    if not files:
        sys.exit(f"no CSV files in {DATA}")
    evaluation = load_base(f for f in files if f.name not in HELD_OUT)
    held_out = load_base(f for f in files if f.name in HELD_OUT)
    items = build(evaluation, args.seed)
    print(
        f"Seed {args.seed}; {len(evaluation):,} source rows from {len(files) - len(HELD_OUT)} "
        f"files ({len({b.entity for b in evaluation}):,} publications)."
    )
    deduper = None
    if not args.no_dedupe:
        try:
            import dedupe  # noqa: F401
        except ImportError:
            print("dedupe is not installed: peer skipped")
        else:
            t, deduper = timed(lambda: train_dedupe(build(held_out, args.seed + 100)))
            print(f"dedupe trained on {', '.join(HELD_OUT)} (seed {args.seed + 100}) in {t:.1f} s")
    evaluate("Labelled set, all fields", items, deduper)
    evaluate("Same records, only title, authors, year, PMID", strip_to_csv_fields(items), None)
    if not args.skip_large:
        large([*evaluation, *held_out], args.seed)


if __name__ == "__main__":
    main()
