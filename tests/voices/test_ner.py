"""The named-entity model: safe shipped file, determinism, new names, no false people, wiring."""

from __future__ import annotations

import pickle
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.base import ContentFile

from steppingstones.voices import deidentify, ner, ner_train, sources
from steppingstones.voices.deidentify import DEFAULT_GAZETTEERS, Span, detect

from .test_sources import voices_world, woman_target  # noqa: F401  (the fixture)


def model_file() -> Any:
    return resources.files("steppingstones.voices").joinpath("ner_model", ner.MODEL_FILE)


def people(text: str) -> list[str]:
    return [s.text for s in ner.predict_spans(text) if s.kind == "person"]


# --------------------------------------------------------------------------- the shipped file


def test_the_shipped_model_is_small_plain_arrays_and_loads_without_pickle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = model_file().read_bytes()
    assert len(data) < 2 * 1024 * 1024
    with zipfile.ZipFile(model_file().open("rb")) as archive:
        assert sorted(archive.namelist()) == [
            "classes.npy",
            "coef.npy",
            "features.npy",
            "intercept.npy",
            "meta.npy",
        ]
    with np.load(model_file().open("rb"), allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the model must not be unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    model = ner.read_model(model_file().open("rb"))
    assert model.tags == sorted(ner.TAGS)
    assert model.classifier.coef_.shape == (len(ner.TAGS), len(model.vectorizer.feature_names_))
    assert model.meta["corpus_splits"] == ["dev"]


def test_load_model_is_cached_and_prediction_is_deterministic() -> None:
    assert ner.load_model() is ner.load_model()
    text = "P3: My key worker Tamsin came round. We moved to Thistleby after the refuge."
    first = ner.predict_spans(text)
    again = ner.predict_spans(text, ner.read_model(model_file().open("rb")))
    assert first == again == ner.predict_spans(text)


# --------------------------------------------------------------------------- what it finds


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("My key worker Tamsin came round on the Tuesday.", "Tamsin"),
        ("Her name is Oriel and she is three weeks old.", "Oriel"),
        ("I rang my cousin Brannagh and she came straight over.", "Brannagh"),
        ("Dr Okwuosa said he would need morphine for the withdrawals.", "Okwuosa"),
        ("GG-W05: Me and Teodora were both on a script then.", "Teodora"),
    ],
)
def test_new_names_in_no_gazetteer_or_list_are_found(text: str, name: str) -> None:
    assert name not in DEFAULT_GAZETTEERS.first_names and name not in DEFAULT_GAZETTEERS.places
    assert name in people(text)
    found = [s for s in detect(text, extra_detectors=[ner.detector]) if s.text == name]
    assert found and found[0].kind == "person"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Teodora turned up at the hospital with flowers.", "Teodora"),
        ("Honestly, Ysolde was the only one who listened to me.", "Ysolde"),
        ("EL-W01: Lorcan bought the pram off a mate.", "Lorcan"),
        ("GG-W02: Ffion got me the number for the food bank.", "Ffion"),
    ],
)
def test_the_model_adds_names_the_rules_miss(text: str, name: str) -> None:
    assert [s.text for s in detect(text) if s.kind == "person"] == []
    found = [(s.text, s.kind, s.source) for s in detect(text, extra_detectors=[ner.detector])]
    assert (name, "person", "model") in found


def test_places_and_institutions_get_deidentify_labels() -> None:
    spans = ner.predict_spans(
        "We moved to Thistleby when the baby was six months. I had him at Oakmere General "
        "Hospital in the end, and she was on the ward at St Jude's."
    )
    got = {(s.text, s.kind, s.label, s.source) for s in spans}
    assert ("Thistleby", "place", "town", "model") in got
    assert ("Oakmere General Hospital", "institution", "hospital", "model") in got
    assert ("St Jude's", "institution", "institution", "model") in got
    assert all(isinstance(s, Span) for s in spans)


