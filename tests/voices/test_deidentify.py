"""De-identification: check digits, patterns, gazetteers, review decisions, labels, corpus."""

from __future__ import annotations

import json
import re
from importlib import resources
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steppingstones.voices.deidentify import (
    KINDS,
    Decision,
    DeidentifyError,
    LabelMap,
    Span,
    apply,
    apply_set,
    context,
    default_gazetteers,
    detect,
    detect_corpus_item,
    evaluate,
    is_uk_phone,
    is_uk_postcode,
    is_valid_chi_number,
    is_valid_nhs_number,
    load_corpus,
    redaction_recall,
    reviewed_spans,
)


def found(
    text: str,
    kind: str | None = None,
    *,
    known_people: dict[str, str] | None = None,
    kinds: set[str] | None = None,
) -> list[tuple[str, str]]:
    spans = detect(text, known_people=known_people, kinds=kinds)
    return [(s.kind, s.text) for s in spans if kind in (None, s.kind)]


# --------------------------------------------------------------------------- check digits


@pytest.mark.parametrize(
    "number", ["943 476 5919", "9434765919", "943-476-5919", "999 590 8301", "450 543 2319"]
)
def test_valid_nhs_numbers(number: str) -> None:
    assert is_valid_nhs_number(number)


@pytest.mark.parametrize(
    "number",
    [
        "943 476 5918",  # last digit off by one
        "943 476 5910",
        "4010232138",
        "0000000000",  # passes the arithmetic, never issued
        "943 476 591",  # nine digits
        "943 476 59190",
        "943 476 591X",
        "943.476.5919",
        "1000000010",  # the check digit would be 10: never valid
    ],
)
def test_invalid_nhs_numbers(number: str) -> None:
    assert not is_valid_nhs_number(number)


def test_every_single_digit_change_breaks_the_nhs_check() -> None:
    base = "9434765919"
    for i in range(10):
        for d in "0123456789":
            if d != base[i]:
                changed = base[:i] + d + base[i + 1 :]
                assert not is_valid_nhs_number(changed), changed


@pytest.mark.parametrize("number", ["1503908186", "0207049947", "2802857436", "110601 6653"])
def test_valid_chi_numbers(number: str) -> None:
    assert is_valid_chi_number(number)


@pytest.mark.parametrize(
    "number",
    [
        "1503908187",  # check digit wrong
        "3102901234",  # 31 February
        "9434765919",  # a valid NHS number, but "94/34" is no date
        "150390818",
    ],
)
def test_invalid_chi_numbers(number: str) -> None:
    assert not is_valid_chi_number(number)


def test_nhs_and_chi_in_text() -> None:
    text = "NHS number 943 476 5919, CHI 1503908186, and her old one 0207049947."
    assert found(text) == [
        ("nhs-number", "943 476 5919"),
        ("chi-number", "1503908186"),
        ("chi-number", "0207049947"),
    ]


def test_failing_number_without_cue_is_not_flagged_but_with_a_cue_it_is() -> None:
    assert found("The housing reference was 4010232138.") == []
    spans = detect("Her NHS number is 943 476 5918.")
    assert [(s.kind, s.text) for s in spans] == [("nhs-number", "943 476 5918")]
    assert "check digit" in spans[0].note


# --------------------------------------------------------------------------- patterns


@pytest.mark.parametrize(
    "postcode",
    [
        "SW1A 1AA",
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "EC1A 1BB",
        "W1A 0AX",
        "LS8 5QT",
        "GIR 0AA",
        "ls8 5qt",
        "NE62XY",
    ],
)
def test_uk_postcodes(postcode: str) -> None:
    assert is_uk_postcode(postcode)


@pytest.mark.parametrize("text", ["M62", "LS6", "QA1 1AA", "SW1A 1CA", "LS8 5Q", "123 4AB", "A1"])
def test_not_postcodes(text: str) -> None:
    assert not is_uk_postcode(text)


def test_postcodes_in_text_and_roads_left_alone() -> None:
    text = "We took the M62 and the A1 to LS8 5QT, then on to NE6 2XY."
    assert found(text, "postcode") == [("postcode", "LS8 5QT"), ("postcode", "NE6 2XY")]


def test_emails() -> None:
    text = "Email kels.b1996@example.com or J.Okafor+work@mail.example.org, not me at home."
    assert found(text, "email") == [
        ("email", "kels.b1996@example.com"),
        ("email", "J.Okafor+work@mail.example.org"),
    ]
    assert found("an @ sign, a@b, name@localhost", "email") == []


