"""Boolean code queries on character ranges, full-text search, frequencies and co-occurrence."""

from __future__ import annotations

import random

import numpy as np
import pytest

from steppingstones.voices.agreement import Coding
from steppingstones.voices.retrieval import (
    UNKNOWN,
    And,
    CodeFrequency,
    CodeRef,
    DocumentInfo,
    Not,
    Or,
    Passage,
    PassageFilter,
    QueryError,
    SearchHit,
    SpeakerTurn,
    cooccurrence,
    frequencies,
    intersect_ranges,
    merge_ranges,
    parse_query,
    parse_search,
    passages,
    search,
    subtract_ranges,
)

# --------------------------------------------------------------------------- parsing


def test_parse_query_precedence_and_grouping() -> None:
    tree = parse_query("Stigma AND (Housing OR Midwife) AND NOT Police")
    assert tree == And(
        (
            CodeRef("Stigma"),
            Or((CodeRef("Housing"), CodeRef("Midwife"))),
            Not(CodeRef("Police")),
        )
    )
    # NOT binds tighter than AND, AND tighter than OR.
    assert parse_query("A OR B AND NOT C") == Or(
        (CodeRef("A"), And((CodeRef("B"), Not(CodeRef("C")))))
    )
    assert parse_query("NOT NOT A") == Not(Not(CodeRef("A")))
    assert str(tree) == "Stigma AND (Housing OR Midwife) AND NOT Police"


