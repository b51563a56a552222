"""A small named-entity model for de-identification: people, places and institutions.

A token-level sequence labeller built on scikit-learn: a multinomial logistic regression over
hand-designed token features (the word, its shape and capitals, prefixes and suffixes, its
place in the sentence and the line, the words around it such as "my partner", "called",
"her name is", "at the", and membership in the gazetteers of ``deidentify``), with BIO tags
decoded by Viterbi under the BIO constraints (an ``I-`` tag only after a ``B-`` or ``I-`` of
the same kind; a span starts and ends on a capitalised word).

The model ships with the package in ``ner_model/model.npz``: the feature vocabulary, the
weights and the intercepts as plain arrays, read with ``allow_pickle=False`` and put back
into a ``DictVectorizer`` and a ``LogisticRegression``. Nothing is unpickled and nothing is
downloaded. ``ner_train`` regenerates the file from synthetic sentences and the corpus's
``dev`` split (never the held-out splits).

* ``load_model()``: the shipped model (cached).
* ``predict_spans(text)``: ``deidentify.Span``s with ``source="model"``.
* ``detector``: for ``deidentify.detect(text, extra_detectors=[detector])``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from steppingstones.voices import deidentify
from steppingstones.voices.deidentify import (
    DEFAULT_GAZETTEERS,
    DEFAULT_LABELS,
    INSTITUTION,
    PERSON,
    PLACE,
    Span,
)

MODEL_FILE = "model.npz"
SOURCE = "model"
TAGS: tuple[str, ...] = ("O", "B-PER", "I-PER", "B-PLACE", "I-PLACE", "B-INST", "I-INST")
TAG_KINDS = {"PER": PERSON, "PLACE": PLACE, "INST": INSTITUTION}
KIND_TAGS = {v: k for k, v in TAG_KINDS.items()}

_TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|['’][A-Za-z]+|\d+|[^\s\w]|_")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Words (hyphens kept inside), apostrophe parts ("'s" alone), digit runs, punctuation."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


# --------------------------------------------------------------------------- features

_STOP_CAPS = frozenset(w.replace("’", "'") for w in deidentify._STOP_CAPS)
_INST_WORDS_TEXT = """
    Hospital Infirmary Unit Centre Center Practice Surgery School Academy College Nursery
    Services Service Council Team Hub Pharmacy Chemist Chemists Hostel Refuge Housing
    Association Foyer University Prison Court Church Mosque Ward Clinic Trust Project
    Partnership Group General Royal"""
_INST_WORDS = frozenset(_INST_WORDS_TEXT.split())
_STREET_WORDS = frozenset(deidentify._STREET_SUFFIXES.split("|"))
_TITLES_TEXT = "Dr Doctor Mr Mrs Ms Miss Mx Nurse Sister"
_TITLES = frozenset(_TITLES_TEXT.split())
_KIN_TEXT = """
    mum mam mom mother dad father nan nana gran grandma granny grandad sister brother
    partner boyfriend girlfriend husband wife fiance fiancee ex son daughter baby boy girl lad
    friend mate aunt auntie aunty uncle cousin niece nephew keyworker worker midwife doctor
    nurse carer solicitor officer visitor coordinator"""
_KIN = frozenset(_KIN_TEXT.split())
_SENTENCE_END = frozenset(".!?…")


def _shape(word: str) -> str:
    out: list[str] = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _low(tokens: Sequence[Token], i: int) -> str:
    if i < 0:
        return "<s>"
    if i >= len(tokens):
        return "</s>"
    return tokens[i].text.lower().replace("’", "'")


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def token_features(text: str, tokens: Sequence[Token]) -> list[dict[str, float]]:
    """One feature dict per token (names → 1.0)."""
    gaz = DEFAULT_GAZETTEERS
    feats: list[dict[str, float]] = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        w = tok.text.replace("’", "'")
        lw = w.lower()
        prev_gap = text[tokens[i - 1].end : tok.start] if i else "\n"
        next_tok = tokens[i + 1] if i + 1 < n else None
        prev = tokens[i - 1].text if i else ""
        sent_start = (
            i == 0
            or "\n" in prev_gap
            or prev in _SENTENCE_END
            or (prev == ":" and _line_label_before(text, tokens, i))
            or (prev in "\"“‘'(" and (i < 2 or tokens[i - 2].text in ".!?:"))
        )
        line_start = i == 0 or "\n" in prev_gap
        label_pos = line_start and next_tok is not None and next_tok.text == ":"
        f: dict[str, float] = {"bias": 1.0, "w=" + lw: 1.0, "shape=" + _shape(w): 1.0}
        cap = _is_cap(w)
        if w.isalpha() or "-" in w:
            f["suf3=" + lw[-3:]] = 1.0
            f["suf2=" + lw[-2:]] = 1.0
            f["pre2=" + lw[:2]] = 1.0
            f["pre3=" + lw[:3]] = 1.0
        if cap:
            f["cap"] = 1.0
            f["cap_sent_start" if sent_start else "cap_mid"] = 1.0
            if w.isupper() and len(w) > 1:
                f["allcaps"] = 1.0
            if w in _STOP_CAPS:
                f["gaz=stop"] = 1.0
            if w in gaz.first_names:
                f["gaz=first"] = 1.0
            if w in gaz.word_names:
                f["gaz=wordname"] = 1.0
            if w in gaz.places:
                f["gaz=place"] = 1.0
            if w in gaz.ambiguous_places:
                f["gaz=ambiguous_place"] = 1.0
            if w in _INST_WORDS:
                f["gaz=inst_word"] = 1.0
            if w in _STREET_WORDS:
                f["gaz=street_word"] = 1.0
            if w in _TITLES:
                f["gaz=title"] = 1.0
        if sent_start:
            f["sent_start"] = 1.0
        if line_start:
            f["line_start"] = 1.0
        if label_pos:
            f["label_pos"] = 1.0
            f["label_pos_shape=" + _shape(w)] = 1.0
        if "-" in w:
            f["hyphen"] = 1.0
        if any(c.isdigit() for c in w):
            f["digit"] = 1.0
        p1, p2, p3 = _low(tokens, i - 1), _low(tokens, i - 2), _low(tokens, i - 3)
        n1, n2 = _low(tokens, i + 1), _low(tokens, i + 2)
        f["p1=" + p1] = 1.0
        f["p2=" + p2] = 1.0
        f["p21=" + p2 + " " + p1] = 1.0
        f["p321=" + p3 + " " + p2 + " " + p1] = 1.0
        f["n1=" + n1] = 1.0
        f["n2=" + n2] = 1.0
        f["n12=" + n1 + " " + n2] = 1.0
        if p1 in _KIN:
            f["p1_kin"] = 1.0
        if p2 in _KIN:
            f["p2_kin"] = 1.0
        for j, tag in ((i - 1, "p1"), (i + 1, "n1"), (i - 2, "p2"), (i + 2, "n2")):
            if 0 <= j < n:
                other = tokens[j].text.replace("’", "'")
                if _is_cap(other):
                    f[tag + "_cap"] = 1.0
                    if other in _INST_WORDS:
                        f[tag + "_inst_word"] = 1.0
                    if other in _STOP_CAPS:
                        f[tag + "_stop"] = 1.0
                    if other in _TITLES:
                        f[tag + "_title"] = 1.0
                    if other in _STREET_WORDS:
                        f[tag + "_street_word"] = 1.0
                    if other in gaz.first_names:
                        f[tag + "_first"] = 1.0
                    if other in gaz.places:
                        f[tag + "_place"] = 1.0
        if cap:
            f["cap&p1=" + p1] = 1.0
            f["cap&n1=" + n1] = 1.0
        feats.append(f)
    return feats


def _line_label_before(text: str, tokens: Sequence[Token], i: int) -> bool:
    """Whether the ":" before token ``i`` ends a speaker label at the start of its line."""
    colon = tokens[i - 1]
    line_start = text.rfind("\n", 0, colon.start) + 1
    return len(text[line_start : colon.start]) <= 30


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Model:
    vectorizer: DictVectorizer
    classifier: LogisticRegression
    meta: dict[str, Any]

    @property
    def tags(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]


def model_from_arrays(
    features: Sequence[str],
    coef: np.ndarray,
    intercept: np.ndarray,
    classes: Sequence[str],
    meta: dict[str, Any] | None = None,
) -> Model:
    """Rebuild the estimator from plain arrays (no pickle)."""
    vec = DictVectorizer(dtype=np.float64)
    vec.feature_names_ = list(features)
    vec.vocabulary_ = {name: j for j, name in enumerate(features)}
    clf = LogisticRegression()
    clf.classes_ = np.array(list(classes))
    clf.coef_ = np.asarray(coef, dtype=np.float64)
    clf.intercept_ = np.asarray(intercept, dtype=np.float64)
    clf.n_features_in_ = len(features)
    return Model(vec, clf, dict(meta or {}))


def save_model(model: Model, path: Any) -> None:
    """Write the vocabulary, weights and intercepts as a compressed ``.npz`` of plain arrays."""
    features = np.array(model.vectorizer.feature_names_, dtype=np.str_)
    np.savez_compressed(
        path,
        features=features,
        coef=model.classifier.coef_.astype(np.float32),
        intercept=model.classifier.intercept_.astype(np.float32),
        classes=np.array(model.tags, dtype=np.str_),
        meta=np.array(json.dumps(model.meta, sort_keys=True), dtype=np.str_),
    )


def read_model(source: Any) -> Model:
    """Read a model file (a path or a binary file) with ``allow_pickle=False``."""
    with np.load(source, allow_pickle=False) as data:
        return model_from_arrays(
            [str(x) for x in data["features"]],
            data["coef"],
            data["intercept"],
            [str(x) for x in data["classes"]],
            json.loads(str(data["meta"])),
        )


@functools.cache
def load_model() -> Model:
    """The shipped model, read once."""
    ref = resources.files("steppingstones.voices").joinpath("ner_model", MODEL_FILE)
    with ref.open("rb") as handle:
        return read_model(handle)


def _allowed(prev: str, cur: str) -> bool:
    if cur.startswith("I-"):
        return prev in ("B-" + cur[2:], cur)
    return True


def viterbi(log_probs: np.ndarray, tags: Sequence[str], tokens: Sequence[Token]) -> list[str]:
    """Best tag sequence under the BIO constraints; a span starts on a capitalised word."""
    n, k = log_probs.shape
    if n == 0:
        return []
    neg = -1e9
    scores = log_probs.copy()
    for i, tok in enumerate(tokens):
        if not _is_cap(tok.text):
            for j, t in enumerate(tags):
                if t.startswith("B-"):
                    scores[i, j] = neg
    best = np.full((n, k), neg)
    back = np.zeros((n, k), dtype=np.int64)
    for j, t in enumerate(tags):
        best[0, j] = scores[0, j] if not t.startswith("I-") else neg
    allowed = np.array([[_allowed(a, b) for b in tags] for a in tags])
    for i in range(1, n):
        cand = best[i - 1][:, None] + np.where(allowed, 0.0, neg)
        back[i] = np.argmax(cand, axis=0)
        best[i] = cand[back[i], np.arange(k)] + scores[i]
    path = [int(np.argmax(best[-1]))]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return [tags[j] for j in reversed(path)]


def _institution_label(surface: str) -> str:
    for suffix, label in deidentify._INSTITUTION_SUFFIXES:
        if re.search(rf"(?:{suffix})$", surface):
            return label
    return DEFAULT_LABELS[INSTITUTION]


def spans_from_tags(text: str, tokens: Sequence[Token], tags: Sequence[str]) -> list[Span]:
    """Turn BIO tags into spans; trailing words that are not capitalised are left out."""
    spans: list[Span] = []
    i = 0
    while i < len(tokens):
        tag = tags[i]
        if not tag.startswith("B-"):
            i += 1
            continue
        kind = TAG_KINDS[tag[2:]]
        j = i + 1
        while j < len(tokens) and tags[j] == "I-" + tag[2:]:
            j += 1
        last = j - 1
        while last > i and not _is_cap(tokens[last].text):
            last -= 1
        start, end = tokens[i].start, tokens[last].end
        after = tokens[last + 1] if last + 1 < len(tokens) else None
        if (
            kind == INSTITUTION
            and last > i
            and tokens[last - 1].text in ("St", "Saint")
            and after is not None
            and after.start == end
            and after.text in ("'s", "’s")
        ):
            end = after.end  # "St Luke's": the possessive is part of the name
        surface = text[start:end]
        words = [w.rstrip("s") if w.endswith("days") else w for w in surface.split()]
        if all(w.replace("’", "'") in _STOP_CAPS for w in words):
            i = j
            continue  # "Mondays", "Social Services": never a name here
        if kind == PERSON:
            label = DEFAULT_LABELS[PERSON]
        elif kind == PLACE:
            label = DEFAULT_GAZETTEERS.places.get(surface, DEFAULT_LABELS[PLACE])
        else:
            label = _institution_label(surface)
        spans.append(Span(start, end, kind, surface, label, SOURCE))
        i = j
    return spans


def tag_tokens(text: str, tokens: Sequence[Token], model: Model | None = None) -> list[str]:
    """The decoded tag of each token."""
    if not tokens:
        return []
    model = model or load_model()
    x = model.vectorizer.transform(token_features(text, tokens))
    with np.errstate(divide="ignore"):
        log_probs = model.classifier.predict_log_proba(x)
    return viterbi(log_probs, model.tags, tokens)


def predict_spans(text: str, model: Model | None = None) -> list[Span]:
    """People, places and institutions the model finds in ``text`` (``source="model"``)."""
    tokens = tokenize(text)
    return spans_from_tags(text, tokens, tag_tokens(text, tokens, model))


def detector(text: str) -> list[Span]:
    """``predict_spans`` with the shipped model: pass in ``detect(extra_detectors=[...])``."""
    return predict_spans(text)