@pytest.mark.parametrize(
    "phone",
    [
        "07700 900123",
        "07700900123",
        "07700-900-123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)7700 900123",
        "0113 496 0123",
        "(0113) 496 0123",
        "020 7946 0958",
        "01632 960123",
        "0161 496 0000",
        "0800 123 456",
    ],
)
def test_uk_phone_formats(phone: str) -> None:
    assert is_uk_phone(phone)
    assert found(f"ring me on {phone} after six", "phone") == [("phone", phone)]


@pytest.mark.parametrize(
    "text", ["60 mil", "999", "0113 49", "07700 90012", "12345 678901", "0900123456789", "1990"]
)
def test_not_phones(text: str) -> None:
    assert not is_uk_phone(text)
    assert found(f"it was {text} then", "phone") == []


def test_phone_followed_by_other_numbers() -> None:
    text = "Ring 07700 900123 2019 was bad, or 0113 496 0123 12 times."
    assert found(text) == [("phone", "07700 900123"), ("phone", "0113 496 0123")]


def test_dates_of_birth_and_other_dates() -> None:
    text = (
        "Mum's date of birth is 12/04/1996. The conference was on 3 March 2023. "
        "Kayden was born on the 14th of March. She was due on 12 May 2023. "
        "His birthday's 20 November. DOB: 30.11.1993. I relapsed in 2019, in March."
    )
    assert found(text) == [
        ("date-of-birth", "12/04/1996"),
        ("date", "3 March 2023"),
        ("person", "Kayden"),
        ("date-of-birth", "14th of March"),
        ("date", "12 May 2023"),
        ("date-of-birth", "20 November"),
        ("date-of-birth", "30.11.1993"),
    ]


def test_addresses() -> None:
    text = (
        "We moved to Flat 3, 22 Hawthorn Court, then 14 Wensley Road. She lives on "
        "Kingsway Avenue now, near the High Street and Hyde Park."
    )
    assert found(text, "address") == [
        ("address", "Flat 3, 22 Hawthorn Court"),
        ("address", "14 Wensley Road"),
        ("address", "Kingsway Avenue"),
    ]


# --------------------------------------------------------------------------- gazetteers


def test_gazetteer_towns_and_areas_with_labels() -> None:
    spans = detect("I grew up in Newcastle upon Tyne, then Harehills, then Stoke-on-Trent.")
    assert [(s.text, s.label) for s in spans] == [
        ("Newcastle upon Tyne", "town"),
        ("Harehills", "area"),
        ("Stoke-on-Trent", "town"),
    ]


def test_gazetteer_is_a_few_hundred_places() -> None:
    gaz = default_gazetteers()
    assert len(gaz.places) >= 300
    assert len(gaz.first_names) >= 300


def test_reading_the_town_and_reading_the_verb() -> None:
    assert found("Reading was where I grew up.") == [("place", "Reading")]
    assert found("Reading the letter, I froze.") == []
    assert found("We moved to Reading in the end.") == [("place", "Reading")]
    assert found("I like reading to him.") == []


def test_bath_the_town_and_bath_time() -> None:
    assert found("Bath time was the worst.") == []
    assert found("We used to live in Bath before.") == [("place", "Bath")]


def test_extended_gazetteer() -> None:
    gaz = default_gazetteers().extended(
        places={"Little Wobbling": "village"}, institutions={"Forward Leeds": "drug service"}
    )
    spans = detect("From Little Wobbling I went to Forward Leeds.", gazetteers=gaz)
    assert [(s.kind, s.text, s.label) for s in spans] == [
        ("place", "Little Wobbling", "village"),
        ("institution", "Forward Leeds", "drug service"),
    ]


def test_estates_and_moved_to() -> None:
    assert found("I lived on the Bellgrove estate.") == [("place", "Bellgrove")]
    assert found("Then we moved to Tonypandy with his mam.") == [("place", "Tonypandy")]


