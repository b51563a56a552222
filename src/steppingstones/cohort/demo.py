"""The synthetic demo study's cohort, generated from a seed: 36 women with 131 interviews over
five waves (with missed waves, two withdrawals and some lost to follow-up), their pregnancies and
infants, 79 staff in focus groups and 21 staff interviewed one to one.

Dates follow the seed study's calendar (recruitment 2022 to 2023), so the same seed gives the
same study on any day. Plain data only; ``demo_load`` stores it. Nothing here is a finding.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from steppingstones.cohort.dates import FULL_TERM_DAYS
from steppingstones.cohort.schedule import DEFAULT_WAVES, wave_window

TARGET_INTERVIEWS = 131
RECRUITMENT_START = date(2022, 4, 1)
RECRUITMENT_DAYS = 330


@dataclass
class DemoInterview:
    wave: int
    status: str  # done, missed, declined, withdrawn, lost
    day: date
    mode: str = "in-person"
    location_type: str = "home"
    duration_minutes: int | None = None
    reason: str = ""


@dataclass
class DemoInfant:
    pseudonym: str
    birthweight_grams: int
    nas_scored: bool
    nas_treated: bool
    neonatal_care: str
    length_of_stay_days: int
    care: list[tuple[str, date, date | None]] = field(default_factory=list)


@dataclass
class DemoWoman:
    pseudonym: str
    site_code: str
    recruited_on: date
    route: str
    edd: date
    gestation_at_recruitment_days: int
    parity: int
    earlier_children: int
    earlier_children_removed: int
    birth_date: date
    gestation_at_birth_days: int
    outcome: str
    infants: list[DemoInfant]
    circumstances: list[tuple[str, str, str, date]]  # kind, value, dose, from
    interviews: list[DemoInterview]
    status: str = "completed"
    withdrawal: tuple[date, str, str] | None = None  # on, option, reason
    consent_versions: list[tuple[str, date]] = field(default_factory=list)


@dataclass
class DemoStaff:
    pseudonym: str
    role: str
    service: str
    interviewed_on: date | None = None


@dataclass
class DemoFocusGroup:
    site_code: str
    held_on: date
    topic: str
    attendees: list[str]


@dataclass
class DemoCohort:
    women: list[DemoWoman]
    staff: list[DemoStaff]
    focus_groups: list[DemoFocusGroup]


ROUTES = ["specialist midwife", "drug service", "antenatal clinic", "third-sector service"]
SUBSTANCES = ["heroin", "crack cocaine", "benzodiazepines", "cannabis", "alcohol"]
MISSED_REASONS = [
    "could not be reached",
    "cancelled twice",
    "in hospital",
    "moved area",
    "did not attend",
]
STAFF_ROLES = [
    ("specialist-midwife", "maternity"),
    ("drug-worker", "drug and alcohol service"),
    ("social-worker", "children's social care"),
    ("health-visitor", "health visiting"),
    ("neonatal", "neonatal unit"),
    ("perinatal-mental-health", "perinatal mental health"),
    ("obstetrician", "maternity"),
    ("manager", "commissioning"),
    ("third-sector", "family support"),
]
FOCUS_GROUP_TOPICS = [
    "Care pathways before birth",
    "Around birth and discharge",
    "After the baby goes home or is removed",
]


def _outcomes(rng: random.Random, count: int) -> list[str]:
    """Each woman's fate: 2 withdraw, 4 are lost, the rest stay to the end."""
    fates = ["withdrawn"] * 2 + ["lost"] * 4 + ["completed"] * (count - 6)
    rng.shuffle(fates)
    return fates


