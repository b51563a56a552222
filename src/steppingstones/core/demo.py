"""A synthetic demo study shaped like the seed study, generated from a seed.

Plain data only: :func:`build_demo` returns what to store; ``demo_load`` stores it. The
people are invented: identifiers use ranges reserved for fiction or testing (07700 900xxx
phone numbers, NHS numbers beginning 999, example.org addresses), and the study is marked
synthetic so every page says so. Nothing here is a research finding.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from steppingstones.core.identity import Identifiers
from steppingstones.core.policy import Role

DEMO_SLUG = "demo"
DEMO_SEED = 20211001


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    nation: str
    organisation: str
    local_authority: str
    service_model: str
    women: int
    staff: int
    outward_postcode: str


@dataclass(frozen=True)
class DemoPerson:
    site_code: str
    kind: str  # "woman" or "staff"
    pseudonym: str
    identifiers: Identifiers | None


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str
    site_codes: tuple[str, ...] = ()
    can_view_identifiers: bool = False


@dataclass(frozen=True)
class DemoStudy:
    slug: str
    name: str
    description: str
    sites: list[DemoSite]
    people: list[DemoPerson] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)


SITES = [
    DemoSite(
        "EL",
        "East London",
        "england",
        "Synthetic East London NHS Trust",
        "Synthetic borough",
        "Specialist midwife with co-located drug service",
        10,
        25,
        "E8",
    ),
    DemoSite(
        "HD",
        "Huddersfield",
        "england",
        "Synthetic Huddersfield NHS Trust",
        "Synthetic Kirklees",
        "Specialist midwife",
        9,
        25,
        "HD1",
    ),
    DemoSite(
        "GG",
        "Greater Glasgow and Clyde",
        "scotland",
        "Synthetic Glasgow health board",
        "Synthetic Glasgow",
        "Multidisciplinary team",
        9,
        25,
        "G31",
    ),
    DemoSite(
        "AA",
        "Ayrshire and Arran",
        "scotland",
        "Synthetic Ayrshire health board",
        "Synthetic South Ayrshire",
        "Specialist midwife with social work link",
        8,
        25,
        "KA7",
    ),
]

FIRST_NAMES = [
    "Amber",
    "Bethany",
    "Carys",
    "Dana",
    "Eilidh",
    "Fern",
    "Gemma",
    "Hollie",
    "Imogen",
    "Jade",
    "Kayleigh",
    "Leanne",
    "Morag",
    "Nadia",
    "Orla",
    "Paige",
    "Rhona",
    "Shannon",
    "Tegan",
    "Vicky",
]
LAST_NAMES = [
    "Ashdown",
    "Brackley",
    "Corrin",
    "Dunmore",
    "Elstow",
    "Farrant",
    "Gilroy",
    "Hazeldine",
    "Inchbald",
    "Jessop",
    "Kilbride",
    "Lorrimer",
    "Maybury",
    "Nethercott",
    "Ormsby",
    "Pennick",
]
STREETS = ["Example Street", "Sample Road", "Fictional Lane", "Placeholder Close", "Demo Avenue"]
ACCOUNT_ROLES = [
    (Role.STUDY_MANAGER, (), False),
    (Role.RESEARCHER, (), True),
    (Role.SITE_RESEARCHER, ("EL",), False),
    (Role.PEER_RESEARCHER, (), False),
    (Role.ADVISORY_GROUP_MEMBER, (), False),
    (Role.AUDITOR, (), False),
]


def nhs_check_digit(first_nine: str) -> int | None:
    """The NHS number modulus-11 check digit, or None where no valid number exists."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def _test_nhs_number(rng: random.Random) -> str:
    while True:
        first_nine = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        check = nhs_check_digit(first_nine)
        if check is not None:
            number = first_nine + str(check)
            return f"{number[:3]} {number[3:6]} {number[6:]}"


def _identifiers(rng: random.Random, site: DemoSite, woman: bool) -> Identifiers:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    born = date(1980, 1, 1) + timedelta(days=rng.randrange(365 * 22))
    return Identifiers(
        full_name=f"{first} {last}",
        date_of_birth=born.isoformat() if woman else "",
        address=f"{rng.randrange(1, 200)} {rng.choice(STREETS)}" if woman else "",
        postcode=f"{site.outward_postcode} {rng.randrange(1, 10)}ZZ" if woman else "",
        phone=f"07700 900{rng.randrange(1000):03d}",
        email=f"{first.lower()}.{last.lower()}@example.org",
        nhs_or_chi_number=_test_nhs_number(rng) if woman else "",
        gp_practice=f"Synthetic {site.name} Health Centre" if woman else "",
    )


def build_demo(seed: int = DEMO_SEED) -> DemoStudy:
    rng = random.Random(seed)
    people: list[DemoPerson] = []
    for site in SITES:
        for number in range(1, site.women + 1):
            people.append(
                DemoPerson(
                    site.code,
                    "woman",
                    f"{site.code}-W{number:02d}",
                    _identifiers(rng, site, woman=True),
                )
            )
        for number in range(1, site.staff + 1):
            people.append(
                DemoPerson(
                    site.code,
                    "staff",
                    f"{site.code}-S{number:02d}",
                    _identifiers(rng, site, woman=False),
                )
            )
    accounts = [
        DemoAccount(
            role=str(role),
            username=f"demo-{role}",
            password=f"stones-{role}-demo",
            site_codes=site_codes,
            can_view_identifiers=identifiable,
        )
        for role, site_codes, identifiable in ACCOUNT_ROLES
    ]
    return DemoStudy(
        slug=DEMO_SLUG,
        name="Synthetic demo study",
        description=(
            "A synthetic study shaped like a four-site longitudinal study of perinatal care for "
            "women who use drugs. Generated for demonstration; no real people or findings."
        ),
        sites=SITES,
        people=people,
        accounts=accounts,
    )