@pytest.mark.parametrize(
    ("text", "name", "label"),
    [
        ("I was at Leeds General Infirmary.", "Leeds General Infirmary", "hospital"),
        (
            "The clinic at Harrowgate Road Medical Practice.",
            "Harrowgate Road Medical Practice",
            "GP practice",
        ),
        ("He goes to Oakfield Primary School now.", "Oakfield Primary School", "school"),
        (
            "Then Kirklees Children's Services got involved.",
            "Kirklees Children's Services",
            "local authority",
        ),
        ("I was in HMP Styal.", "HMP Styal", "justice"),
        ("She was on Ward 42 for a week.", "Ward 42", "ward"),
        ("Born at St Luke's in the end.", "St Luke's", "institution"),
        ("We go to Little Acorns Nursery.", "Little Acorns Nursery", "school"),
    ],
)
def test_institution_patterns(text: str, name: str, label: str) -> None:
    spans = [s for s in detect(text) if s.kind == "institution"]
    assert [(s.text, s.label) for s in spans] == [(name, label)]


def test_generic_services_are_not_institutions() -> None:
    assert found("Social Services came round and the Maternity Unit rang.") == []


# --------------------------------------------------------------------------- people


def test_known_people_get_their_roles() -> None:
    spans = detect(
        "Darren's mam had Kayden while I was at the clinic. KAYDEN loves her.",
        known_people={"Kayden": "baby's name", "Darren": "partner"},
    )
    assert [(s.text, s.label, s.source) for s in spans] == [
        ("Darren", "partner", "known-people"),
        ("Kayden", "baby's name", "known-people"),
        ("KAYDEN", "baby's name", "known-people"),
    ]


def test_grace_the_name_and_the_grace_of_god() -> None:
    text = "It was only by the grace of God, by the Grace of God really. Grace was tiny."
    assert found(text, known_people={"Grace": "baby's name"}) == [("person", "Grace")]
    assert found(text) == [("person", "Grace")]


def test_word_names_at_the_start_of_a_sentence() -> None:
    text = (
        "Hope you don't mind. Hope was feeding better. Will you turn that off? So Will was inside."
    )
    spans = detect(text, known_people={"Hope": "baby's name", "Will": "partner"})
    assert [(s.start, s.text, s.label) for s in spans] == [
        (text.index("Hope was"), "Hope", "baby's name"),
        (text.index("Will was"), "Will", "partner"),
    ]


def test_cue_words_titles_and_surnames() -> None:
    text = (
        "My key worker Jenny Marsh came. Dr Adeyemi said so, and Sister Okonjo. "
        "A lad called Tomasz helped. My brother Chester too."
    )
    assert found(text) == [
        ("person", "Jenny Marsh"),
        ("person", "Adeyemi"),
        ("person", "Okonjo"),
        ("person", "Tomasz"),
        ("person", "Chester"),
    ]


def test_speaker_label_names() -> None:
    text = "Facilitator: Anything else?\nBeverley: No.\nDawn: Just the notes.\nP1: Yes."
    assert found(text) == [("person", "Beverley"), ("person", "Dawn")]


def test_hyphenated_names() -> None:
    assert found("Josh wanted Lily-Rose.", known_people={"Lily": "baby"}) == [
        ("person", "Josh"),
        ("person", "Lily-Rose"),
    ]


def test_spans_do_not_overlap_and_kinds_filter() -> None:
    text = "Leeds General Infirmary in Leeds LS1 3EX, call 0113 496 0123."
    spans = detect(text)
    for a, b in pairwise(spans):
        assert a.end <= b.start
    assert found(text, kinds={"postcode"}) == [("postcode", "LS1 3EX")]
    with pytest.raises(DeidentifyError):
        detect(text, kinds={"shoe size"})


def test_extra_detector_hook() -> None:
    def model(text: str) -> list[Span]:
        i = text.index("Zebedee")
        return [Span(i, i + 7, "person", "Zebedee", "name", "model")]

    text = "Zebedee came from Leeds."
    assert found(text) == [("place", "Leeds")]
    spans = detect(text, extra_detectors=[model])
    assert [(s.text, s.source) for s in spans] == [("Zebedee", "model"), ("Leeds", "gazetteer")]


def test_context_for_review_screen() -> None:
    text = "I moved to Leeds last year."
    span = detect(text)[0]
    assert context(text, span, width=9) == ("moved to ", "Leeds", " last yea")


# --------------------------------------------------------------------------- apply