def test_code_names_with_spaces_and_quotes() -> None:
    assert parse_query("Named midwife AND Trust") == And(
        (CodeRef("Named midwife"), CodeRef("Trust"))
    )
    tree = parse_query('"Stigma: AND services" OR  "Care (ante)"')
    assert tree == Or((CodeRef("Stigma: AND services"), CodeRef("Care (ante)")))
    assert parse_query(str(tree)) == tree
    # Lower-case words are part of a name, not operators.
    assert parse_query("Fear and shame") == CodeRef("Fear and shame")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("Stigma AND", "expected a code name or '\\(' but found the end of the query"),
        ("AND Stigma", "expected a code name or '\\(' but found 'AND' \\(at position 0\\)"),
        ("(Stigma OR Housing", "'\\(' is never closed \\(at position 0\\)"),
        ("Stigma OR Housing)", "'\\)' without a matching '\\(' \\(at position 17\\)"),
        ("Stigma NOT Police", "expected AND or OR before 'NOT'.*use AND NOT"),
        ("()", "empty parentheses"),
        ('"Stigma', "never closed"),
        ("Stigma (Housing)", "expected AND or OR before '\\('"),
        ("(A OR B) C", "expected AND or OR before code name 'C'"),
    ],
)
def test_parse_errors_say_what_and_where(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(query)


# --------------------------------------------------------------------------- range algebra


def test_range_algebra_on_hand_built_ranges() -> None:
    assert merge_ranges([(5, 10), (0, 3), (3, 4), (8, 12), (20, 20)]) == [(0, 4), (5, 12)]
    a = [(0, 10), (20, 30), (40, 50)]
    b = [(5, 25), (45, 60)]
    assert intersect_ranges(a, b) == [(5, 10), (20, 25), (45, 50)]
    assert subtract_ranges(a, b) == [(0, 5), (25, 30), (40, 45)]
    assert subtract_ranges([(0, 100)], [(10, 20), (30, 40)]) == [(0, 10), (20, 30), (40, 100)]
    assert subtract_ranges([(0, 10)], [(0, 10)]) == []


@pytest.mark.parametrize("seed", range(20))
def test_range_algebra_matches_sets_of_characters(seed: int) -> None:
    rng = random.Random(seed)

    def ranges() -> list[tuple[int, int]]:
        out = []
        for _ in range(rng.randint(0, 8)):
            s = rng.randrange(100)
            out.append((s, s + rng.randint(0, 15)))
        return merge_ranges(out)

    def chars(rs: list[tuple[int, int]]) -> set[int]:
        return {k for s, e in rs for k in range(s, e)}

    a, b = ranges(), ranges()
    assert chars(intersect_ranges(a, b)) == chars(a) & chars(b)
    assert chars(subtract_ranges(a, b)) == chars(a) - chars(b)
    assert chars(merge_ranges(a + b)) == chars(a) | chars(b)
    for result in (intersect_ranges(a, b), subtract_ranges(a, b)):
        assert result == merge_ranges(result)  # sorted, disjoint, non-touching


# --------------------------------------------------------------------------- passages

CODINGS = [
    Coding("d1", "Stigma", "ana", 0, 50),
    Coding("d1", "Housing", "ana", 30, 70),
    Coding("d1", "Midwife", "ana", 45, 60),
    Coding("d1", "Police", "ana", 40, 48),
    Coding("d1", "Stigma", "ben", 100, 120),  # a second coder's passage
    Coding("d2", "Stigma", "ana", 10, 20),
    Coding("d2", "Housing", "ana", 25, 35),  # no overlap with Stigma in d2
    Coding("d3", "Police", "ana", 0, 5),
]
DOCUMENTS = {
    "d1": DocumentInfo(
        "d1",
        site="EL",
        wave="W1",
        participant="P01",
        attributes={"parity": "first"},
        length=200,
        turns=(SpeakerTurn(0, 35, "interviewer"), SpeakerTurn(35, 200, "participant")),
    ),
    "d2": DocumentInfo("d2", site="GG", wave="W1", participant="P02", length=50),
    "d3": DocumentInfo("d3", site="EL", wave="W2", participant="P01", length=10),
}


def ranges_of(found: list[Passage]) -> list[tuple[str, int, int]]:
    return [(p.document_id, p.start, p.end) for p in found]


def test_and_is_intersection_or_is_union_not_is_subtraction() -> None:
    assert ranges_of(passages("Stigma AND Housing", CODINGS)) == [("d1", 30, 50)]
    assert ranges_of(passages("Stigma OR Housing", CODINGS)) == [
        ("d1", 0, 70),
        ("d1", 100, 120),
        ("d2", 10, 20),
        ("d2", 25, 35),
    ]
    assert ranges_of(passages("Stigma AND NOT Police", CODINGS, DOCUMENTS)) == [
        ("d1", 0, 40),
        ("d1", 48, 50),
        ("d1", 100, 120),
        ("d2", 10, 20),
    ]
    # NOT alone: the rest of each document, to its known length.
    assert ranges_of(passages("NOT Stigma", CODINGS, DOCUMENTS)) == [
        ("d1", 50, 100),
        ("d1", 120, 200),
        ("d2", 0, 10),
        ("d2", 20, 50),
        ("d3", 0, 10),
    ]
    # Without lengths a document ends at its last coded character.
    assert ranges_of(passages("NOT Stigma", CODINGS))[-1] == ("d3", 0, 5)


def test_the_brief_example_query() -> None:
    found = passages("Stigma AND (Housing OR Midwife) AND NOT Police", CODINGS, DOCUMENTS)
    # (Stigma 0-50) AND (Housing 30-70 OR Midwife 45-60 = 30-70) = 30-50, minus Police 40-48.
    assert ranges_of(found) == [("d1", 30, 40), ("d1", 48, 50)]


@pytest.mark.parametrize("seed", range(10))
def test_queries_match_character_set_semantics(seed: int) -> None:
    rng = random.Random(seed)
    codes = ["A", "B", "C", "D"]
    lengths = {"x": 150, "y": 90}
    codings = []
    for doc, length in lengths.items():
        for _ in range(12):
            s = rng.randrange(length)
            codings.append(
                Coding(doc, rng.choice(codes), "ana", s, min(length, s + rng.randint(1, 30)))
            )
    documents = {doc: DocumentInfo(doc, length=n) for doc, n in lengths.items()}
    masks = {(doc, code): np.zeros(n, dtype=bool) for doc, n in lengths.items() for code in codes}
    for c in codings:
        masks[c.document_id, c.code_id][c.start : c.end] = True
    query = "A AND (B OR NOT C) OR D AND NOT A"
    found = passages(query, codings, documents, names={c: c for c in codes})
    for doc, n in lengths.items():
        m = {code: masks[doc, code] for code in codes}
        expected = (m["A"] & (m["B"] | ~m["C"])) | (m["D"] & ~m["A"])
        got = np.zeros(n, dtype=bool)
        for p in found:
            if p.document_id == doc:
                assert not got[p.start : p.end].any()  # disjoint passages
                got[p.start : p.end] = True
        assert (got == expected).all()


def test_filters_by_site_wave_attribute_participant_coder_and_speaker() -> None:
    def q(query: str, **kwargs: object) -> list[tuple[str, int, int]]:
        return ranges_of(passages(query, CODINGS, DOCUMENTS, PassageFilter(**kwargs)))  # type: ignore[arg-type]

    assert q("Stigma", sites={"GG"}) == [("d2", 10, 20)]
    assert q("Police", waves={"W2"}) == [("d3", 0, 5)]
    assert q("Police", participants={"P01"}, waves={"W1"}) == [("d1", 40, 48)]
    assert q("Stigma", attributes={"parity": {"first"}}) == [("d1", 0, 50), ("d1", 100, 120)]
    assert q("Stigma", attributes={"parity": {"second"}}) == []
    assert q("Stigma", coders={"ben"}) == [("d1", 100, 120)]
    assert q("Housing", coders={"ben"}) == []  # a known code, just not coded by ben
    # Only what the participant said: d1's interviewer spoke 0-35; d2 has no turns recorded.
    assert q("Stigma", speaker_roles={"participant"}) == [("d1", 35, 50), ("d1", 100, 120)]
    assert q("Stigma", speaker_roles={"interviewer"}) == [("d1", 0, 35)]


def test_passages_carry_text_and_names_resolve_to_ids() -> None:
    text = "x" * 30 + "she said the flat was damp" + "y" * 200
    names = {
        "Stigma": "Stigma",
        "Housing need": "Housing",
        "Midwife": "Midwife",
        "Police": "Police",
    }
    found = passages("Stigma AND housing NEED", CODINGS, names=names, texts={"d1": text})
    assert found == [Passage("d1", 30, 50, text[30:50])]
    with pytest.raises(QueryError, match="unknown code 'Hosing need'; did you mean 'Housing need'"):
        passages("Hosing need", CODINGS, names=names)
    with pytest.raises(QueryError, match="unknown code 'Trust'"):
        passages("Trust", CODINGS)


# --------------------------------------------------------------------------- full-text search

TEXTS = {
    "t1": "I didn't trust anyone. Then the Named Midwife came, and I could trust her.",
    "t2": "The named midwife was off; trust was hard. NAMED\nmidwife again! I trusted them.",
    "t3": "Nothing about midwives here, only a named nurse.",
}


def spans(hits: list[SearchHit]) -> list[tuple[str, str]]:
    return [(h.document_id, h.text) for h in hits]


def test_word_and_phrase_search_is_case_insensitive_and_word_based() -> None:
    assert spans(search(TEXTS, "TRUST")) == [("t1", "trust"), ("t1", "trust"), ("t2", "trust")]
    assert spans(search(TEXTS, '"named midwife"')) == [
        ("t1", "Named Midwife"),
        ("t2", "named midwife"),
        ("t2", "NAMED\nmidwife"),  # punctuation and line breaks between words do not matter
    ]
    assert spans(search(TEXTS, "didn't")) == [("t1", "didn't")]
    assert spans(search(TEXTS, "trust*")) == [
        ("t1", "trust"),
        ("t1", "trust"),
        ("t2", "trust"),
        ("t2", "trusted"),
    ]
    assert spans(search(TEXTS, '"named midw*"'))[-1] == ("t2", "NAMED\nmidwife")
    assert search(TEXTS, '"midwife named"') == []


def test_proximity_search_counts_words_between_in_either_order() -> None:
    hits = search(TEXTS, '"named midwife" NEAR/5 trust')
    # t1: "trust anyone. Then the Named Midwife": 3 words between, trust first;
    #     "Named Midwife came, and I could trust": 4 between.
    # t2: "named midwife was off; trust": 2 between; "trust was hard. NAMED midwife": 2 between.
    assert spans(hits) == [
        ("t1", "trust anyone. Then the Named Midwife"),
        ("t1", "Named Midwife came, and I could trust"),
        ("t2", "named midwife was off; trust"),
        ("t2", "trust was hard. NAMED\nmidwife"),
    ]
    assert len(search(TEXTS, '"named midwife" NEAR/4 trust')) == 4
    assert [h.text for h in search(TEXTS, '"named midwife" NEAR/3 trust')] == [
        "trust anyone. Then the Named Midwife",
        "named midwife was off; trust",
        "trust was hard. NAMED\nmidwife",
    ]
    assert len(search(TEXTS, '"named midwife" NEAR/2 trust')) == 2
    assert search(TEXTS, '"named midwife" NEAR/1 trust') == []
    assert spans(search(TEXTS, "named NEAR/0 nurse")) == [("t3", "named nurse")]
    hit = search(TEXTS, "anyone NEAR/2 named")[0]
    assert TEXTS["t1"][hit.start : hit.end] == "anyone. Then the Named"


def test_lower_case_near_is_a_word() -> None:
    texts = {"n": "We lived near the clinic, nearby the station."}
    assert spans(search(texts, "near")) == [("n", "near")]
    assert spans(search(texts, "near*")) == [("n", "near"), ("n", "nearby")]
    assert search(texts, "near NEAR/3 station") == []  # four words between
    assert spans(search(texts, "near NEAR/4 station")) == [
        ("n", "near the clinic, nearby the station")
    ]


def test_search_within_passages() -> None:
    inside = [Passage("t2", 0, 32)]  # "The named midwife was off; trust"
    assert spans(search(TEXTS, "trust", within=inside)) == [("t2", "trust")]
    assert search(TEXTS, "trusted", within=inside) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty search"),
        ('"named midwife', "never closed"),
        ("named midwife", "quotes"),
        ("named NEAR trust", "NEAR/5"),
        ("NEAR/3 trust", "between exactly two"),
        ("!!!", "no letters or digits"),
    ],
)
def test_search_errors(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_search(query)


# --------------------------------------------------------------------------- counts


def test_frequencies_by_wave_and_site() -> None:
    by_wave = frequencies(CODINGS, DOCUMENTS, by="wave")
    assert by_wave["Stigma"] == {"W1": CodeFrequency(references=3, documents=2, participants=2)}
    assert by_wave["Police"] == {
        "W1": CodeFrequency(1, 1, 1),
        "W2": CodeFrequency(1, 1, 1),
    }
    by_site = frequencies(CODINGS, DOCUMENTS, by="site", coder="ana")
    assert by_site["Stigma"] == {"EL": CodeFrequency(1, 1, 1), "GG": CodeFrequency(1, 1, 1)}
    assert by_site["Police"] == {"EL": CodeFrequency(2, 2, 1)}  # one woman, two interviews
    unknown = frequencies([Coding("zz", "Stigma", "ana", 0, 1)], DOCUMENTS, by="site")
    assert unknown == {"Stigma": {UNKNOWN: CodeFrequency(1, 1, 0)}}
    with pytest.raises(ValueError, match="choose"):
        frequencies(CODINGS, DOCUMENTS, by="colour")  # type: ignore[arg-type]


def test_cooccurrence_counts_overlapping_passages() -> None:
    result = cooccurrence(CODINGS)
    assert result.codes == ("Housing", "Midwife", "Police", "Stigma")
    # d1: Stigma 0-50 and 100-120, Housing 30-70, Midwife 45-60, Police 40-48.
    assert result.count("Stigma", "Housing") == 1  # d2's do not overlap
    assert result.count("Stigma", "Midwife") == 1
    assert result.count("Stigma", "Police") == 1
    assert result.count("Housing", "Midwife") == 1
    assert result.count("Midwife", "Police") == 1  # 45-48
    assert result.count("Housing", "Police") == 1
    assert result.count("Stigma", "Stigma") == 3  # passages: two in d1, one in d2
    assert result.documents_with("Police", "Police") == 2
    assert result.documents_with("Stigma", "Housing") == 1
    assert (result.overlaps == result.overlaps.T).all()


def test_cooccurrence_merges_double_coding_and_needs_a_shared_character() -> None:
    codings = [
        Coding("d", "A", "ana", 0, 10),
        Coding("d", "A", "ben", 2, 8),  # the same passage coded twice: one passage
        Coding("d", "B", "ana", 5, 6),
        Coding("d", "B", "ana", 9, 20),
        Coding("d", "C", "ana", 20, 30),  # touches B at 20 but shares no character
        Coding("e", "A", "ana", 0, 5),
        Coding("e", "B", "ana", 4, 5),
    ]
    result = cooccurrence(codings)
    assert result.count("A", "B") == 3  # d: A x B(5-6), A x B(9-20); e: one
    assert result.documents_with("A", "B") == 2
    assert result.count("B", "C") == 0 and result.count("A", "C") == 0
    assert cooccurrence(codings, coder="ben").codes == ("A",)


@pytest.mark.parametrize("seed", range(5))
def test_cooccurrence_equals_pairwise_counting(seed: int) -> None:
    rng = random.Random(seed)
    codings = []
    for doc in ("p", "q", "r"):
        for _ in range(25):
            s = rng.randrange(500)
            codings.append(Coding(doc, rng.choice("ABCDE"), "ana", s, s + rng.randint(1, 60)))
    result = cooccurrence(codings)
    passages_of = {}
    for doc in ("p", "q", "r"):
        for code in result.codes:
            passages_of[doc, code] = merge_ranges(
                (c.start, c.end) for c in codings if c.document_id == doc and c.code_id == code
            )
    for x in result.codes:
        for y in result.codes:
            if x == y:
                continue
            expected = sum(
                1
                for doc in ("p", "q", "r")
                for s1, e1 in passages_of[doc, x]
                for s2, e2 in passages_of[doc, y]
                if s1 < e2 and s2 < e1
            )
            assert result.count(x, y) == expected
