"""Synthetic search results for a demo review of integrated perinatal care for women who use
drugs: records to import, de-duplicate and screen, with the answers known.

Everything is generated from a seed and is **synthetic**: titles and abstracts are composed
from phrase banks, the authors are invented (surnames from a list, random initials), the
journals are invented (the few real-sounding names carry "(synthetic)"), every DOI is under
the DOI test prefix ``10.5555/demo.`` (10.5555 is reserved for tests and resolves nowhere),
and the PMIDs are nine-digit numbers from 990000000 up, far above any PubMed has assigned.
No record describes a real study. ::

    records = build_demo_records(seed=1)          # 300 records
    records[0].title, records[0].source           # ("Outcomes of a collocated ...", "MEDLINE")
    sum(r.relevant for r in records)              # about 12% of them
    [r for r in records if r.duplicate_of is not None]   # about 20%: variants of earlier ones

Each :class:`DemoRecord` is a :class:`~steppingstones.evidence.references.Reference` (so
the writers, the de-duplication and the screening code take it as it is) with four more
fields: ``source``, the database it was "exported" from (:data:`SOURCES`); ``relevant``,
whether it meets the demo review's inclusion criteria (integrated or collocated perinatal
care, for pregnant women or mothers who use drugs); ``duplicate_of``, the index in the list
of the record it duplicates, or ``None``; and ``changes``, what the duplicate's database did
differently (:data:`CHANGES`).

Relevant records (:data:`RELEVANT_SHARE` of the originals) pair an integrated-care service
("a collocated antenatal clinic", "a one-stop integrated maternity and drug treatment
service") with a population of pregnant women or mothers who use drugs, and their abstracts
report engagement, retention and infant outcomes, so a text classifier can learn them. The
others are the near misses a real search brings back (the same population, but hepatitis C
prevalence or buprenorphine pharmacokinetics; integrated care, but for older adults with
alcohol use disorder; treatment of neonatal abstinence syndrome) and plain noise.

Duplicates (:data:`DUPLICATE_SHARE` of all records) are the same paper exported by another
database, appearing later in the list, with one to three of :data:`CHANGES`: the title's
case changed, its punctuation changed, the DOI missing, the journal abbreviated, the first
two authors swapped, a typo in the title. Whether a record shows its PMID depends on its
database (MEDLINE always; Embase, CINAHL, PsycINFO and citation searching often not).

The output is the same for the same ``seed`` and ``count`` in every process (only a seeded
:class:`random.Random` is used, never set order or ``hash()``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from .references import Reference

SOURCES: tuple[str, ...] = ("MEDLINE", "Embase", "PsycINFO", "CINAHL", "Citation searching")
"""The databases the records come from."""

SOURCE_WEIGHTS: tuple[float, ...] = (0.34, 0.32, 0.12, 0.15, 0.07)
"""How often each of :data:`SOURCES` is the database an original record comes from."""

PMID_SHOWN: dict[str, float] = {
    "MEDLINE": 1.0,
    "Embase": 0.7,
    "PsycINFO": 0.2,
    "CINAHL": 0.5,
    "Citation searching": 0.3,
}
"""The chance that a record from each database shows the paper's PMID (when it has one)."""

RELEVANT_SHARE = 0.12
"""The share of original (non-duplicate) records that are relevant."""

DUPLICATE_SHARE = 0.20
"""The share of all records that are duplicates of an earlier record."""

DOI_PREFIX = "10.5555/demo."
"""Every DOI starts with this (10.5555 is the DOI test prefix)."""

PMID_START = 990_000_000
"""Synthetic PMIDs are nine digits from here up (PubMed's are still eight digits)."""

YEARS = (2000, 2023)
"""The first and last publication year."""

CHANGES: tuple[str, ...] = (
    "title-case",
    "title-punctuation",
    "doi-missing",
    "journal-abbreviated",
    "authors-swapped",
    "title-typo",
)
"""What a duplicate may differ in from its original, in the order they are applied."""