def test_apply_consistent_labels_in_a_document() -> None:
    text = "Kayden was born in Leeds. Darren's from Bradford. Kayden likes Leeds."
    known = {"Kayden": "baby's name", "Darren": "partner"}
    out, mapping = apply(text, detect(text, known_people=known))
    assert out == (
        "[baby's name] was born in [town 1]. [partner]'s from [town 2]. "
        "[baby's name] likes [town 1]."
    )
    assert {r.label for r in mapping.replacements} == {
        "[baby's name]",
        "[town 1]",
        "[town 2]",
        "[partner]",
    }


def test_one_town_is_unnumbered() -> None:
    out, _ = apply("Leeds, Leeds, Leeds.", detect("Leeds, Leeds, Leeds."))
    assert out == "[town], [town], [town]."


def test_apply_set_labels_consistent_across_documents() -> None:
    texts = ["I lived in Leeds with Darren.", "Darren moved to Bradford.", "Back in Leeds now."]
    known = {"Darren": "partner"}
    outputs, mapping = apply_set(
        [(t, detect(t, known_people=known), []) for t in texts], document_ids=["a", "b", "c"]
    )
    assert outputs == [
        "I lived in [town 1] with [partner].",
        "[partner] moved to [town 2].",
        "Back in [town 1] now.",
    ]
    assert [r.document_id for r in mapping.replacements] == ["a", "a", "b", "b", "c"]


def test_incremental_mapping_keeps_labels_stable() -> None:
    mapping = LabelMap()
    first, _ = apply("From Leeds.", detect("From Leeds."), mapping=mapping)
    second, _ = apply("From Hull, not Leeds.", detect("From Hull, not Leeds."), mapping=mapping)
    assert first == "From [town]."
    assert second == "From [town 2], not [town]."
    restored = LabelMap.from_dict(json.loads(json.dumps(mapping.to_dict())))
    third, _ = apply("Hull again.", detect("Hull again."), mapping=restored)
    assert third == "[town 2] again."


def test_same_original_in_another_form_gets_the_same_label() -> None:
    text = "Ring 07700 900123 or +44 7700 900123; postcode LS8 5QT or LS85QT."
    out, _ = apply(text, detect(text))
    assert out == "Ring [phone number] or [phone number]; postcode [postcode] or [postcode]."


def test_overlapping_spans_merge_and_adjacent_spans_stay_apart() -> None:
    text = "abc Leeds General Infirmary xyz LS1 3EX"
    a = Span(4, 9, "place", "Leeds", "town")
    b = Span(4, 27, "institution", "Leeds General Infirmary", "hospital")
    c = Span(10, 17, "person", "General", "name")
    d = Span(28, 31, "place", "xyz", "town")
    e = Span(31, 32, "place", " ", "gap")
    f = Span(32, 39, "postcode", "LS1 3EX", "postcode")
    out, mapping = apply(text, [a, b, c, d, e, f])
    assert out == "abc [hospital] [town][gap][postcode]"
    for r in mapping.replacements:
        assert out[r.output_start : r.output_end] == r.label
    assert [(r.start, r.end) for r in mapping.replacements] == [
        (4, 27),
        (28, 31),
        (31, 32),
        (32, 39),
    ]


def test_decisions_accept_reject_add() -> None:
    text = "Grace came with Jenny from Oakfield. Oakfield is small."
    spans = detect(text)
    assert [(s.text, s.kind) for s in spans] == [("Grace", "person"), ("Jenny", "person")]
    grace, jenny = spans
    oak = text.index("Oakfield")
    decisions = [
        Decision("reject", grace.start, grace.end, reviewer="r1"),
        Decision("accept", jenny.start, jenny.end, label="key worker"),
        Decision("add", oak, oak + len("Oakfield"), kind="place", label="village", everywhere=True),
    ]
    out, mapping = apply(text, spans, decisions)
    assert out == "Grace came with [key worker] from [village]. [village] is small."
    assert [r.source for r in mapping.replacements] == ["cue", "review", "review"]


def test_reject_everywhere() -> None:
    text = "Reading is hard. Reading was home. We moved to Reading."
    spans = detect(text)
    first = spans[0]
    final = reviewed_spans(
        text, spans, [Decision("reject", first.start, first.end, everywhere=True)]
    )
    assert final == []


