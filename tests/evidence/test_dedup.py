"""De-duplication of bibliographic records: normalisers, exact and fuzzy groups, the guards
against false merges, automatic merging, the most complete record and per-source counts.
No database needed."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steppingstones.evidence.dedup import (
    DEFAULT_AUTO_THRESHOLD,
    Record,
    as_record,
    auto_merge,
    choose_primary,
    compare,
    find_duplicates,
    first_author_surname,
    journal_similarity,
    normalise_doi,
    normalise_journal,
    normalise_pmid,
    normalise_title,
    side_by_side,
    source_counts,
    surname,
)

TRIAL = Record(
    id="m1",
    title="The Effect of Buprenorphine versus Methadone on Neonatal Abstinence Syndrome: "
    "a Randomised Controlled Trial.",
    authors=("Jones, Hendrée E.", "Kaltenbach, Karol", "Heil, Sarah H."),
    year=2010,
    journal="The New England Journal of Medicine",
    journal_abbrev="N Engl J Med",
    volume="363",
    issue="24",
    pages="2320-2331",
    doi="10.1056/NEJMoa1005359",
    pmid="21142534",
    source="MEDLINE",
)


def groups_of(groups: list, wanted: set[str]) -> list:
    return [g for g in groups if wanted & set(g.ids)]


# --- normalisers -------------------------------------------------------------------------


def test_normalise_title_strips_html_case_punctuation_and_diacritics() -> None:
    assert normalise_title("The <i>Effect</i> of Café-Based   Care: a Trial.") == (
        "the effect of cafe based care a trial"
    )
    assert normalise_title("Mother &amp; child") == "mother child"
    assert normalise_title("[Straße für Mütter]") == "strasse fur mutter"
    assert normalise_title("") == ""


@given(st.text())
def test_normalise_title_is_idempotent(text: str) -> None:
    once = normalise_title(text)
    assert normalise_title(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1136/bmj.n71", "10.1136/bmj.n71"),
        (" https://doi.org/10.1136/BMJ.N71. ", "10.1136/bmj.n71"),
        ("http://dx.doi.org/10.1056/NEJMoa1005359", "10.1056/nejmoa1005359"),
        ("doi: 10.1002/14651858.CD002207.pub4;", "10.1002/14651858.cd002207.pub4"),
        ("not a doi", ""),
        ("", ""),
    ],
)
def test_normalise_doi(raw: str, expected: str) -> None:
    assert normalise_doi(raw) == expected


def test_normalise_pmid() -> None:
    assert normalise_pmid("PMID: 021142534") == "21142534"
    assert normalise_pmid("21142534.0") == "21142534"
    assert normalise_pmid("abc") == ""


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Jones, Hendrée E.", "jones"),
        ("Jones HE", "jones"),
        ("H E Jones", "jones"),
        ("H. E. Jones", "jones"),
        ("Hendrée Jones", "jones"),
        ("de Lignières, B", "delignieres"),
        ("G. B. Koval'skii", "kovalskii"),
        ("Azaz-Livshits T", "azazlivshits"),
    ],
)
def test_surname_formats(author: str, expected: str) -> None:
    assert surname(author) == expected


def test_first_author_surname_from_list_or_string() -> None:
    assert first_author_surname(["Kaltenbach, Karol", "Jones, H"]) == "kaltenbach"
    assert first_author_surname("Kaltenbach K; Jones H") == "kaltenbach"
    assert first_author_surname([]) == ""


@pytest.mark.parametrize(
    ("full", "abbrev"),
    [
        ("The New England Journal of Medicine", "N Engl J Med"),
        ("American Journal of Obstetrics and Gynecology", "Am J Obstet Gynecol"),
        ("Journal of the American Medical Association", "JAMA"),
        ("Drug and Alcohol Dependence", "Drug Alcohol Depend"),
        ("Journal of the National Cancer Institute", "J Natl Cancer Inst"),
        ("The Lancet", "Lancet"),
    ],
)
def test_journal_abbreviation_matches_full_name(full: str, abbrev: str) -> None:
    assert journal_similarity([normalise_journal(full)], [normalise_journal(abbrev)]) == 1.0


def test_different_journals_do_not_match() -> None:
    similarity = journal_similarity([normalise_journal("The Lancet")], [normalise_journal("BMJ")])
    assert similarity is not None and similarity < 0.5
    assert journal_similarity([], ["bmj"]) is None
    assert (journal_similarity(["journal of urology"], ["j clin psychiatry"]) or 0) < 0.8


def test_as_record_from_dict() -> None:
    record = as_record(
        {"id": 7, "title": "X", "authors": "Levy M; Azaz T", "year": "1999.0", "extra": 1}
    )
    assert record == Record(id="7", title="X", authors=("Levy M", "Azaz T"), year=1999)
    with pytest.raises(ValueError, match="id"):
        as_record({"title": "no id"})


# --- exact groups --------------------------------------------------------------------------


def test_same_doi_groups_despite_different_titles() -> None:
    other = Record(
        id="e1",
        title="Neonatal abstinence syndrome after methadone or buprenorphine exposure",
        doi="https://doi.org/10.1056/NEJMOA1005359",
        source="Embase",
    )
    groups = find_duplicates([TRIAL, other])
    assert len(groups) == 1
    group = groups[0]
    assert set(group.ids) == {"m1", "e1"}
    assert group.reason == "doi"
    assert group.score == 1.0
    assert group.primary == "m1"  # the more complete record
    assert group.pairs[0].fields["title"] is not None


def test_same_pmid_groups() -> None:
    other = Record(id="c1", title="Completely different text", pmid="PMID: 21142534")
    groups = find_duplicates([TRIAL, other, Record(id="x", title="Unrelated", pmid="1")])
    assert [set(g.ids) for g in groups] == [{"m1", "c1"}]
    assert groups[0].reason == "pmid"
    # A DOI/PMID match whose titles disagree is kept for a person to check.
    assert "same PMID but titles differ" in groups[0].conflicts
    assert not groups[0].auto


def test_exact_doi_group_of_three_has_two_links() -> None:
    copies = [replace(TRIAL, id=f"d{i}", source=s) for i, s in enumerate(("A", "B", "C"))]
    (group,) = find_duplicates(copies)
    assert len(group) == 3
    assert len(group.pairs) == 2
    assert group.auto


# --- fuzzy groups with realistic variants ----------------------------------------------------


def variants_of(record: Record) -> list[Record]:
    title = record.title
    return [
        replace(record, id="v-case", title=title.upper(), doi="", pmid="", source="Embase"),
        replace(
            record,
            id="v-punct",
            title=title.replace(": ", " - ").rstrip(".").replace("Randomised", "Randomized"),
            doi="",
            source="CINAHL",
        ),
        replace(
            record,
            id="v-journal",
            journal="",
            journal_abbrev="N Engl J Med",
            pages="2320-31",
            doi="",
            pmid="",
            source="PsycINFO",
        ),
        replace(
            record,
            id="v-authors",
            authors=("Kaltenbach K", "Jones HE", "Heil SH"),
            doi="",
            pmid="",
            source="Scopus",
        ),
        replace(
            record,
            id="v-typo",
            title=title.replace("Buprenorphine", "Buprenorphne").replace("Neonatal", "Neontal"),
            doi="",
            pmid="",
            source="Web of Science",
        ),
        replace(
            record,
            id="v-the",
            title=title.removeprefix("The "),
            year=2011,
            doi="",
            pmid="",
            source="CENTRAL",
        ),
        replace(
            record,
            id="v-html",
            title=title.replace("Neonatal", "<i>Neonatal</i>"),
            authors=("Jones, H.", "Kaltenbach, K."),
            doi="",
            pmid="",
            source="Embase",
        ),
    ]


def test_fuzzy_variants_found_as_one_group() -> None:
    records = [TRIAL, *variants_of(TRIAL)]
    groups = find_duplicates(records)
    assert len(groups) == 1
    (group,) = groups
    assert set(group.ids) == {r.id for r in records}
    assert group.reason == "fuzzy"
    assert group.auto, group
    assert len(group.pairs) == len(records) - 1
    for pair in group.pairs:
        assert set(pair.fields) == {"title", "authors", "year", "journal", "volume", "pages"}
        assert pair.score >= DEFAULT_AUTO_THRESHOLD


def test_variant_scores_by_field() -> None:
    evidence = compare(TRIAL, variants_of(TRIAL)[2])  # abbreviated journal, short last page
    assert evidence.reason == "fuzzy"
    assert evidence.fields["journal"] == 1.0
    assert evidence.fields["pages"] == 1.0
    assert evidence.fields["title"] == 1.0
    assert evidence.corroborated
    swapped = compare(TRIAL, variants_of(TRIAL)[3])
    assert swapped.fields["authors"] == 1.0  # same authors, order changed


def test_blocking_finds_a_typo_in_the_first_word_among_many_records() -> None:
    rng = random.Random(3)
    words = [
        "care",
        "birth",
        "opioid",
        "infant",
        "mother",
        "trial",
        "cohort",
        "outcome",
        "health",
        "service",
    ]
    filler = [
        Record(
            id=f"f{i}",
            title=" ".join(rng.choice(words) for _ in range(8)) + f" {i}",
            authors=(f"Author{i}, A",),
            year=2000 + i % 20,
        )
        for i in range(3000)
    ]
    typo = replace(TRIAL, id="typo", title="Teh " + TRIAL.title[4:], doi="", pmid="")
    groups = find_duplicates([*filler, TRIAL, typo], window=5)
    assert any({"m1", "typo"} <= set(g.ids) for g in groups)


# --- near misses kept apart ----------------------------------------------------------------


def test_different_dois_never_merge_by_fuzzy_match() -> None:
    twin = replace(TRIAL, id="twin", doi="10.1056/NEJMoa9999999", pmid="", source="Embase")
    assert find_duplicates([TRIAL, twin]) == []


def test_different_dois_not_joined_through_a_third_record() -> None:
    a = replace(TRIAL, id="a", pmid="")
    b = replace(TRIAL, id="b", doi="", pmid="")  # no DOI: could match either
    c = replace(TRIAL, id="c", doi="10.1056/other", pmid="")
    groups = find_duplicates([a, b, c])
    for group in groups:
        assert not {"a", "c"} <= set(group.ids)
    assert len(groups) == 1


def test_protocol_and_results_paper_not_auto_merged() -> None:
    protocol = replace(
        TRIAL,
        id="protocol",
        year=2008,
        journal="Trials",
        journal_abbrev="Trials",
        volume="9",
        issue="",
        pages="45",
        doi="",
        pmid="",
        source="Embase",
    )
    groups = find_duplicates([TRIAL, protocol])
    assert auto_merge(groups) == []
    for group in groups:  # if offered for review at all, the conflict is shown
        assert "volume differs" in group.conflicts


def test_same_title_different_volume_and_pages_is_a_conflict_even_in_the_same_year() -> None:
    reprint = replace(TRIAL, id="reprint", volume="364", pages="12-23", doi="", pmid="")
    evidence = compare(TRIAL, reprint)
    assert set(evidence.conflicts) == {"volume differs", "first page differs"}
    assert evidence.fields["title"] == 1.0
    groups = find_duplicates([TRIAL, reprint], threshold=0.5)
    assert len(groups) == 1
    assert set(groups[0].conflicts) == {"volume differs", "first page differs"}
    assert not groups[0].auto
    assert auto_merge(groups) == []
    assert auto_merge(groups, threshold=0.5) == []
    assert auto_merge(find_duplicates([TRIAL, reprint])) == []


@pytest.mark.parametrize(
    "title",
    [
        "Erratum: {}",
        "Correction to: {}",
        'Comment on "{}"',
        "Reply to: {}",
        "{} [Retraction]",
    ],
)
def test_notices_kept_apart_from_the_paper(title: str) -> None:
    notice = replace(
        TRIAL,
        id="notice",
        title=title.format(TRIAL.title),
        pages="",  # nothing but the notice wording tells them apart
        volume="",
        doi="",
        pmid="",
        source="Embase",
    )
    assert find_duplicates([TRIAL, notice]) == []
    evidence = compare(TRIAL, notice)
    assert any("notice" in note for note in evidence.notes)
    assert evidence.score < 0.85


def test_years_more_than_one_apart_lower_the_score() -> None:
    base = Record(id="a", title=TRIAL.title, authors=TRIAL.authors, year=2010)
    one = compare(base, replace(base, id="b", year=2011))
    three = compare(base, replace(base, id="c", year=2013))
    assert one.score >= 0.9
    assert three.score < 0.85
    assert "years differ by 3" in three.notes
    assert find_duplicates([base, replace(base, id="c", year=2013)]) == []


def test_short_title_needs_more_than_the_title() -> None:
    a = Record(id="a", title="Editorial", year=2001)
    b = Record(id="b", title="Editorial", year=2004, authors=("Smith, J",))
    c = Record(id="c", title="Editorial")
    assert find_duplicates([a, b]) == []
    groups = find_duplicates([a, c])
    assert auto_merge(groups) == []


def test_unrelated_titles_not_grouped() -> None:
    records = [
        Record(id="1", title="Buprenorphine in pregnancy", year=2010),
        Record(id="2", title="Methadone maintenance and breastfeeding", year=2010),
    ]
    assert find_duplicates(records) == []


# --- automatic merging -----------------------------------------------------------------------


def test_auto_threshold_separates_review_from_automatic() -> None:
    a = Record(
        id="a",
        title="Outcomes of infants born to mothers in opioid treatment programmes",
        authors=("Smith, J",),
        year=2015,
        journal="Pediatrics",
    )
    b = replace(
        a, id="b", title="Outcome of infant born to mother in opioid treatment program", year=2016
    )
    score = compare(a, b).score
    assert 0.85 <= score < DEFAULT_AUTO_THRESHOLD
    (group,) = find_duplicates([a, b])
    assert not group.auto
    assert auto_merge([group]) == []
    assert auto_merge([group], threshold=score) == [group]
    (lenient,) = find_duplicates([a, b], auto_threshold=score)
    assert lenient.auto
    assert find_duplicates([a, b], threshold=min(1.0, score + 0.01)) == []


def test_title_only_match_is_for_review_not_automatic() -> None:
    a = Record(id="a", title="Models of perinatal care for women who use drugs: a review")
    b = replace(a, id="b", title=a.title.upper())
    (group,) = find_duplicates([a, b])
    assert group.score == 1.0
    assert not group.auto


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="unique"):
        find_duplicates([TRIAL, TRIAL])
    with pytest.raises(ValueError, match="threshold"):
        find_duplicates([TRIAL], threshold=0)
    with pytest.raises(ValueError, match="window"):
        find_duplicates([TRIAL], window=1)
    with pytest.raises(ValueError):
        choose_primary([])


# --- primary record, side by side, counts ------------------------------------------------


def test_choose_primary_prefers_the_most_complete_record() -> None:
    sparse = Record(id="sparse", title=TRIAL.title, year=2010)
    no_doi = replace(TRIAL, id="no-doi", doi="")
    assert choose_primary([sparse, no_doi, TRIAL]).id == "m1"
    assert choose_primary([sparse, no_doi]).id == "no-doi"
    assert choose_primary([{"id": "x", "title": "A"}]).id == "x"


def test_side_by_side_marks_differing_fields() -> None:
    variant = variants_of(TRIAL)[2]
    (group,) = find_duplicates([TRIAL, variant])
    rows = {row.field: row for row in side_by_side(group, [TRIAL, variant])}
    assert rows["title"].values == (TRIAL.title, variant.title)
    assert not rows["title"].differs
    assert rows["pages"].differs
    assert rows["source"].differs
    assert not rows["year"].differs


def test_source_counts_before_and_after() -> None:
    records = [TRIAL, *variants_of(TRIAL)]
    unrelated = Record(id="u", title="Something else entirely different", source="MEDLINE")
    records.append(unrelated)
    groups = find_duplicates(records)
    counts = source_counts(records, groups)
    assert counts["MEDLINE"].before == 2
    assert counts["MEDLINE"].after == 2  # the primary and the unrelated record
    assert counts["Embase"].before == 2
    assert counts["Embase"].after == 0
    assert counts["total"].before == 9
    assert counts["total"].after == 2
    assert counts["total"].removed == 7
    assert list(counts)[-1] == "total"
    # Only the groups passed count: nothing merged, nothing removed.
    assert source_counts(records, [])["total"].removed == 0


def test_dict_records_work_end_to_end() -> None:
    records = [
        {
            "id": 1,
            "title": "Neonatal outcomes after prenatal opioid exposure",
            "authors": "Levy M; Azaz T",
            "year": "2001",
            "source": "MEDLINE",
        },
        {
            "id": 2,
            "title": "NEONATAL OUTCOMES AFTER PRENATAL OPIOID EXPOSURE.",
            "authors": ["Levy, M.", "Azaz, T."],
            "year": 2001,
            "source": "Embase",
        },
    ]
    (group,) = find_duplicates(records)
    assert set(group.ids) == {"1", "2"}
    assert group.auto
