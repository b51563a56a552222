"""The event catalogue every study starts with, drawn from the UK perinatal pathway (NICE CG110 and
NG201, the Scottish national child-protection guidance, health-visiting contacts): what can happen
to a woman or her baby, in which service, and when it typically happens.

Studies edit their own copy; the codes are stable and used by timing rules, reference pathways,
CSV imports and the analytics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from steppingstones.core.models import Study


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name: str
    service: str
    shape: str  # "milestone", "contact" or "period"
    subject: str  # "woman", "infant" or "either"
    typical_timing: str = ""
    is_key_milestone: bool = False


DEFAULT_CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        "referral", "Referral to maternity", "maternity", "milestone", "woman", "by 9+0 weeks"
    ),
    CatalogueEntry(
        "booking", "Booking appointment", "maternity", "milestone", "woman", "by 10+0 weeks", True
    ),
    CatalogueEntry(
        "specialist-midwife-referral",
        "Referral to specialist midwife",
        "maternity",
        "milestone",
        "woman",
        "at or after booking",
    ),
    CatalogueEntry(
        "specialist-midwife-contact",
        "Specialist-midwife contact",
        "maternity",
        "contact",
        "woman",
        "through pregnancy",
    ),
    CatalogueEntry(
        "antenatal-appointment",
        "Antenatal appointment",
        "maternity",
        "contact",
        "woman",
        "7 to 10 in pregnancy",
    ),
    CatalogueEntry(
        "drug-service-referral",
        "Referral to drug service",
        "drug-treatment",
        "milestone",
        "woman",
        "at or after booking",
    ),
    CatalogueEntry(
        "drug-treatment-start",
        "Drug treatment start (OST)",
        "drug-treatment",
        "period",
        "woman",
        "any time",
    ),
    CatalogueEntry(
        "drug-treatment-change",
        "Drug treatment change (dose or medicine)",
        "drug-treatment",
        "milestone",
        "woman",
        "any time",
    ),
    CatalogueEntry(
        "drug-worker-contact",
        "Drug-worker contact",
        "drug-treatment",
        "contact",
        "woman",
        "any time",
    ),
    CatalogueEntry(
        "mental-health-contact",
        "Perinatal mental-health contact",
        "mental-health",
        "contact",
        "woman",
        "any time",
    ),
    CatalogueEntry(
        "social-care-referral",
        "Referral to social care",
        "social-care",
        "milestone",
        "woman",
        "at first concern",
    ),
    CatalogueEntry(
        "ird",
        "Inter-agency referral discussion / strategy discussion",
        "social-care",
        "milestone",
        "woman",
        "from confirmed pregnancy",
    ),
    CatalogueEntry(
        "pre-birth-assessment",
        "Pre-birth assessment",
        "social-care",
        "period",
        "woman",
        "from confirmed pregnancy",
    ),
    CatalogueEntry(
        "pre-birth-conference",
        "Pre-birth child-protection conference / CPPM",
        "social-care",
        "milestone",
        "woman",
        "Scotland by 28 weeks; England by 34 weeks or 10 weeks before EDD",
        True,
    ),
    CatalogueEntry(
        "child-protection-registration",
        "Unborn baby registered / on a plan",
        "social-care",
        "milestone",
        "either",
        "at the pre-birth conference",
    ),
    CatalogueEntry(
        "planning-meeting",
        "Multidisciplinary planning meeting",
        "maternity",
        "milestone",
        "woman",
        "about 32 weeks",
    ),
    CatalogueEntry(
        "social-worker-contact",
        "Social-worker contact",
        "social-care",
        "contact",
        "either",
        "any time",
    ),
    CatalogueEntry(
        "fnp-enrolment",
        "Family Nurse Partnership enrolment",
        "health-visiting",
        "milestone",
        "woman",
        "by 28 weeks",
    ),
    CatalogueEntry(
        "health-visitor-antenatal",
        "Health-visitor antenatal contact",
        "health-visiting",
        "contact",
        "woman",
        "28 weeks",
    ),
    CatalogueEntry("birth", "Birth", "maternity", "milestone", "either", "day 0", True),
    CatalogueEntry(
        "nas-scoring", "NAS scoring", "neonatal", "period", "infant", "from birth, every 4 hours"
    ),
    CatalogueEntry("nas-treatment", "NAS treatment", "neonatal", "period", "infant", "from day 0"),
    CatalogueEntry(
        "neonatal-unit",
        "Neonatal unit or transitional care",
        "neonatal",
        "period",
        "infant",
        "from day 0",
    ),
    CatalogueEntry(
        "pre-discharge-meeting",
        "Pre-discharge meeting",
        "social-care",
        "milestone",
        "either",
        "before discharge",
    ),
    CatalogueEntry(
        "post-birth-conference",
        "Post-birth conference",
        "social-care",
        "milestone",
        "either",
        "within 5 days",
    ),
    CatalogueEntry(
        "discharge-mother",
        "Mother's discharge from hospital",
        "maternity",
        "milestone",
        "woman",
        "from day 2",
    ),
    CatalogueEntry(
        "discharge-infant",
        "Baby's discharge from hospital",
        "neonatal",
        "milestone",
        "infant",
        "day 5 or later (Glasgow); 2 to 7 days (Leeds)",
        True,
    ),
    CatalogueEntry(
        "legal-order",
        "Legal order (ICO, EPO, CPO, Reporter)",
        "legal",
        "milestone",
        "infant",
        "at or after birth",
    ),
    CatalogueEntry(
        "separation",
        "Separation of mother and baby",
        "social-care",
        "milestone",
        "infant",
        "at or after birth",
        True,
    ),
    CatalogueEntry(
        "placement",
        "Placement (foster, kinship, mother-and-baby)",
        "social-care",
        "period",
        "infant",
        "at or after birth",
    ),
    CatalogueEntry(
        "placement-change",
        "Placement change",
        "social-care",
        "milestone",
        "infant",
        "after separation",
    ),
    CatalogueEntry(
        "contact-visit",
        "Contact visit with baby",
        "social-care",
        "contact",
        "either",
        "after separation",
    ),
    CatalogueEntry(
        "residential-treatment",
        "Residential treatment",
        "residential",
        "period",
        "woman",
        "to 18 months",
    ),
    CatalogueEntry("housing-change", "Housing change", "housing", "milestone", "woman", "any time"),
    CatalogueEntry(
        "health-visitor-contact",
        "Health-visitor contact",
        "health-visiting",
        "contact",
        "either",
        "10-14 days, 6-8 weeks, 9-12 months",
    ),
    CatalogueEntry(
        "advocacy-contact",
        "Advocacy or peer-support contact",
        "third-sector",
        "contact",
        "woman",
        "any time",
    ),
    CatalogueEntry(
        "child-protection-review",
        "Child-protection review",
        "social-care",
        "milestone",
        "either",
        "within 3 months",
    ),
    CatalogueEntry(
        "reunification",
        "Reunification with baby",
        "social-care",
        "milestone",
        "infant",
        "to 18 months",
        True,
    ),
    CatalogueEntry(
        "permanence",
        "Permanence decision (kinship order, adoption)",
        "legal",
        "milestone",
        "infant",
        "to 18 months",
    ),
    CatalogueEntry(
        "post-removal-support",
        "Post-removal support",
        "third-sector",
        "contact",
        "woman",
        "after separation",
    ),
)

KEY_MILESTONES = tuple(entry.code for entry in DEFAULT_CATALOGUE if entry.is_key_milestone)


def seed_catalogue(study: Study) -> int:
    """Give ``study`` the default catalogue's entries it lacks; returns how many were added."""
    from steppingstones.journeys.models import EventType

    have = set(EventType.objects.filter(study=study).values_list("code", flat=True))
    new = [
        EventType(
            study=study,
            code=entry.code,
            name=entry.name,
            service=entry.service,
            shape=entry.shape,
            subject=entry.subject,
            typical_timing=entry.typical_timing,
            position=position,
        )
        for position, entry in enumerate(DEFAULT_CATALOGUE)
        if entry.code not in have
    ]
    EventType.objects.bulk_create(new)
    return len(new)