def test_bad_decisions_and_foreign_spans() -> None:
    text = "From Leeds."
    spans = detect(text)
    with pytest.raises(DeidentifyError, match="no suggested span"):
        apply(text, spans, [Decision("reject", 0, 4)])
    with pytest.raises(DeidentifyError, match="outside the text"):
        apply(text, spans, [Decision("add", 5, 50, kind="place")])
    with pytest.raises(DeidentifyError, match="does not match"):
        apply("From Hull!!", spans)
    with pytest.raises(DeidentifyError):
        Decision("add", 0, 4)
    with pytest.raises(DeidentifyError):
        Decision("delete", 0, 4)  # type: ignore[arg-type]


def test_raw_text_is_not_in_output_or_replacements() -> None:
    text = "Kayden Smith, NHS number 943 476 5919, lives at 14 Elm Grove, Leeds LS8 5QT."
    out, mapping = apply(text, detect(text, known_people={"Kayden Smith": "baby's name"}))
    for secret in ("Kayden", "Smith", "943 476 5919", "Elm Grove", "Leeds", "LS8 5QT"):
        assert secret not in out
        assert secret not in json.dumps([r.__dict__ for r in mapping.replacements])


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet="ab .", min_size=1, max_size=60),
    st.lists(st.tuples(st.integers(0, 59), st.integers(1, 12)), max_size=6),
)
def test_apply_offsets_round_trip(text: str, raw_spans: list[tuple[int, int]]) -> None:
    spans = []
    for start, length in raw_spans:
        if start < len(text):
            end = min(len(text), start + length)
            spans.append(Span(start, end, "place", text[start:end], "town"))
    out, mapping = apply(text, spans)
    # Putting the originals back where the replacements say gives the text again.
    rebuilt, pos = [], 0
    for r in mapping.replacements:
        rebuilt.append(out[pos : r.output_start])
        assert out[r.output_start : r.output_end] == r.label
        rebuilt.append(text[r.start : r.end])
        pos = r.output_end
    rebuilt.append(out[pos:])
    assert "".join(rebuilt) == text
    covered = sorted((r.start, r.end) for r in mapping.replacements)
    for (_, b), (c, _) in pairwise(covered):
        assert b <= c
    for s in spans:
        assert any(r.start <= s.start and s.end <= r.end for r in mapping.replacements)


# --------------------------------------------------------------------------- corpus


def test_corpus_is_synthetic_and_well_formed() -> None:
    raw = resources.files("steppingstones.voices").joinpath("corpus", "deidentify.jsonl")
    lines = [json.loads(x) for x in raw.read_text("utf-8").splitlines() if x.strip()]
    assert lines[0]["meta"]["synthetic"] is True
    items = load_corpus()
    assert len(items) >= 40
    assert len({i.id for i in items}) == len(items)
    assert {i.split for i in items} == {"dev", "held-out", "held-out-2"}
    kinds = {k for i in items for _, _, k in i.spans}
    assert kinds == set(KINDS)
    for item in items:
        spans = sorted(item.spans)
        for a, b in pairwise(spans):
            assert a[1] <= b[0], item.id
        for start, end, _ in spans:
            surface = item.text[start:end]
            assert surface == surface.strip(), item.id
            assert not re.match(r"\w", item.text[end : end + 1]), (item.id, surface)
            assert start == 0 or not re.match(r"\w", item.text[start - 1]), (item.id, surface)
        for email in re.findall(r"\S+@\S+", item.text):
            assert re.search(r"@example\.(?:com|org|net)", email), email


def test_corpus_precision_and_recall_floor() -> None:
    items = load_corpus()
    scores = evaluate(items, detect_corpus_item)
    overall = scores["overall"]
    assert overall.precision >= 0.95
    assert overall.recall >= 0.95
    for kind in ("phone", "email", "postcode", "nhs-number", "chi-number", "date-of-birth"):
        assert scores[kind].f1 == 1.0, kind
    assert redaction_recall(items, detect_corpus_item) >= 0.95
    held = [i for i in items if i.split == "held-out-2"]
    assert evaluate(held, detect_corpus_item)["overall"].f1 >= 0.85


def test_evaluate_counts() -> None:
    items = load_corpus()[:1]
    gold = list(items[0].spans)
    perfect = evaluate(items, lambda _: gold)["overall"]
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    nothing = evaluate(items, lambda _: [])["overall"]
    assert (nothing.tp, nothing.fn) == (0, len(gold))
    shifted = [(a + 1, b, k) for a, b, k in gold]
    assert evaluate(items, lambda _: shifted)["overall"].tp == 0
    assert evaluate(items, lambda _: shifted, match="overlap")["overall"].tp == len(gold)