@pytest.mark.parametrize(
    "text",
    [
        "Honestly I was terrified. Methadone was the only thing. Social Services came round.",
        "The Health Visitor came on Thursdays. Universal Credit took ages.",
        "I went to the Recovery Hub and the Family Nurse Partnership.",
        "Sometimes I just sit and cry. Nobody came. Everything was a mess.",
        "Anyway, Children’s Social Care got involved. Christmas was hard.",
        "Interviewer: How have things been?\nMidwife: Better, since the Neonatal Unit.",
        "P1: I go to the clinic on Mondays.\n",
    ],
)
def test_sentence_starts_and_service_names_are_not_people(text: str) -> None:
    assert people(text) == []


def test_spans_are_valid_and_start_on_a_capital() -> None:
    text = "Well my mum Janelle, she said the midwife Ros Abernathy was lovely to Caspian."
    for s in ner.predict_spans(text):
        assert text[s.start : s.end] == s.text and s.text[0].isupper()
        assert s.source == "model" and s.kind in ("person", "place", "institution")


def test_empty_and_plain_text() -> None:
    assert ner.predict_spans("") == []
    assert ner.detector("no capitals here at all, just words.") == []


# --------------------------------------------------------------------------- training


def test_training_never_reads_the_held_out_splits() -> None:
    with pytest.raises(ValueError, match="held-out"):
        ner_train.corpus_examples(("dev", "held-out-2"))
    held_out = [i.text for i in deidentify.load_corpus() if i.split.startswith("held-out")]
    used = {text for text, _ in ner_train.corpus_examples()}
    assert held_out and not used & set(held_out)


def test_synthetic_examples_are_deterministic_and_well_formed() -> None:
    one = ner_train.synthetic_examples(200, seed=3)
    assert one == ner_train.synthetic_examples(200, seed=3)
    assert one != ner_train.synthetic_examples(200, seed=4)
    for text, spans in one:
        for a, b, kind in spans:
            assert kind in ("person", "place", "institution") and text[a:b].strip() == text[a:b]


def test_retraining_small_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    first = ner_train.train(seed=5, n=150, dev=False)
    second = ner_train.train(seed=5, n=150, dev=False)
    assert first.vectorizer.feature_names_ == second.vectorizer.feature_names_
    assert np.array_equal(first.classifier.coef_, second.classifier.coef_)
    path = tmp_path / "m.npz"
    ner.save_model(first, path)
    back = ner.read_model(path)
    text = "My partner Lorcan came round. We live in Hollinby now."
    assert ner.predict_spans(text, back) == ner.predict_spans(text, first)


def test_the_shipped_model_was_made_with_the_script_defaults() -> None:
    meta = ner.load_model().meta
    assert meta["seed"] == ner_train.SEED
    assert meta["synthetic_sentences"] == ner_train.N_SENTENCES
    assert meta["C"] == ner_train.C and meta["prune"] == ner_train.PRUNE


def test_retraining_with_the_script_reproduces_the_shipped_weights(tmp_path: Path) -> None:
    out = tmp_path / "model.npz"
    ner_train.main(["--out", str(out)])
    made, shipped = ner.read_model(out), ner.load_model()
    assert made.vectorizer.feature_names_ == shipped.vectorizer.feature_names_
    assert np.allclose(made.classifier.coef_, shipped.classifier.coef_, atol=2e-3)


# --------------------------------------------------------------------------- ingestion


def test_ingestion_stores_model_detections(voices_world: dict) -> None:  # noqa: F811
    text = "Interviewer: Who helps?\nEL-W01: Lorcan bought the pram off a mate.\n"
    source = sources.ingest(
        voices_world["alpha"],
        ContentFile(text.encode(), name="t.txt"),
        kind="interview",
        target=woman_target(voices_world),
    )
    start = text.index("Lorcan")
    rows = list(source.redactions.values_list("start", "end", "kind", "detector"))
    assert (start, start + len("Lorcan"), "person", "model") in rows
