"""Train the named-entity model of ``ner`` and write ``ner_model/model.npz``.

Training data:

* synthetic sentences from the templates below, in the voice of UK perinatal interviews,
  filled with invented names, places and services (syllables joined by a seeded random
  generator, plus names from the ``deidentify`` gazetteers), deterministic from ``--seed``;
* the ``dev`` split of the labelled corpus (``corpus/deidentify.jsonl``), unless ``--no-dev``.

The ``held-out`` and ``held-out-2`` splits are never read: they stay a test set.

Run: .venv/bin/python -m steppingstones.voices.ner_train [--seed 7] [--out PATH]
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from steppingstones.voices import ner
from steppingstones.voices.deidentify import (
    DEFAULT_GAZETTEERS,
    INSTITUTION,
    PERSON,
    PLACE,
    load_corpus,
)

SEED = 7
N_SENTENCES = 5000
C = 0.5
PRUNE = 0.02
TRAIN_SPLITS = ("dev",)
DEFAULT_OUT = Path(__file__).parent / "ner_model" / ner.MODEL_FILE

Example = tuple[str, list[tuple[int, int, str]]]

# --------------------------------------------------------------------------- invented names

_ONSETS_TEXT = (
    "Ka Bre Ta Jo Mar Lu Ry De Sha Ty Ro Cal El Fen Is Or Zan Kel Mir Ab Bry Cor Dar Ev Fal "
    "Gwen Hal Jen Kes Lor Mae Nev Pen Quin Rae Sor Tam Ul Ver Wil Yas Zel Bel Cas Dil Em Fay "
    "Han Ily Jax Kit Lia Mo Nia Oak Pip Reno Sal Tia Vi Wren"
)
_ONSETS = _ONSETS_TEXT.split()
_ENDS_TEXT = (
    "ley na den son ia ie lyn elle ette o an isha ara er ine ton ra vy ric da lo sy ah ey is "
    "ina on ett ana"
)
_ENDS = _ENDS_TEXT.split()
_SUR_ENDS_TEXT = "son ton well by ford ley man ski ini ard ock ett er field ham wood ows"
_SUR_ENDS = _SUR_ENDS_TEXT.split()
_PLACE_ENDS_TEXT = (
    "bury ford ley ton field by thorpe wick ham mouth bridge stead worth dale moor combe "
    "holme gate well hurst"
)
_PLACE_ENDS = _PLACE_ENDS_TEXT.split()
_PLACE_STARTS_TEXT = (
    "Ash Bram Brack Clay Cold Dun Elm Fern Glen Hollin Holly Kirk Lang Lin Mill Moss Nor "
    "Oak Pen Red Roth Sand Shaw Stan Thorn Wal West Whit Wood Yar Ald Bur Crag Dal Hark "
    "Lark Mar Quarry Rook Sel Tor"
)
_PLACE_STARTS = _PLACE_STARTS_TEXT.split()
_SAINTS_TEXT = "Luke Anne Jude Bede Agnes Cuthbert Hilda Aidan Mungo Chad Oswald Winifred"
_SAINTS = _SAINTS_TEXT.split()
_INST_SUFFIXES_TEXT = (
    "Medical Practice|Medical Centre|Health Centre|Surgery|Primary School|High School|Academy|"
    "Nursery|Children's Centre|Family Centre|Children's Services|Council|Recovery Service|"
    "Recovery Hub|Drug and Alcohol Service|Pharmacy|Hostel|Housing Association|General Hospital|"
    "Hospital|Infirmary|Maternity Unit|Birth Centre|Mother and Baby Unit|Family Court|Project|"
    "Women's Centre|Community Church"
)
_INST_SUFFIXES = _INST_SUFFIXES_TEXT.split("|")
_BRANDS_TEXT = (
    "Turning Tide|New Roots|Bright Steps|Open Door|Safe Harbour|Fresh Start Project|"
    "Harbour Lights|First Light|Willow Tree|Hope Street Project|Little Acorns Nursery"
)
_BRANDS = _BRANDS_TEXT.split("|")
_SPEAKERS_TEXT = (
    "P3|P7|P12|P21|EL-W04|GG-W11|EL-W19|GG-W02|Interviewer|Midwife|Health visitor|"
    "Social worker|Specialist midwife|Key worker|Facilitator"
)
_SPEAKERS = _SPEAKERS_TEXT.split("|")
_KIN_TEXT = (
    "mum|mam|nan|sister|brother|partner|boyfriend|ex|friend|mate|auntie|cousin|dad|"
    "key worker|support worker|social worker|midwife|health visitor|son|daughter|"
    "little girl|little boy|eldest|youngest|fella|husband|step-dad|probation officer"
)
_KIN = _KIN_TEXT.split("|")


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.first = sorted(DEFAULT_GAZETTEERS.first_names - DEFAULT_GAZETTEERS.word_names)
        self.towns = sorted(n for n in DEFAULT_GAZETTEERS.places if " " not in n)
        self.multi_towns = sorted(n for n in DEFAULT_GAZETTEERS.places if " " in n)

    def invented_first(self) -> str:
        r = self.rng
        word = r.choice(_ONSETS) + r.choice(_ENDS)
        return word[0] + word[1:].lower()

    def first_name(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return self.invented_first()
        if r < 0.9:
            return self.rng.choice(self.first)
        return self.invented_first() + "-" + self.invented_first()

    def surname(self) -> str:
        r = self.rng
        if r.random() < 0.15:
            return "Mc" + r.choice(_ONSETS) + r.choice(_SUR_ENDS)
        return r.choice(_ONSETS) + r.choice(_SUR_ENDS)

    def place(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            return self.rng.choice(_PLACE_STARTS) + self.rng.choice(_PLACE_ENDS)
        if r < 0.9:
            return self.rng.choice(self.towns)
        if r < 0.95:
            return self.rng.choice(self.multi_towns)
        return self.rng.choice(_PLACE_STARTS) + self.rng.choice(_PLACE_ENDS) + " Green"

    def institution(self) -> str:
        r = self.rng.random()
        if r < 0.12:
            return f"St {self.rng.choice(_SAINTS)}'s"
        if r < 0.25:
            return self.rng.choice(_BRANDS)
        if r < 0.6:
            stem = self.rng.choice(_PLACE_STARTS) + self.rng.choice(_PLACE_ENDS)
        elif r < 0.8:
            stem = self.rng.choice(self.towns)
        else:
            stem = self.rng.choice(_PLACE_STARTS) + self.rng.choice(_PLACE_ENDS) + " Road"
        return f"{stem} {self.rng.choice(_INST_SUFFIXES)}"


# --------------------------------------------------------------------------- templates

# {P} a person (first name), {F} a person (first name and surname), {T} a title's surname,
# {L} a place, {I} an institution, {K} a kin or role word.
_TEMPLATES = """
My {K} {P} came round on the Sunday and stayed with me.
My {K} {P} has been amazing, honestly.
My key worker {P} sorted the appointment for me.
I rang {P} straight away and she came.
{P} was born at thirty-six weeks and went on the unit.
{P} came off the gear before I did.
{P} said I was doing really well with the baby.
{P}'s dad wasn't allowed near the ward.
{P} and me moved in together after the scan.
Me and {P} were both on a script then.
When {P} was born I was still using.
The baby's called {P}, after my nan.
We called her {P} in the end.
Her name is {P} and she's nearly two now.
His name was {P}, he was my first.
There was a lady called {P} at the group who helped me.
I met {P} in rehab and we got on straight away.
I told {P} I'd been using and she didn't judge me.
She's with {P} now, my {K}, under a kinship arrangement.
I see {P} every other Saturday at the contact centre.
{P} has got the kids on a Tuesday so I can go to my group.
I asked {P} to come to the conference with me.
It was {P} who found me, not the paramedics.
{F} is my social worker, she's alright to be fair.
The social worker, {F}, came to the house on her own.
My solicitor {F} said to keep going to the drug tests.
Dr {T} was lovely, she explained everything.
Mrs {T} on the ward kept an eye on me.
Then Sister {T} sat down with me and went through it.
Nurse {T} did the heel-prick test.
I'd seen Dr {T} at the clinic the week before.
We moved to {L} when I was pregnant with {P}.
I grew up in {L} but I've been here since I was sixteen.
She was placed with foster carers in {L}.
My mam still lives up in {L}, near the shops.
We lived in {L} for about two years.
I was born in {L} and never left till I met {P}.
They sent me to a mother and baby placement in {L}.
{L} was where it all started going wrong.
It was a long way from {L} to the hospital.
I used to score off a lad on the {L} estate.
We got a flat on the {L} estate after the refuge.
The family's from {L} originally.
We came back from {L} on the train with the baby.
I run the clinic out of {I} on a Wednesday.
The referral came from {I} because of the older sibling.
I had her at {I} in the end, not at home.
I went straight to {I} and got back on a script.
{I} held the strategy meeting in the January.
She goes to {I} three mornings a week.
I pick up at {I} every morning at nine.
The lady at {I} never once judged me.
We were in {I} for nearly three months.
They moved me to {I} after the birth.
I saw her at {I} on the Monday.
{I} were really good with us, to be fair.
Someone from {I} came to the case conference.
I was at {I} with {P} when the social worker rang.
{P} goes to {I} now and she loves it.
My {K} {P} took me to {I} for the booking appointment.
{F} from {I} has been brilliant with me.
We moved from {L} to {L2} so nobody would know us.
{P}: I didn't tell anyone at first.
{P}: Same, I was scared they'd take the baby.
{P}: And the notes. They know we write it all down.
{P}: Yeah. It goes to {I} anyway.
"""

_NEGATIVES = """
Honestly it was the worst week of my life.
Sometimes I think they just wanted me to fail.
Methadone was the only thing keeping me going.
Subutex was better for me than the methadone.
Social Services came round the day after the birth.
The Health Visitor came every week for the first month.
Universal Credit took six weeks to come through.
Christmas was hard that year, really hard.
I saw it on Facebook and just cried.
The NHS has been good to me, I'll give them that.
We ended up in A&E at two in the morning.
Monday was the case conference and Tuesday was the scan.
In March we got the keys to the flat.
Hope you don't mind me saying, but the midwife was lovely.
Will you turn that off? Sorry.
Mark my words, they'll be back.
May was the worst month, I'd relapsed by then.
Bath time was the thing I was most scared of.
Reading the letter from social services I just froze.
It was only by the grace of God I got through it.
Faith's a big thing for me now.
Early Help got involved after the first scan.
The Child Protection plan came off in the December.
Children's Social Care wanted a parenting assessment.
The Recovery Team were alright about the dose.
Baby went to the Neonatal Unit for the withdrawals.
The Family Court said I could have her back.
The Red Book has all his weights in it.
Nobody from the Council ever rang me back.
Interviewer: How have things been since the birth?
Interviewer: And what about the drug service?
Midwife: We ask every woman at booking about her use.
Social worker: The pre-birth assessment was done early.
Facilitator: What gets in the way of women telling you?
Yeah, I think so. Maybe.
Right, so, after that I went back on the script.
Buprenorphine made me feel more normal than anything.
The Special Care Baby Unit was scary at first.
They did a Finnegan score every four hours.
English isn't my first language so it was hard.
God knows how I got through it.
Nobody told me anything about the Baby Box.
Mum was discharged on the ninth and baby stayed in.
Dad came round with the car seat.
The GP wouldn't give me anything for the pain.
Pre-birth Assessment, that's what they called it.
Thank you for having me, honestly.
Is it recording now? Okay.
Last summer was hard for all of us.
Crack was the problem, not the heroin.
The Maternity Unit was alright once I got there.
Every Tuesday I go to my group at the centre.
The social worker said the Care Plan was working.
Well, Saturday was contact and Sunday was church.
I go to the group on Mondays and Thursdays.
P1: I go to the clinic on Wednesdays.
On Fridays I pick up my script.
Sundays are the worst, there's nothing on.
Tuesdays and Thursdays I see the key worker.
We had contact on Saturdays for two hours.
It was January when they took her, or February.
Easter was when I found out I was pregnant.
The Narcotics Anonymous meeting is on a Wednesday night.
Interviewer: And the Family Nurse Partnership?
Right. Okay. So the Pre-Birth Conference was when?
Valium, Spice, whatever I could get.
The Social Worker and the Health Visitor came together.
"""

_SLOT = re.compile(r"\{(P|F|T|L|L2|I|K)\}")


def _fill(template: str, names: _Names) -> Example:
    text = ""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for m in _SLOT.finditer(template):
        text += template[pos : m.start()]
        slot = m.group(1)
        kind: str | None
        if slot == "K":
            value, kind = names.rng.choice(_KIN), None
        elif slot == "P":
            value, kind = names.first_name(), PERSON
        elif slot == "F":
            value, kind = f"{names.first_name()} {names.surname()}", PERSON
        elif slot == "T":
            value, kind = names.surname(), PERSON
        elif slot in ("L", "L2"):
            value, kind = names.place(), PLACE
        else:
            value, kind = names.institution(), INSTITUTION
        if text.endswith("the ") and kind == INSTITUTION and value.startswith("St "):
            text = text[:-4]
        if kind is not None:
            spans.append((len(text), len(text) + len(value), kind))
        text += value
        pos = m.end()
    text += template[pos:]
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    return text, spans


def synthetic_examples(n: int = N_SENTENCES, seed: int = SEED) -> list[Example]:
    """``n`` synthetic excerpts of one to three sentences, with a speaker label or none."""
    rng = random.Random(seed)
    names = _Names(rng)
    templates = [t for t in _TEMPLATES.strip().splitlines() if t.strip()]
    negatives = [t for t in _NEGATIVES.strip().splitlines() if t.strip()]
    out: list[Example] = []
    for _ in range(n):
        parts: list[Example] = []
        for _ in range(rng.choice((1, 2, 2, 3))):
            pool = negatives if rng.random() < 0.35 else templates
            parts.append(_fill(rng.choice(pool), names))
        label = rng.random()
        text, spans = "", []
        if label < 0.5 and not re.match(r"[\w' -]{1,25}:", parts[0][0]):
            text = rng.choice(_SPEAKERS) + ": "
        sep = "\n" if label > 0.9 else " "
        for i, (part, part_spans) in enumerate(parts):
            if i:
                text += sep
            spans += [(a + len(text), b + len(text), k) for a, b, k in part_spans]
            text += part
        out.append((text, spans))
    return out


def corpus_examples(splits: Sequence[str] = TRAIN_SPLITS) -> list[Example]:
    """Excerpts of the labelled corpus in ``splits`` (people, places, institutions only)."""
    if any(s.startswith("held-out") for s in splits):
        raise ValueError("the held-out splits are the test set: never train on them")
    keep = (PERSON, PLACE, INSTITUTION)
    return [
        (item.text, [s for s in item.spans if s[2] in keep])
        for item in load_corpus()
        if item.split in splits
    ]


def bio_tags(tokens: Sequence[ner.Token], spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """BIO tags of the tokens for the gold spans (a token inside a span takes its kind)."""
    tags = ["O"] * len(tokens)
    for start, end, kind in spans:
        inside = [i for i, t in enumerate(tokens) if t.start >= start and t.end <= end]
        for n, i in enumerate(inside):
            tags[i] = ("B-" if n == 0 else "I-") + ner.KIND_TAGS[kind]
    return tags


def train(
    seed: int = SEED,
    n: int = N_SENTENCES,
    *,
    dev: bool = True,
    c: float = C,
    prune: float = PRUNE,
) -> ner.Model:
    """Fit the model: deterministic for the same arguments."""
    examples = synthetic_examples(n, seed) + (corpus_examples() if dev else [])
    feats: list[dict[str, float]] = []
    tags: list[str] = []
    for text, spans in examples:
        tokens = ner.tokenize(text)
        feats += ner.token_features(text, tokens)
        tags += bio_tags(tokens, spans)
    vec = DictVectorizer(dtype=np.float64, sort=True)
    x = vec.fit_transform(feats)
    clf = LogisticRegression(C=c, max_iter=500, tol=1e-6)
    clf.fit(x, tags)
    # Keep the features that matter (and "bias"), rounded: a small, stable file.
    coef = np.round(clf.coef_, 3)
    names = vec.feature_names_
    keep = [j for j in range(len(names)) if np.abs(coef[:, j]).max() >= prune]
    meta = {
        "seed": seed,
        "synthetic_sentences": n,
        "corpus_splits": list(TRAIN_SPLITS) if dev else [],
        "C": c,
        "prune": prune,
        "tokens": len(tags),
        "features_before_pruning": len(names),
    }
    return ner.model_from_arrays(
        [names[j] for j in keep],
        coef[:, keep],
        np.round(clf.intercept_, 3),
        [str(t) for t in clf.classes_],
        meta,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--sentences", type=int, default=N_SENTENCES)
    parser.add_argument("--no-dev", action="store_true", help="synthetic sentences only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    model = train(args.seed, args.sentences, dev=not args.no_dev)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ner.save_model(model, args.out)
    size = args.out.stat().st_size
    print(
        f"wrote {args.out.name}: {len(model.vectorizer.feature_names_)} features, "
        f"{model.meta['tokens']} training tokens, {size / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