def build_cohort(
    women_pseudonyms: list[tuple[str, str]], staff_pseudonyms: list[tuple[str, str]], seed: int
) -> DemoCohort:
    """``women_pseudonyms`` and ``staff_pseudonyms`` are (pseudonym, site code) pairs."""
    rng = random.Random(seed)
    fates = _outcomes(rng, len(women_pseudonyms))
    women = []
    for (pseudonym, site), fate in zip(women_pseudonyms, fates, strict=True):
        women.append(_woman(rng, pseudonym, site, fate))
    _settle_total(rng, women)
    withdrawn = [w for w in women if w.status == "withdrawn"]
    options = ["keep-data", "remove-unanalysed"]
    for woman, option in zip(withdrawn, options, strict=False):
        last = max(
            (i.day for i in woman.interviews if i.status == "done"), default=woman.recruited_on
        )
        woman.withdrawal = (last + timedelta(days=21), option, "no longer wished to take part")
    staff, groups = _staff(rng, staff_pseudonyms)
    return DemoCohort(women, staff, groups)


def _woman(rng: random.Random, pseudonym: str, site: str, fate: str) -> DemoWoman:
    recruited = RECRUITMENT_START + timedelta(days=rng.randrange(RECRUITMENT_DAYS))
    gestation = rng.randrange(8 * 7, 24 * 7)
    edd = recruited + timedelta(days=FULL_TERM_DAYS - gestation)
    at_birth = rng.choice([rng.randrange(238, 259)] + [rng.randrange(259, 290)] * 4)
    birth = edd - timedelta(days=FULL_TERM_DAYS - at_birth)
    parity = rng.choice([0, 0, 1, 1, 2, 3])
    removed = rng.randrange(parity + 1) if parity else 0
    twins = rng.random() < 0.03
    infants = [_infant(rng, f"{pseudonym}-I{n}", birth) for n in range(1, 3 if twins else 2)]
    stop_after = rng.randrange(1, 5) if fate != "completed" else 6
    interviews = []
    for rule in DEFAULT_WAVES:
        window = wave_window(rule, edd, birth)
        if rule.number > stop_after:
            status = "withdrawn" if fate == "withdrawn" else "lost"
            day = window.target if window else birth
            interviews.append(
                DemoInterview(
                    rule.number, status, day, reason="" if fate == "withdrawn" else "no contact"
                )
            )
            continue
        if window is None or window.closes < recruited:
            continue  # never hers to do: counted as not applicable, not as missed
        opens = max(window.opens, recruited)
        day = min(opens + timedelta(days=rng.randrange(0, 21)), window.closes)
        if rng.random() < 0.78:
            interviews.append(
                DemoInterview(
                    rule.number,
                    "done",
                    day,
                    mode=rng.choice(["in-person"] * 4 + ["phone", "video"]),
                    location_type=rng.choice(
                        ["home", "home", "clinic", "drug service", "family centre"]
                    ),
                    duration_minutes=rng.randrange(35, 95),
                )
            )
        else:
            interviews.append(
                DemoInterview(rule.number, "missed", day, reason=rng.choice(MISSED_REASONS))
            )
    substance = rng.choice(SUBSTANCES[:3])
    ost = rng.choice(
        [
            ("methadone", f"{rng.randrange(30, 100, 5)} mg"),
            ("buprenorphine", f"{rng.randrange(4, 24, 2)} mg"),
        ]
    )
    circumstances = [
        ("substance", substance, "", recruited - timedelta(days=rng.randrange(400, 3000))),
        ("ost", ost[0], ost[1], recruited - timedelta(days=rng.randrange(30, 900))),
    ]
    if rng.random() < 0.5:
        circumstances.append(
            (
                "mental-health",
                rng.choice(["anxiety", "depression", "PTSD"]),
                "",
                recruited - timedelta(days=rng.randrange(100, 2000)),
            )
        )
    if rng.random() < 0.3:
        circumstances.append(("housing", "temporary accommodation", "", recruited))
    consents = [("1.0", recruited)]
    if recruited < date(2023, 1, 10) and fate == "completed":
        consents.append(("1.1", date(2023, 1, 10) + timedelta(days=rng.randrange(60))))
    return DemoWoman(
        pseudonym=pseudonym,
        site_code=site,
        recruited_on=recruited,
        route=rng.choice(ROUTES),
        edd=edd,
        gestation_at_recruitment_days=gestation,
        parity=parity,
        earlier_children=parity,
        earlier_children_removed=removed,
        birth_date=birth,
        gestation_at_birth_days=at_birth,
        outcome="multiple-birth" if twins else "live-birth",
        infants=infants,
        circumstances=circumstances,
        interviews=interviews,
        status=fate,
        consent_versions=consents,
    )


