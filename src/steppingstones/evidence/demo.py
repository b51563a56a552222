"""The demo study's reviews, as plain data: synthetic studies, numbers, findings and documents.

Everything here is generated from a seed and labelled synthetic: the study labels are invented
names, the counts are drawn at random around plausible effects, and no finding is real.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SURNAMES = [
    "Ashdown", "Brennock", "Carrow", "Delafield", "Eskdale", "Fairlie", "Garside", "Holbeck",
    "Inchmore", "Jessop", "Kettering", "Lindqvist", "Marwood", "Northam", "Oakes", "Penrose",
    "Quarrie", "Rowntree", "Selkirk", "Tennant", "Upton", "Varley", "Whitlow", "Yarrow",
]  # fmt: skip
COUNTRIES = ["UK", "USA", "Canada", "Australia", "Ireland", "Norway"]
QUANT_DESIGNS = ["cohort", "RCT", "cohort", "before-after", "cohort", "RCT", "cohort", "cohort"]
SETTINGS = ["collocated clinic", "outreach", "collocated clinic", "outreach"]


@dataclass(frozen=True)
class DemoStudyRecord:
    label: str
    design: str  # IncludedStudy.Design value
    study_design: str  # the extraction form's design choice
    country: str
    setting: str
    sample_size: int
    year: int
    counts: tuple[int, int, int, int] | None = None  # ai, bi, ci, di: substance use at birth
    custody: tuple[int, int, int, int] | None = None  # infant discharged in mother's care
    findings: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class DemoTheme:
    title: str
    kind: str
    parent: str | None
    finding_keys: tuple[str, ...]  # "study label|finding index"


@dataclass(frozen=True)
class DemoReviewFinding:
    statement: str
    theme: str
    finding_keys: tuple[str, ...]
    concerns: tuple[str, str, str, str]
    overall: str
    explanation: str


@dataclass(frozen=True)
class DemoDocument:
    label: str
    issuing_body: str
    nation: str
    year: int
    document_type: str
    audience: tuple[str, ...]
    themes: tuple[str, ...]


@dataclass
class DemoEvidence:
    studies: list[DemoStudyRecord] = field(default_factory=list)
    themes: list[DemoTheme] = field(default_factory=list)
    review_findings: list[DemoReviewFinding] = field(default_factory=list)
    documents: list[DemoDocument] = field(default_factory=list)
    charting_themes: tuple[str, ...] = ()


QUALITATIVE_FINDINGS: list[tuple[str, tuple[tuple[str, str], ...]]] = [
    (
        "Women valued seeing the midwife, drug worker and social worker in one place.",
        (("It was all under one roof, I didn't have to tell my story five times.", "6"),),
    ),
    (
        "Fear that disclosure of drug use would lead to the baby being removed kept women "
        "away from antenatal care.",
        (("I thought if I said anything they'd take him straight off me.", "7"),),
    ),
    (
        "A named worker who stayed the same through pregnancy and after the birth built trust.",
        (("She knew me, she knew my history, I didn't have to start again.", "8"),),
    ),
    (
        "Judgemental remarks on the postnatal ward left women feeling watched rather than "
        "supported.",
        (("The way they looked at me when I asked for my methadone.", "9"),),
    ),
    (
        "Practical help with housing and benefits made it possible to keep appointments.",
        (("Once the flat was sorted I could actually think about the baby.", "10"),),
    ),
]


def build_evidence(seed: int) -> DemoEvidence:
    """A mixed-methods review's included studies and syntheses, and a scoping review's
    charted guidance documents."""
    rng = random.Random(seed)
    names = rng.sample(SURNAMES, len(SURNAMES))
    demo = DemoEvidence()
    for index in range(8):
        # Integrated care lowers substance use at birth (true RR about 0.7) with heterogeneity.
        n1, n2 = rng.randint(40, 220), rng.randint(40, 220)
        base = rng.uniform(0.3, 0.6)
        rr = max(0.2, min(1.3, rng.gauss(0.7, 0.15)))
        a = max(1, round(n1 * base * rr))
        c = max(1, round(n2 * base))
        keep1, keep2 = rng.uniform(0.55, 0.8), rng.uniform(0.4, 0.65)
        k1, k2 = round(n1 * keep1), round(n2 * keep2)
        demo.studies.append(
            DemoStudyRecord(
                label=f"{names[index]} {2012 + index}",
                design="quantitative",
                study_design=QUANT_DESIGNS[index],
                country=rng.choice(COUNTRIES),
                setting=SETTINGS[index % len(SETTINGS)],
                sample_size=n1 + n2,
                year=2012 + index,
                counts=(a, n1 - a, c, n2 - c),
                custody=(k1, n1 - k1, k2, n2 - k2) if index < 6 else None,
            )
        )
    for index in range(5):
        picked = rng.sample(range(len(QUALITATIVE_FINDINGS)), 3)
        demo.studies.append(
            DemoStudyRecord(
                label=f"{names[8 + index]} {2015 + index}",
                design="qualitative",
                study_design="qualitative",
                country=rng.choice(COUNTRIES[:3]),
                setting=rng.choice(SETTINGS),
                sample_size=rng.randint(8, 30),
                year=2015 + index,
                findings=tuple(QUALITATIVE_FINDINGS[i] for i in sorted(picked)),
            )
        )
    demo.studies.append(
        DemoStudyRecord(
            label=f"{names[13]} 2021",
            design="mixed",
            study_design="mixed methods",
            country="UK",
            setting="collocated clinic",
            sample_size=64,
            year=2021,
            findings=(QUALITATIVE_FINDINGS[0], QUALITATIVE_FINDINGS[2]),
        )
    )
    keys = _finding_keys(demo.studies)
    demo.themes = [
        DemoTheme("Care that holds the whole person", "analytical", None, ()),
        DemoTheme("Fear of losing the baby", "analytical", None, ()),
        DemoTheme("One place, one story", "descriptive", "Care that holds the whole person",
                  keys[0]),
        DemoTheme("Continuity of a named worker", "descriptive",
                  "Care that holds the whole person", keys[2]),
        DemoTheme("Practical help first", "descriptive", "Care that holds the whole person",
                  keys[4]),
        DemoTheme("Disclosure as a risk", "descriptive", "Fear of losing the baby", keys[1]),
        DemoTheme("Feeling watched on the ward", "descriptive", "Fear of losing the baby",
                  keys[3]),
    ]  # fmt: skip
    demo.review_findings = [
        DemoReviewFinding(
            "Collocated services let women tell their story once and were valued for it.",
            "One place, one story",
            keys[0],
            ("minor", "no or very minor", "no or very minor", "minor"),
            "high",
            "Consistent across studies from three countries; minor concerns about recruitment "
            "through the services studied and one study outside the UK context.",
        ),
        DemoReviewFinding(
            "Fear that disclosure leads to removal of the baby delays antenatal care.",
            "Disclosure as a risk",
            keys[1],
            ("moderate", "minor", "minor", "no or very minor"),
            "moderate",
            "Moderate concerns about methodological limitations (reflexivity not reported in "
            "two studies) and minor concerns about coherence and adequacy.",
        ),
        DemoReviewFinding(
            "A named worker who stays the same through pregnancy and after birth builds trust.",
            "Continuity of a named worker",
            keys[2],
            ("minor", "no or very minor", "moderate", "minor"),
            "moderate",
            "Moderate concerns about adequacy: few studies with thin data on the postnatal period.",
        ),
        DemoReviewFinding(
            "Stigmatising remarks on postnatal wards undermine engagement.",
            "Feeling watched on the ward",
            keys[3],
            ("moderate", "moderate", "serious", "minor"),
            "low",
            "Serious concerns about adequacy (few studies, little data) and moderate concerns "
            "about methodological limitations and coherence.",
        ),
    ]
    demo.charting_themes = (
        "Integrated working",
        "Stigma",
        "Mental health",
        "Neonatal care",
        "Safeguarding",
        "Opioid substitution in pregnancy",
        "Breastfeeding",
    )
    nations = ["England", "England", "England", "Scotland", "Scotland", "Wales",
               "Northern Ireland", "UK-wide", "UK-wide"]  # fmt: skip
    bodies = {
        "England": ["NICE", "NHS England", "Public Health England", "an English local authority"],
        "Scotland": ["Scottish Government", "Healthcare Improvement Scotland"],
        "Wales": ["Welsh Government", "Public Health Wales"],
        "Northern Ireland": ["Department of Health NI", "a Health and Social Care Trust"],
        "UK-wide": ["a royal college", "a national charity", "a professional body"],
    }
    types = ["clinical guideline", "policy", "practice guidance", "local protocol", "standards"]
    audiences = ["midwives", "obstetricians", "drug services", "social workers", "neonatal staff",
                 "health visitors", "commissioners"]  # fmt: skip
    for number in range(1, 41):
        nation = rng.choice(nations)
        themes = rng.sample(demo.charting_themes, rng.randint(1, 4))
        demo.documents.append(
            DemoDocument(
                label=f"Guidance document {number:02d} (synthetic)",
                issuing_body=rng.choice(bodies[nation]),
                nation=nation,
                year=rng.randint(2008, 2023),
                document_type=rng.choice(types),
                audience=tuple(sorted(rng.sample(audiences, rng.randint(1, 3)))),
                themes=tuple(sorted(themes)),
            )
        )
    return demo


def _finding_keys(studies: list[DemoStudyRecord]) -> list[tuple[str, ...]]:
    """For each of the QUALITATIVE_FINDINGS, the studies' findings that report it."""
    keys: list[list[str]] = [[] for _ in QUALITATIVE_FINDINGS]
    for study in studies:
        for index, finding in enumerate(study.findings):
            keys[QUALITATIVE_FINDINGS.index(finding)].append(f"{study.label}|{index}")
    return [tuple(items) for items in keys]
