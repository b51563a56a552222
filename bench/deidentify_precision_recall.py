"""De-identification: precision, recall and F1 per kind on the shipped synthetic corpus.

The corpus (``src/steppingstones/voices/corpus/deidentify.jsonl``) is 72 synthetic excerpts
of UK perinatal interviews (women who use drugs, midwives, social workers, health visitors,
staff focus groups) with gold spans. Its ``split`` says how each excerpt was used:

* ``dev``: written first; the rules were tuned on it.
* ``held-out``: written next and scored once; the rules were then fixed for its misses, so it
  is no longer unseen.
* ``held-out-2``: written last, scored once, never tuned on: the honest estimate.

Methods, all on the same excerpts in one run:

* ``ours``: ``steppingstones.voices.deidentify.detect`` with the excerpt's known people.
* ``ours, no list``: the same without the participant's list of people (rules, gazetteers
  and cue words only).
* with ``--model``: ``ours + model`` and ``no list + model``, the same with the shipped
  named-entity model (``steppingstones.voices.ner``) passed as an extra detector, as ingestion
  does; and ``model alone`` on the kinds it labels (person, place, institution), with its
  person names on their own.
* ``scrubadub`` (pure rules, pip-installable, no model download) when installed: its en_GB
  default detectors, its date-of-birth detector (context required) and its user-supplied
  detector given the same known people. Its types map to ours: name → person, email,
  phone, postalcode → postcode, date_of_birth → date-of-birth; any other type it reports
  (URL, licence plate, ...) counts as a false positive overall.

Scores: ``strict`` (same start, end and kind), ``overlap`` (same kind, overlapping) and
redaction recall (share of gold identifier characters covered by any prediction). The F1
ratio ours/scrubadub is printed over all kinds and over the kinds scrubadub looks for.

Run: .venv/bin/python bench/deidentify_precision_recall.py [--split NAME] [--no-peer] [--model]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Sequence

from steppingstones.voices.deidentify import (
    DATE_OF_BIRTH,
    EMAIL,
    INSTITUTION,
    KINDS,
    PERSON,
    PHONE,
    PLACE,
    POSTCODE,
    CorpusItem,
    Score,
    detect,
    evaluate,
    load_corpus,
    redaction_recall,
)

Prediction = list[tuple[int, int, str]]
PEER_KINDS = (PERSON, DATE_OF_BIRTH, PHONE, EMAIL, POSTCODE)
PEER_TYPES = {
    "name": PERSON,
    "email": EMAIL,
    "phone": PHONE,
    "postalcode": POSTCODE,
    "date_of_birth": DATE_OF_BIRTH,
}


def ours(item: CorpusItem) -> Prediction:
    spans = detect(item.text, known_people=item.known_people)
    return [(s.start, s.end, s.kind) for s in spans]


def ours_no_list(item: CorpusItem) -> Prediction:
    return [(s.start, s.end, s.kind) for s in detect(item.text)]


def ours_model(item: CorpusItem) -> Prediction:
    from steppingstones.voices import ner

    spans = detect(item.text, known_people=item.known_people, extra_detectors=[ner.detector])
    return [(s.start, s.end, s.kind) for s in spans]


def no_list_model(item: CorpusItem) -> Prediction:
    from steppingstones.voices import ner

    return [(s.start, s.end, s.kind) for s in detect(item.text, extra_detectors=[ner.detector])]


def model_alone(item: CorpusItem) -> Prediction:
    from steppingstones.voices import ner

    return [(s.start, s.end, s.kind) for s in ner.predict_spans(item.text)]


MODEL_KINDS = (PERSON, PLACE, INSTITUTION)


def make_scrubadub() -> tuple[Callable[[CorpusItem], Prediction], dict[str, int]] | None:
    try:
        import scrubadub
        from scrubadub.detectors import DateOfBirthDetector, UserSuppliedFilthDetector
    except ImportError:
        return None
    unmapped: dict[str, int] = {}

    def predict(item: CorpusItem) -> Prediction:
        scrubber = scrubadub.Scrubber(locale="en_GB")
        scrubber.add_detector(DateOfBirthDetector(locale="en_GB", require_context=True))
        if item.known_people:
            known = [
                {"match": name, "filth_type": "name", "ignore_case": True}
                for name in item.known_people
            ]
            scrubber.add_detector(UserSuppliedFilthDetector(known, locale="en_GB"))
        out: Prediction = []
        for filth in scrubber.iter_filth(item.text):
            parts = getattr(filth, "filths", None) or [filth]  # merged filth
            for part in parts:
                kind = PEER_TYPES.get(part.type)
                if kind is None:
                    unmapped[part.type] = unmapped.get(part.type, 0) + 1
                    out.append((part.beg, part.end, "other"))
                else:
                    out.append((part.beg, part.end, kind))
        return out

    return predict, unmapped


def scored(
    items: Sequence[CorpusItem], predictions: dict[str, Prediction], kinds: Iterable[str]
) -> tuple[dict[str, Score], dict[str, Score], float, int]:
    def lookup(item: CorpusItem) -> Prediction:
        return [p for p in predictions[item.id] if p[2] != "other"]

    kinds = tuple(kinds)
    strict = evaluate(items, lookup, kinds=kinds)
    overlap = evaluate(items, lookup, match="overlap", kinds=kinds)
    others = sum(1 for i in items for p in predictions[i.id] if p[2] == "other")
    strict["overall"].fp += others
    overlap["overall"].fp += others
    covered = redaction_recall(items, lambda i: predictions[i.id])
    return strict, overlap, covered, others


def fmt(s: Score) -> str:
    return f"{s.precision:5.3f} {s.recall:5.3f} {s.f1:5.3f}  ({s.tp:3d} {s.fp:3d} {s.fn:3d})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("all", "dev", "held-out", "held-out-2"), default="all")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument(
        "--model", action="store_true", help="also with the shipped named-entity model"
    )
    args = parser.parse_args()
    corpus = load_corpus()
    splits = ["all", "dev", "held-out", "held-out-2"] if args.split == "all" else [args.split]

    methods: dict[str, Callable[[CorpusItem], Prediction]] = {
        "ours": ours,
        "ours, no list": ours_no_list,
    }
    if args.model:
        methods["ours + model"] = ours_model
        methods["no list + model"] = no_list_model
        methods["model alone"] = model_alone
    peer = None if args.no_peer else make_scrubadub()
    if peer is not None:
        methods["scrubadub"] = peer[0]
    elif not args.no_peer:
        print("scrubadub is not installed: pip install scrubadub (the peer is skipped)\n")

    predictions: dict[str, dict[str, Prediction]] = {}
    timings: dict[str, float] = {}
    words = sum(len(i.text.split()) for i in corpus)
    for name, fn in methods.items():
        t0 = time.perf_counter()
        predictions[name] = {i.id: fn(i) for i in corpus}
        timings[name] = time.perf_counter() - t0

    n_spans = sum(len(i.spans) for i in corpus)
    print(f"corpus: {len(corpus)} synthetic excerpts, {words} words, {n_spans} gold spans")
    for name, seconds in timings.items():
        print(
            f"  {name:14s} {seconds * 1000:7.1f} ms for the corpus "
            f"({seconds / words * 1e6:6.1f} µs a word)"
        )
    if peer is not None and peer[1]:
        print(f"  scrubadub types with no counterpart (false positives): {peer[1]}")

    for split in splits:
        items = corpus if split == "all" else [i for i in corpus if i.split == split]
        print(
            f"\n=== split: {split} ({len(items)} excerpts, "
            f"{sum(len(i.spans) for i in items)} gold spans) ==="
        )
        table = [n for n in methods if n != "model alone"]
        results = {name: scored(items, predictions[name], KINDS) for name in table}
        header = "kind            " + "".join(f"| {n:34s}" for n in table)
        print(header)
        print("                " + "| P     R     F1     (tp  fp  fn)  " * len(table))
        for kind in (*KINDS, "overall"):
            row = f"{kind:16s}"
            for name in table:
                row += "| " + fmt(results[name][0][kind]) + "  "
            print(row)
        print(
            f"{'overall overlap':16s}"
            + "".join("| " + fmt(results[n][1]["overall"]) + "  " for n in table)
        )
        print(
            f"{'redaction recall':16s}" + "".join(f"| {results[n][2]:5.3f}{'':29s}" for n in table)
        )
        if "model alone" in methods:
            alone = scored(items, predictions["model alone"], MODEL_KINDS)
            print("model alone, strict (P R F1 (tp fp fn)):")
            for kind in (*MODEL_KINDS, "overall"):
                print(f"  {kind:14s} {fmt(alone[0][kind])}")
            print(f"  {'overall overlap':14s} {fmt(alone[1]['overall'])}")
        if "scrubadub" in methods:
            sub = {name: scored(items, predictions[name], PEER_KINDS) for name in methods}
            print(f"on scrubadub's kinds ({', '.join(PEER_KINDS)}), strict:")
            for name in methods:
                print(f"  {name:14s} {fmt(sub[name][0]['overall'])}")
            for label, res in (("all kinds", results), ("scrubadub's kinds", sub)):
                mine, theirs = res["ours"][0]["overall"].f1, res["scrubadub"][0]["overall"].f1
                ratio = f"{mine / theirs:.2f}" if theirs else "inf"
                print(
                    f"F1 ratio ours/scrubadub, {label}, strict: {ratio} ({mine:.3f} / {theirs:.3f})"
                )
            mine, theirs = sub["ours"][1]["overall"].f1, sub["scrubadub"][1]["overall"].f1
            ratio = f"{mine / theirs:.2f}" if theirs else "inf"
            print(
                f"F1 ratio ours/scrubadub, scrubadub's kinds, overlap: {ratio} "
                f"({mine:.3f} / {theirs:.3f})"
            )
            # scrubadub checks numbers with phonenumbers, which rejects Ofcom's drama ranges
            # (07700 900xxx, 01632 960xxx) that the corpus uses: the same without phones.
            no_phone = tuple(k for k in PEER_KINDS if k != PHONE)
            nph = {name: scored(items, predictions[name], no_phone) for name in methods}
            mine, theirs = nph["ours"][0]["overall"].f1, nph["scrubadub"][0]["overall"].f1
            ratio = f"{mine / theirs:.2f}" if theirs else "inf"
            print(
                f"F1 ratio ours/scrubadub, scrubadub's kinds less phone, strict: {ratio} "
                f"({mine:.3f} / {theirs:.3f})"
            )


if __name__ == "__main__":
    main()