def _infant(rng: random.Random, pseudonym: str, birth: date) -> DemoInfant:
    treated = rng.random() < 0.4
    care_kind = (
        "neonatal-unit"
        if treated and rng.random() < 0.5
        else ("transitional" if rng.random() < 0.5 else "none")
    )
    stay = rng.randrange(8, 28) if treated else rng.randrange(3, 8)
    care: list[tuple[str, date, date | None]] = [("with-mother", birth, None)]
    if rng.random() < 0.35:
        separated = birth + timedelta(days=stay)
        care = [
            ("with-mother", birth, separated),
            (rng.choice(["foster", "kinship", "foster"]), separated, None),
        ]
        if rng.random() < 0.3:
            back = separated + timedelta(days=rng.randrange(60, 300))
            care[-1] = (care[-1][0], separated, back)
            care.append(("with-mother", back, None))
    elif rng.random() < 0.15:
        care = [("mother-and-baby", birth + timedelta(days=stay), None)]
    return DemoInfant(
        pseudonym, rng.randrange(1900, 3900, 10), True, treated, care_kind, stay, care
    )


def _settle_total(rng: random.Random, women: list[DemoWoman]) -> None:
    """Turn missed waves into done ones (or back) until the total is the seed study's 131."""
    slots = [(w, i) for w in women for i in w.interviews if i.status in ("done", "missed")]
    rng.shuffle(slots)
    done = sum(1 for _, i in slots if i.status == "done")
    for _woman, interview in slots:
        if done == TARGET_INTERVIEWS:
            break
        if done < TARGET_INTERVIEWS and interview.status == "missed":
            interview.status, interview.reason = "done", ""
            interview.duration_minutes = rng.randrange(35, 95)
            done += 1
        elif done > TARGET_INTERVIEWS and interview.status == "done":
            interview.status, interview.reason = "missed", rng.choice(MISSED_REASONS)
            interview.duration_minutes = None
            done -= 1
    if done != TARGET_INTERVIEWS:
        raise ValueError(f"the demo cohort could not reach {TARGET_INTERVIEWS} interviews")


def _staff(
    rng: random.Random, pseudonyms: list[tuple[str, str]]
) -> tuple[list[DemoStaff], list[DemoFocusGroup]]:
    """79 staff attend focus groups and 21 are interviewed alone, spread over the sites."""
    staff = []
    ordered = list(pseudonyms)
    rng.shuffle(ordered)
    interviewed = {p for p, _ in ordered[:21]}
    for pseudonym, _site in pseudonyms:
        role, service = rng.choice(STAFF_ROLES)
        staff.append(
            DemoStaff(
                pseudonym,
                role,
                service,
                interviewed_on=date(2023, 3, 1) + timedelta(days=rng.randrange(300))
                if pseudonym in interviewed
                else None,
            )
        )
    groups = []
    by_site: dict[str, list[str]] = {}
    for pseudonym, site in pseudonyms:
        if pseudonym not in interviewed:
            by_site.setdefault(site, []).append(pseudonym)
    for site, members in sorted(by_site.items()):
        for index, topic in enumerate(FOCUS_GROUP_TOPICS):
            chunk = members[index :: len(FOCUS_GROUP_TOPICS)]
            if chunk:
                groups.append(
                    DemoFocusGroup(
                        site,
                        date(2023, 2, 1) + timedelta(days=120 * index + rng.randrange(20)),
                        topic,
                        chunk,
                    )
                )
    return staff, groups