@dataclass(frozen=True)
class DemoRecord(Reference):
    """A synthetic search result: a :class:`Reference` plus what the demo knows about it."""

    source: str = "MEDLINE"
    relevant: bool = False
    duplicate_of: int | None = None
    changes: tuple[str, ...] = ()

    __hash__ = Reference.__hash__

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict: the reference's fields, then the demo's four."""
        data = super().to_dict()
        data.update(
            source=self.source,
            relevant=self.relevant,
            duplicate_of=self.duplicate_of,
            changes=list(self.changes),
        )
        return data

    def reference(self) -> Reference:
        """The bibliographic part alone, as a plain :class:`Reference`."""
        return Reference(**super().to_dict())


# --- phrase banks ----------------------------------------------------------------------------

SURNAMES = [
    "Ashdown", "Brennock", "Carrow", "Delafield", "Eskdale", "Fairlie", "Garside", "Holbeck",
    "Inchmore", "Jessop", "Kettering", "Lindqvist", "Marwood", "Northam", "Oakes", "Penrose",
    "Quarrie", "Rowntree", "Selkirk", "Tennant", "Upton", "Varley", "Whitlow", "Yarrow",
    "Abernethy", "Baptiste", "Castellano", "Dubois", "Eriksen", "Fitzgerald", "Gallagher",
    "Haddad", "Ibáñez", "Jovanović", "Kowalczyk", "Lefèvre", "Mbeki", "Nakamura", "Okafor",
    "Petrović", "Quintero", "Rahman", "Søndergaard", "Tanaka", "Udeh", "Vasquez", "Wójcik",
    "Xiong", "Öztürk", "Zimmermann", "Achterberg", "Bianchi", "Chaudhry", "Da Silva",
    "El-Amin", "Ferreira", "Gunawardena", "Hughes", "Iyer", "Kaur", "Lindgren", "Moreau",
    "Ní Bhriain", "O'Donovan", "Papadopoulos", "Reyes", "Sutherland", "Tremblay", "van Dijk",
    "Whitford",
]  # fmt: skip
_INITIALS = "ABCDEFGHIJKLMNOPRSTVW"

PLACES = [
    "Glasgow", "Melbourne", "Vancouver", "Dublin", "Oslo", "Philadelphia", "Auckland",
    "Cape Town", "Toronto", "Manchester", "Sydney", "Boston", "Copenhagen", "Edinburgh",
    "Baltimore", "Brisbane", "Cardiff", "Seattle", "Helsinki", "Belfast",
]  # fmt: skip

# (name, abbreviation, first year of publication): volumes count from the first year.
JOURNALS: list[tuple[str, str, int]] = [
    ("Demo Journal of Perinatal Care", "Demo J Perinat Care", 1985),
    ("Synthetic Reports in Addiction Medicine", "Synth Rep Addict Med", 1992),
    ("Stepping Stones Test Journal of Maternal Health", "Stepp Stones Test J Matern Health", 1998),
    ("Fictional Review of Midwifery and Substance Use", "Fict Rev Midwifery Subst Use", 1990),
    ("Imaginary Quarterly of Neonatal Medicine", "Imag Q Neonatal Med", 1981),
    ("Placeholder Journal of Public Health", "Placeholder J Public Health", 1979),
    ("Journal of Integrated Maternity Care (synthetic)", "J Integr Matern Care (Synth)", 1996),
    ("Perinatal Addiction Research (synthetic)", "Perinat Addict Res (Synth)", 1994),
    (
        "International Journal of Drug Use in Pregnancy (synthetic)",
        "Int J Drug Use Pregnancy (Synth)",
        1988,
    ),
    (
        "Maternal and Infant Health Services Review (synthetic)",
        "Matern Infant Health Serv Rev (Synth)",
        1983,
    ),
]
CONFERENCE = "Proceedings of the Demo Perinatal Addiction Conference (synthetic)"

RELEVANT_INTERVENTIONS = [
    "a collocated antenatal clinic",
    "an integrated perinatal substance use service",
    "a multidisciplinary antenatal and addiction clinic",
    "a one-stop integrated maternity and drug treatment service",
    "a specialist midwifery team embedded in drug treatment",
    "integrated prenatal care with opioid agonist treatment",
    "a co-located obstetric and addiction medicine clinic",
    "a wraparound perinatal care model",
    "an integrated care pathway from pregnancy to the first postnatal year",
    "a hospital-based integrated programme for mothers and infants",
    "trauma-informed integrated antenatal care",
    "a family-centred integrated perinatal clinic",
    "case-managed integrated maternity care",
    "integrated postnatal care with rooming-in",
]
RELEVANT_POPULATIONS = [
    "pregnant women using opioids",
    "pregnant women who use drugs",
    "women with opioid use disorder in pregnancy",
    "pregnant people with substance use disorders",
    "mothers who use methamphetamine",
    "women receiving methadone in pregnancy",
    "pregnant women with problematic drug use",
    "women who inject drugs during pregnancy",
    "perinatal women who use substances",
    "pregnant women receiving buprenorphine",
]
RELEVANT_FRAMES = [
    "Outcomes of {i} for {p}",
    "Maternal and neonatal outcomes of {i} for {p}",
    "Antenatal attendance and retention with {i} for {p}",
    "Engagement of {p} with {i}",
    "Experiences of {p} receiving care from {i}",
    "Implementing {i} for {p}",
    "Infant discharge to maternal care after {i} for {p}",
    "Costs and outcomes of {i} for {p}",
]
# (in a title, in a sentence, qualitative?)
RELEVANT_DESIGNS: list[tuple[str, str, bool]] = [
    ("a retrospective cohort", "retrospective cohort study", False),
    ("a retrospective cohort study", "retrospective cohort study", False),
    ("a prospective cohort study", "prospective cohort study", False),
    ("a matched cohort study", "matched cohort study", False),
    ("a controlled before-and-after study", "controlled before-and-after study", False),
    ("a pragmatic randomised trial", "pragmatic randomised trial", False),
    ("an interrupted time series", "interrupted time series analysis", False),
    ("a service evaluation", "service evaluation", False),
    ("a qualitative study", "qualitative study", True),
    ("a mixed-methods evaluation", "mixed-methods evaluation", True),
]
OTHER_DESIGNS: list[tuple[str, str]] = [
    ("a cross-sectional survey", "cross-sectional survey"),
    ("a retrospective cohort", "retrospective cohort study"),
    ("a case series", "case series"),
    ("a narrative review", "narrative review"),
    ("a systematic review", "systematic review"),
    ("a pilot study", "pilot study"),
    ("a randomised controlled trial", "randomised controlled trial"),
    ("a secondary analysis", "secondary analysis of survey data"),
    ("a population-based cohort study", "population-based cohort study"),
]

# Near misses, same population: (title phrase, noun phrase, keyword).
POPULATION_TOPICS: list[tuple[str, str, str]] = [
    ("Prevalence of hepatitis C infection", "hepatitis C infection", "Hepatitis C"),
    ("Buprenorphine pharmacokinetics", "buprenorphine clearance", "Buprenorphine"),
    ("Urine drug testing practices", "urine drug testing", "Substance Abuse Detection"),
    ("Methadone dose requirements", "methadone dose escalation", "Methadone"),
    ("Tobacco smoking cessation", "smoking cessation", "Smoking Cessation"),
    ("Sleep quality", "poor sleep quality", "Sleep"),
    ("Intimate partner violence", "intimate partner violence", "Intimate Partner Violence"),
    ("Naloxone awareness", "naloxone awareness", "Naloxone"),
    ("Dental health", "untreated dental caries", "Oral Health"),
    ("Depressive symptoms", "depressive symptoms", "Depression"),
]
# Near misses, integrated care for another population.
OTHER_INTERVENTIONS = [
    "an integrated primary care and addiction clinic",
    "a collocated mental health and housing service",
    "a multidisciplinary outpatient detoxification programme",
    "integrated hepatitis C treatment in drug services",
    "a nurse-led collocated clinic",
    "an integrated care pathway for alcohol-related liver disease",
    "a one-stop sexual health service",
]
OTHER_POPULATIONS: list[tuple[str, str]] = [
    ("older adults with alcohol use disorder", "Aged"),
    ("men receiving opioid agonist treatment", "Male"),
    ("adolescents who use cannabis", "Adolescent"),
    ("people experiencing homelessness", "Ill-Housed Persons"),
    ("patients with chronic pain on long-term opioids", "Chronic Pain"),
    ("veterans with post-traumatic stress disorder", "Veterans"),
    ("people released from prison", "Prisoners"),
    ("university students who binge drink", "Students"),
]
INTEGRATED_OTHER_FRAMES = [
    "Outcomes of {i} for {p}",
    "Effect of {i} on retention among {p}",
    "Implementing {i} for {p}",
]
NEONATAL_DRUGS = ["Morphine", "Methadone", "Buprenorphine", "Clonidine", "Phenobarbital"]
NEONATAL_CONDITIONS = ["neonatal abstinence syndrome", "neonatal opioid withdrawal syndrome"]
NEONATAL_FRAMES = [
    "{d1} versus {d2l} for the treatment of {cond}",
    "Length of hospital stay with {d1} treatment for {cond}",
    "Adjunctive {d2l} for infants with {cond} treated with {d1l}",
]
# Off-topic: (title phrase, noun phrase, keyword).
OFF_TOPICS: list[tuple[str, str, str]] = [
    ("Gestational diabetes screening in primary care", "gestational diabetes",
     "Diabetes, Gestational"),
    ("Management of postpartum haemorrhage in rural hospitals", "postpartum haemorrhage",
     "Postpartum Hemorrhage"),
    ("Breastfeeding support for preterm infants", "breastfeeding of preterm infants",
     "Breast Feeding"),
    ("Influenza vaccination uptake in pregnancy", "influenza vaccination", "Influenza Vaccines"),
    ("Caesarean section rates in private hospitals", "caesarean section", "Cesarean Section"),
    ("Alcohol advertising exposure among young people", "alcohol advertising", "Advertising"),
    ("Iron supplementation in the second trimester", "iron deficiency", "Iron"),
    ("Paternal depression in the first postnatal year", "paternal depression", "Fathers"),
    ("Prenatal cocaine exposure and hippocampal development in rats",
     "prenatal cocaine exposure", "Rats"),
    ("Maternal obesity and stillbirth risk", "maternal obesity", "Obesity, Maternal"),
]  # fmt: skip

RELEVANT_KEYWORDS = [
    "Pregnancy", "Pregnant Women", "Opioid-Related Disorders", "Substance-Related Disorders",
    "Prenatal Care", "Maternal Health Services", "Patient Care Team", "Postnatal Care",
    "Neonatal Abstinence Syndrome", "Opiate Substitution Treatment", "Infant, Newborn",
]  # fmt: skip
INTEGRATED_KEYWORDS = ["Delivery of Health Care, Integrated", "Integrated care", "Co-located care"]

# --- sentences -------------------------------------------------------------------------------

RELEVANT_BACKGROUND = [
    "{P} often receive fragmented care across maternity, addiction and social services.",
    "Integrated models that bring obstetric, addiction and social care together have been "
    "proposed for {p}.",
    "Little is known about how {i} affects engagement with antenatal care among {p}.",
]
RELEVANT_METHODS = [
    "In this {design}, we compared {n1} {p} attending {i} in {place} with {n2} who received "
    "standard maternity care between {y1} and {y2}.",
    "This {design} included {n1} {p} booked at {i} in {place} between {y1} and {y2}.",
]
RELEVANT_METHODS_QUALITATIVE = [
    "In this {design}, we interviewed {k1} {p} and {k2} staff members of {i} in {place}.",
    "This {design} combined interviews with {k1} {p} and routine data from {i} in {place}.",
]
RELEVANT_RESULTS = [
    "Women in the integrated service attended more antenatal appointments (median {a} vs {b}) "
    "and more infants were discharged in their mother's care ({c}% vs {d}%).",
    "Retention in opioid agonist treatment at six months postpartum was {c}% with integrated "
    "care and {d}% with standard care.",
    "Preterm birth ({d}% vs {c}%) and neonatal unit admission were less frequent after the "
    "integrated model was introduced.",
]
RELEVANT_RESULTS_QUALITATIVE = [
    "Women valued having midwives, addiction specialists and social workers in one place, and "
    "described less stigma than in previous pregnancies.",
    "Staff described shared care plans and trusting relationships as central to keeping women "
    "engaged in care.",
]
RELEVANT_CONCLUSIONS = [
    "Integrated perinatal care for {p} appears to improve engagement and outcomes for mothers "
    "and infants.",
    "Collocating maternity and drug treatment services was feasible and acceptable.",
    "Integrated care models for {p} should be evaluated in larger multi-site studies.",
]

TOPIC_BACKGROUND = [
    "Little is known about {noun} among {p}.",
    "{Noun} is common but rarely measured among {p}.",
]
TOPIC_METHODS = [
    "We conducted a {design} of {n1} {p} in {place}.",
    "This {design} included {n1} {p} recruited in {place} between {y1} and {y2}.",
]
TOPIC_RESULTS = [
    "{Noun} was reported by {c}% of participants and was associated with younger age "
    "(adjusted odds ratio {or_}).",
    "{Noun} was found in {c}% of participants, with no difference by treatment type.",
]
TOPIC_CONCLUSIONS = [
    "Routine assessment of {noun} may be warranted in this population.",
    "Further research on {noun} is needed.",
]

OTHER_BACKGROUND = [
    "{I} has been proposed for {p}.",
    "Services for {p} are often fragmented.",
]
OTHER_METHODS = [
    "We evaluated {i} for {n1} {p} in {place} between {y1} and {y2}.",
    "In this {design}, {n1} {p} were offered {i}.",
]
OTHER_RESULTS = [
    "Retention at 12 months was {c}% compared with {d}% before implementation.",
    "Emergency department visits fell by {c}% in the first year.",
]
OTHER_CONCLUSIONS = [
    "Integrated models may improve retention in this population.",
    "Collocated services were acceptable to {p}.",
]

NEONATAL_BACKGROUND = [
    "{Cond} affects a growing number of infants.",
    "{Cond} often prolongs hospital stay.",
]
NEONATAL_METHODS = [
    "We randomly assigned {n1} term infants with {cond} to {d1l} or {d2l}.",
    "We reviewed the records of {n1} infants treated for {cond} in {place}.",
]
NEONATAL_RESULTS = [
    "Median length of stay was {a} days with {d1l} and {b} days with {d2l}.",
    "Treatment failure occurred in {c}% of infants.",
]
NEONATAL_CONCLUSIONS = [
    "The choice of first-line treatment should consider length of stay.",
    "Larger trials of pharmacological treatment for {cond} are needed.",
]  # fmt: skip

OFF_BACKGROUND = ["{Noun} remains an important clinical concern.", "Rates of {noun} vary widely."]
OFF_METHODS = [
    "We conducted a {design} in {place} including {n1} participants.",
    "This {design} used routine data from {place} between {y1} and {y2}.",
]
OFF_RESULTS = [
    "The primary outcome occurred in {c}% of participants.",
    "{Noun} was associated with the outcome (adjusted odds ratio {or_}).",
]
OFF_CONCLUSIONS = ["These findings can inform local guidelines.", "Further research is needed."]


# --- building ----------------------------------------------------------------------------------


@dataclass
class _Work:
    """One paper, before any database exports it."""

    title: str
    abstract: str
    authors: list[str]
    year: int
    journal: str | None
    journal_abbrev: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    pmid: str | None
    keywords: list[str]
    type: str
    relevant: bool


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _abstract(
    rng: random.Random,
    background: list[str],
    methods: list[str],
    results: list[str],
    conclusions: list[str],
    values: dict[str, Any],
) -> str:
    """Two to four sentences: methods and results, with background and/or conclusion."""
    size = rng.choice((2, 3, 3, 4))
    with_background = size == 4 or (size == 3 and rng.random() < 0.5)
    with_conclusion = size == 4 or (size == 3 and not with_background)
    parts = []
    if with_background:
        parts.append(rng.choice(background))
    parts += [rng.choice(methods), rng.choice(results)]
    if with_conclusion:
        parts.append(rng.choice(conclusions))
    return " ".join(_cap(part.format(**values)) for part in parts)


def _numbers(rng: random.Random, year: int) -> dict[str, Any]:
    c, d = sorted(rng.sample(range(8, 92), 2), reverse=True)
    a, b = sorted(rng.sample(range(3, 15), 2), reverse=True)
    y1 = max(1995, year - rng.randint(3, 8))
    low = round(rng.uniform(1.1, 2.2), 2)
    return {
        "n1": rng.randint(40, 480),
        "n2": rng.randint(40, 480),
        "k1": rng.randint(12, 40),
        "k2": rng.randint(6, 20),
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "y1": y1,
        "y2": min(year - 1, y1 + rng.randint(2, 5)),
        "or_": f"{round(low + rng.uniform(0.3, 1.2), 2)}",
        "place": rng.choice(PLACES),
    }


def _relevant_text(rng: random.Random, year: int) -> tuple[str, str, list[str]]:
    intervention = rng.choice(RELEVANT_INTERVENTIONS)
    population = rng.choice(RELEVANT_POPULATIONS)
    title_design, design, qualitative = rng.choice(RELEVANT_DESIGNS)
    values = _numbers(rng, year) | {"i": intervention, "p": population, "design": design}
    values["P"] = _cap(population)
    title = rng.choice(RELEVANT_FRAMES).format(i=intervention, p=population)
    if rng.random() < 0.35:
        title += f" in {values['place']}"
    title += f": {title_design}"
    abstract = _abstract(
        rng,
        RELEVANT_BACKGROUND,
        RELEVANT_METHODS_QUALITATIVE if qualitative else RELEVANT_METHODS,
        RELEVANT_RESULTS_QUALITATIVE if qualitative else RELEVANT_RESULTS,
        RELEVANT_CONCLUSIONS,
        values,
    )
    keywords = [rng.choice(INTEGRATED_KEYWORDS), *rng.sample(RELEVANT_KEYWORDS, rng.randint(2, 5))]
    return title, abstract, keywords


def _irrelevant_text(rng: random.Random, year: int) -> tuple[str, str, list[str]]:
    values = _numbers(rng, year)
    title_design, design = rng.choice(OTHER_DESIGNS)
    values["design"] = design
    kind = rng.choices(("population", "integrated", "neonatal", "off"), (35, 25, 15, 25))[0]
    if kind == "population":
        phrase, noun, keyword = rng.choice(POPULATION_TOPICS)
        population = rng.choice(RELEVANT_POPULATIONS)
        values |= {"noun": noun, "Noun": _cap(noun), "p": population}
        title = f"{phrase} {rng.choice(('among', 'in'))} {population}"
        sentences = (TOPIC_BACKGROUND, TOPIC_METHODS, TOPIC_RESULTS, TOPIC_CONCLUSIONS)
        keywords = [keyword, "Pregnancy", *rng.sample(RELEVANT_KEYWORDS[2:], rng.randint(1, 3))]
    elif kind == "integrated":
        intervention = rng.choice(OTHER_INTERVENTIONS)
        population, keyword = rng.choice(OTHER_POPULATIONS)
        values |= {"i": intervention, "I": _cap(intervention), "p": population}
        title = rng.choice(INTEGRATED_OTHER_FRAMES).format(i=intervention, p=population)
        sentences = (OTHER_BACKGROUND, OTHER_METHODS, OTHER_RESULTS, OTHER_CONCLUSIONS)
        keywords = [rng.choice(INTEGRATED_KEYWORDS), keyword, "Substance-Related Disorders"]
    elif kind == "neonatal":
        first, second = rng.sample(NEONATAL_DRUGS, 2)
        condition = rng.choice(NEONATAL_CONDITIONS)
        values |= {
            "d1l": first.lower(),
            "d2l": second.lower(),
            "cond": condition,
            "Cond": _cap(condition),
        }
        frame = rng.choice(NEONATAL_FRAMES)
        title = frame.format(
            d1=first, d2=second, cond=condition, d1l=first.lower(), d2l=second.lower()
        )
        sentences = (NEONATAL_BACKGROUND, NEONATAL_METHODS, NEONATAL_RESULTS, NEONATAL_CONCLUSIONS)
        keywords = ["Neonatal Abstinence Syndrome", "Infant, Newborn", first, "Length of Stay"]
    else:
        phrase, noun, keyword = rng.choice(OFF_TOPICS)
        values |= {"noun": noun, "Noun": _cap(noun)}
        title = phrase
        sentences = (OFF_BACKGROUND, OFF_METHODS, OFF_RESULTS, OFF_CONCLUSIONS)
        keywords = [keyword, "Humans", rng.choice(("Female", "Pregnancy", "Risk Factors"))]
    if rng.random() < 0.35:
        title += f" in {values['place']}"
    title += f": {title_design}"
    abstract = _abstract(rng, *sentences, values)
    return title, abstract, keywords


def _authors(rng: random.Random) -> list[str]:
    size = rng.choices(range(1, 9), (5, 10, 15, 20, 18, 14, 10, 8))[0]
    names = []
    for surname in rng.sample(SURNAMES, size):
        initials = rng.sample(_INITIALS, rng.choice((1, 1, 2, 2, 2, 3)))
        names.append(f"{surname}, {''.join(f'{letter}.' for letter in initials)}")
    return names


def _work(rng: random.Random, ordinal: int, relevant: bool, titles: set[str]) -> _Work:
    year = rng.randint(*YEARS)
    text = _relevant_text if relevant else _irrelevant_text
    for _attempt in range(20):
        title, abstract, keywords = text(rng, year)
        if title.lower() not in titles:
            break
    else:
        title = f"{title} (part {ordinal})"
    titles.add(title.lower())

    kind = rng.choices(("journal-article", "conference", "report", "thesis"), (90, 5, 3, 2))[0]
    journal = abbrev = volume = issue = pages = doi = pmid = None
    if kind == "journal-article":
        journal, abbrev, first_year = rng.choice(JOURNALS)
        volume = str(year - first_year + 1)
        issue = str(rng.randint(1, 12)) if rng.random() < 0.85 else None
        if rng.random() < 0.75:
            start = rng.randint(1, 2400)
            pages = f"{start}-{start + rng.randint(4, 14)}"
        else:
            pages = f"e{rng.randint(100_000, 999_999)}"
        has_doi = rng.random() < 0.88
        has_pmid = rng.random() < 0.8
    elif kind == "conference":
        journal = CONFERENCE
        pages = f"S{rng.randint(1, 300)}" if rng.random() < 0.5 else None
        has_doi = rng.random() < 0.3
        has_pmid = False
    else:
        has_doi = rng.random() < 0.15
        has_pmid = False
    if has_doi:
        doi = f"{DOI_PREFIX}{year}.{ordinal:05d}"
    if has_pmid:
        pmid = str(PMID_START + ordinal * 10 + rng.randrange(10))
    return _Work(
        title=title,
        abstract=abstract,
        authors=_authors(rng),
        year=year,
        journal=journal,
        journal_abbrev=abbrev,
        volume=volume,
        issue=issue,
        pages=pages,
        doi=doi,
        pmid=pmid,
        keywords=list(dict.fromkeys(keywords)),
        type=kind,
        relevant=relevant,
    )


def _title_case(title: str, rng: random.Random) -> str:
    options = [
        title.upper(),
        title.lower(),
        " ".join(word[:1].upper() + word[1:] for word in title.split(" ")),
    ]
    changed = [option for option in options if option != title]
    return rng.choice(changed) if changed else title


def _title_punctuation(title: str, rng: random.Random) -> str:
    options = []
    if ": " in title:
        options += [title.replace(": ", " - ", 1), title.replace(": ", ". ", 1)]
    if "-" in title:
        options.append(title.replace("-", " "))
    options.append(title + ".")
    return rng.choice(options)


def _title_typo(title: str, rng: random.Random) -> str:
    words = [(m.start(), m.group(0)) for m in re.finditer(r"[A-Za-z]{5,}", title)]
    if not words:
        return title + "s"
    start, word = rng.choice(words)
    at = start + rng.randint(1, len(word) - 3)
    if title[at] != title[at + 1] and rng.random() < 0.6:
        return title[:at] + title[at + 1] + title[at] + title[at + 2 :]  # two letters swapped
    return title[:at] + title[at + 1 :]  # a letter dropped


def _changes(original: DemoRecord, rng: random.Random) -> tuple[str, ...]:
    possible = ["title-case", "title-punctuation", "title-typo"]
    if original.doi:
        possible.append("doi-missing")
    if original.journal_abbrev and original.journal != original.journal_abbrev:
        possible.append("journal-abbreviated")
    if len(original.authors) >= 2:
        possible.append("authors-swapped")
    size = rng.choices((1, 2, 3), (50, 35, 15))[0]
    chosen = rng.sample(possible, size)
    return tuple(change for change in CHANGES if change in chosen)


def _duplicate(
    original: DemoRecord, work: _Work, of: int, source: str, rng: random.Random
) -> dict[str, Any]:
    """The fields of another database's record of ``original``'s paper."""
    changes = _changes(original, rng)
    title = original.title or ""
    if "title-case" in changes:
        title = _title_case(title, rng)
    if "title-punctuation" in changes:
        title = _title_punctuation(title, rng)
    if "title-typo" in changes:
        title = _title_typo(title, rng)
    authors = list(work.authors)
    if "authors-swapped" in changes:
        authors[0], authors[1] = authors[1], authors[0]
    return {
        "title": title,
        "authors": authors,
        "journal": work.journal_abbrev if "journal-abbreviated" in changes else work.journal,
        "doi": None if "doi-missing" in changes else work.doi,
        "duplicate_of": of,
        "changes": changes,
    }


def build_demo_records(seed: int, count: int = 300) -> list[DemoRecord]:
    """``count`` synthetic search results for the demo review, the same for the same seed.

    See the module docstring for what they hold. :data:`DUPLICATE_SHARE` of them (rounded)
    are duplicates, each placed somewhere after its original; most duplicated papers are in
    two databases, some in three or more. :data:`RELEVANT_SHARE` of the originals (rounded)
    are relevant; a duplicate shares its original's relevance.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    duplicates = min(round(count * DUPLICATE_SHARE), max(count - 1, 0))
    originals_total = count - duplicates
    relevant = set(rng.sample(range(originals_total), round(originals_total * RELEVANT_SHARE)))
    # The paper each duplicate copies (by its original's ordinal), and where it goes: after
    # the original with ordinal ``slot``, which is the paper's own or a later one.
    distinct = min(originals_total, duplicates - duplicates // 5)
    targets = rng.sample(range(originals_total), distinct)
    targets += [rng.choice(targets) for _ in range(duplicates - distinct)]
    after: dict[int, list[int]] = {}
    for target in targets:
        after.setdefault(rng.randint(target, originals_total - 1), []).append(target)

    records: list[DemoRecord] = []
    works: list[_Work] = []  # by ordinal
    index_of: list[int] = []  # ordinal -> index of the original record
    sources_of: list[list[str]] = []  # ordinal -> the databases its paper is in
    per_source = dict.fromkeys(SOURCES, 0)
    titles: set[str] = set()

    def add(work: _Work, source: str, fields: dict[str, Any]) -> None:
        per_source[source] += 1
        pmid = work.pmid if work.pmid and rng.random() < PMID_SHOWN[source] else None
        values: dict[str, Any] = {
            "abstract": work.abstract,
            "year": work.year,
            "journal_abbrev": work.journal_abbrev,
            "volume": work.volume,
            "issue": work.issue,
            "pages": work.pages,
            "pmid": pmid,
            "keywords": list(work.keywords),
            "type": work.type,
            "language": "English",
            "source_record": per_source[source],
            "source": source,
            "relevant": work.relevant,
        }
        records.append(DemoRecord(**(values | fields)))

    for ordinal in range(originals_total):
        work = _work(rng, ordinal + 1, ordinal in relevant, titles)
        source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
        works.append(work)
        index_of.append(len(records))
        sources_of.append([source])
        fields = {"title": work.title, "authors": list(work.authors)}
        add(work, source, fields | {"journal": work.journal, "doi": work.doi})
        for target in after.get(ordinal, ()):
            original = records[index_of[target]]
            unused = [s for s in SOURCES if s not in sources_of[target]]
            choices = unused or [s for s in SOURCES if s != original.source]
            weights = [SOURCE_WEIGHTS[SOURCES.index(s)] for s in choices]
            source = rng.choices(choices, weights)[0]
            sources_of[target].append(source)
            duplicate = _duplicate(original, works[target], index_of[target], source, rng)
            add(works[target], source, duplicate)
    return records


__all__ = [
    "CHANGES",
    "DOI_PREFIX",
    "DUPLICATE_SHARE",
    "PMID_SHOWN",
    "PMID_START",
    "RELEVANT_SHARE",
    "SOURCES",
    "SOURCE_WEIGHTS",
    "YEARS",
    "DemoRecord",
    "build_demo_records",
]
