"""Tests for the synthetic demo search results (steppingstones.evidence.demo_records)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from steppingstones.evidence.demo_records import (
    CHANGES,
    DOI_PREFIX,
    JOURNALS,
    PMID_START,
    RELEVANT_INTERVENTIONS,
    RELEVANT_POPULATIONS,
    SOURCES,
    YEARS,
    DemoRecord,
    build_demo_records,
)
from steppingstones.evidence.references import REFERENCE_TYPES, Reference, parse
from steppingstones.evidence.references.writers import write_csv, write_ris

SEEDS = (1, 2, 3, 17, 2024)


@pytest.fixture(scope="module")
def by_seed() -> dict[int, list[DemoRecord]]:
    return {seed: build_demo_records(seed) for seed in SEEDS}


# --- determinism --------------------------------------------------------------------------


def test_same_seed_same_records(by_seed: dict[int, list[DemoRecord]]) -> None:
    assert build_demo_records(1) == by_seed[1]
    assert build_demo_records(1, count=50) == build_demo_records(1, count=50)


def test_different_seeds_differ(by_seed: dict[int, list[DemoRecord]]) -> None:
    assert [r.title for r in by_seed[1]] != [r.title for r in by_seed[2]]


def test_same_records_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import hashlib, json\n"
        "from steppingstones.evidence.demo_records import build_demo_records\n"
        "data = [r.to_dict() for r in build_demo_records(5, 120)]\n"
        "print(hashlib.sha256(json.dumps(data).encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1


# --- counts and shares ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 2, 7, 300, 1000])
def test_count(count: int) -> None:
    assert len(build_demo_records(9, count)) == count


def test_negative_count_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        build_demo_records(1, -1)


def test_shares_within_tolerance(by_seed: dict[int, list[DemoRecord]]) -> None:
    for records in by_seed.values():
        assert len(records) == 300
        duplicates = [r for r in records if r.duplicate_of is not None]
        assert len(duplicates) == 60  # 20% of 300
        originals = [r for r in records if r.duplicate_of is None]
        assert sum(r.relevant for r in originals) == round(240 * 0.12)
        assert 0.08 <= sum(r.relevant for r in records) / len(records) <= 0.16
        missing_pmid = sum(r.pmid is None for r in records) / len(records)
        assert 0.25 <= missing_pmid <= 0.7
        sources = Counter(r.source for r in records)
        assert set(sources) == set(SOURCES)
        assert sources["MEDLINE"] > sources["Citation searching"]
        articles = sum(r.type == "journal-article" for r in records) / len(records)
        assert articles >= 0.8


def test_shares_hold_for_a_large_set() -> None:
    records = build_demo_records(11, 3000)
    duplicates = sum(r.duplicate_of is not None for r in records)
    assert duplicates == 600
    assert sum(r.relevant for r in records if r.duplicate_of is None) == 288  # 12% of 2400
    assert 0.10 <= sum(r.relevant for r in records) / 3000 <= 0.14
    shown = Counter(r.source for r in records if r.pmid is not None)
    assert shown["MEDLINE"] / Counter(r.source for r in records)["MEDLINE"] >= 0.7


# --- duplicates --------------------------------------------------------------------------------


def test_duplicates_point_to_earlier_originals(by_seed: dict[int, list[DemoRecord]]) -> None:
    for records in by_seed.values():
        for index, record in enumerate(records):
            if record.duplicate_of is None:
                assert record.changes == ()
                continue
            assert 0 <= record.duplicate_of < index
            original = records[record.duplicate_of]
            assert original.duplicate_of is None
            assert record.relevant == original.relevant
            assert record.source != original.source
            assert (record.year, record.volume, record.pages, record.abstract) == (
                original.year,
                original.volume,
                original.pages,
                original.abstract,
            )
            assert 1 <= len(record.changes) <= 3
            assert list(record.changes) == [c for c in CHANGES if c in record.changes]


def test_each_change_shows(by_seed: dict[int, list[DemoRecord]]) -> None:
    seen: Counter[str] = Counter()
    for records in by_seed.values():
        for record in records:
            if record.duplicate_of is None:
                continue
            original = records[record.duplicate_of]
            changes = set(record.changes)
            seen.update(changes)
            title_changes = changes & {"title-case", "title-punctuation", "title-typo"}
            assert (record.title != original.title) == bool(title_changes)
            if changes == {"title-case"}:
                assert record.title is not None and original.title is not None
                assert record.title.lower() == original.title.lower()
            assert (record.doi is None) == ("doi-missing" in changes or original.doi is None)
            if "journal-abbreviated" in changes:
                assert record.journal == original.journal_abbrev != original.journal
            else:
                assert record.journal == original.journal
            if "authors-swapped" in changes:
                assert record.authors[:2] == original.authors[1::-1]
                assert record.authors[2:] == original.authors[2:]
            else:
                assert record.authors == original.authors
    assert set(seen) == set(CHANGES)


def test_a_paper_is_in_each_database_at_most_once(by_seed: dict[int, list[DemoRecord]]) -> None:
    for records in by_seed.values():
        papers: dict[int, list[str]] = {}
        for index, record in enumerate(records):
            key = index if record.duplicate_of is None else record.duplicate_of
            papers.setdefault(key, []).append(record.source)
        assert all(len(set(sources)) == len(sources) for sources in papers.values())
        assert any(len(sources) >= 3 for sources in papers.values())


def test_original_titles_are_distinct(by_seed: dict[int, list[DemoRecord]]) -> None:
    for records in by_seed.values():
        titles = [(r.title or "").lower() for r in records if r.duplicate_of is None]
        assert len(set(titles)) == len(titles)


# --- the fields ----------------------------------------------------------------------------------


def test_dois_pmids_and_synthetic_labels(by_seed: dict[int, list[DemoRecord]]) -> None:
    journals = {name for name, _, _ in JOURNALS} | {abbrev for _, abbrev, _ in JOURNALS}
    for records in by_seed.values():
        dois = [r.doi for r in records if r.doi is not None]
        assert len(dois) > len(records) // 2
        assert all(doi.startswith(DOI_PREFIX) for doi in dois)
        assert all(doi == doi.lower() for doi in dois)
        originals = [r.doi for r in records if r.doi and r.duplicate_of is None]
        assert len(set(originals)) == len(originals)
        for record in records:
            assert record.pmid is None or (record.pmid.isdigit() and int(record.pmid) >= PMID_START)
            if record.type == "journal-article":
                assert record.journal in journals
            if record.journal and not re.search(r"\((?:synthetic|Synth)\)", record.journal):
                assert re.match(
                    r"^(Demo|Synth|Synthetic|Stepp|Stepping Stones|Fict|Fictional|Imag|"
                    r"Imaginary|Placeholder)\b",
                    record.journal,
                ), record.journal


def test_fields_look_like_search_results(by_seed: dict[int, list[DemoRecord]]) -> None:
    for records in by_seed.values():
        per_source: Counter[str] = Counter()
        for record in records:
            per_source[record.source] += 1
            assert record.source_record == per_source[record.source]
            assert record.title and record.abstract
            assert YEARS[0] <= (record.year or 0) <= YEARS[1]
            assert record.type in REFERENCE_TYPES
            assert 1 <= len(record.authors) <= 8
            for author in record.authors:
                assert re.fullmatch(r"[^,]+, (?:[A-Z]\.){1,3}", author), author
            sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", record.abstract)
            assert 2 <= len(sentences) <= 4, record.abstract
            assert "{" not in record.abstract and "{" not in record.title
            assert record.keywords and len(set(record.keywords)) == len(record.keywords)
            if record.pages and "-" in record.pages:
                start, end = record.pages.split("-")
                assert int(start) < int(end)


def test_relevant_records_use_inclusion_phrases(by_seed: dict[int, list[DemoRecord]]) -> None:
    for records in by_seed.values():
        for record in records:
            if not record.relevant or record.duplicate_of is not None:
                continue
            title = record.title or ""
            assert any(phrase in title for phrase in RELEVANT_INTERVENTIONS), title
            assert any(phrase in title for phrase in RELEVANT_POPULATIONS), title
        for record in records:
            if not record.relevant:
                assert not any(p in (record.title or "") for p in RELEVANT_INTERVENTIONS)


def test_a_text_classifier_learns_relevance() -> None:
    feature_extraction = pytest.importorskip("sklearn.feature_extraction.text")
    linear_model = pytest.importorskip("sklearn.linear_model")
    train = build_demo_records(1, 1200)
    test = build_demo_records(2, 600)

    def texts(records: list[DemoRecord]) -> list[str]:
        return [f"{r.title} {r.abstract}" for r in records]

    vectoriser = feature_extraction.TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    model = linear_model.LogisticRegression(max_iter=2000, class_weight="balanced")
    model.fit(vectoriser.fit_transform(texts(train)), [r.relevant for r in train])
    predicted = model.predict(vectoriser.transform(texts(test)))
    truth = [r.relevant for r in test]
    true_positives = sum(p and t for p, t in zip(predicted, truth, strict=True))
    assert true_positives / sum(truth) >= 0.9  # recall
    assert true_positives / max(sum(predicted), 1) >= 0.8  # precision


# --- as references -----------------------------------------------------------------------------


def test_demo_record_is_a_reference(by_seed: dict[int, list[DemoRecord]]) -> None:
    record = by_seed[1][0]
    assert isinstance(record, Reference)
    data = record.to_dict()
    assert data["source"] == record.source and data["relevant"] == record.relevant
    assert data["changes"] == list(record.changes)
    plain = record.reference()
    assert type(plain) is Reference
    assert plain.to_dict() == {k: v for k, v in data.items() if k in Reference().to_dict()}
    assert len(set(by_seed[1])) == len(by_seed[1])  # hashable, and no two alike


def test_demo_records_survive_export_and_import(by_seed: dict[int, list[DemoRecord]]) -> None:
    records = by_seed[2]
    handle = io.StringIO()
    write_ris(records, handle)
    result = parse(handle.getvalue().encode(), format="ris")
    assert result.warnings == []
    back = result.records
    assert [r.title for r in back] == [r.title for r in records]
    assert [r.doi for r in back] == [r.doi for r in records]
    assert [r.pmid for r in back] == [r.pmid for r in records]
    assert [r.authors for r in back] == [r.authors for r in records]

    table = io.StringIO(newline="")
    write_csv(records, table, extra_columns=("source", "relevant", "duplicate_of"))
    lines = table.getvalue().splitlines()
    assert lines[0].endswith(",source,relevant,duplicate_of")
    assert len(parse(table.getvalue().encode(), format="csv").records) == len(records)
