"""Guideline timings and reference pathways every study can start from, with their sources.

The default timing rules come from the UK guidance summarised in the study's domain brief:
NICE NG201 (booking), the National Guidance for Child Protection in Scotland 2021 (the child
protection planning meeting), English local safeguarding procedures (pre-birth conferences,
whose deadline is set locally), the NHS Greater Glasgow and Clyde neonatal abstinence guideline
(planning meeting, discharge, post-birth conference), NHS England's five health-visiting
contacts and the Family Nurse Partnership. Rules for one locality (Glasgow) are given only to
sites whose name names it; the two English pre-birth conference deadlines are both local rules
and each site should keep the one its procedures use.

Reference pathways (one per nation) list the steps expected in order, each with the latest
timeline day (days from the birth; negative before it) it is expected by.

:func:`seed_rules` and :func:`seed_pathways` add what a study lacks (matched by name, and for a
local rule by site; a default a study has narrowed to one site is not added again), so they are
safe to run again; :func:`rule_specs` and :func:`step_specs` turn the stored rows into
the plain data :mod:`.pathways` works on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from steppingstones.core.models import Site, Study

from .catalogue import seed_catalogue
from .models import EventType, PathwayStep, ReferencePathway, TimingRule
from .pathways import RuleSpec, StepSpec

NICE_NG201 = "NICE NG201 (2021): book by 10+0 weeks — https://www.nice.org.uk/guidance/ng201"
SCOTLAND_CP = (
    "National Guidance for Child Protection in Scotland (2021): CPPM within 28 days of the "
    "concern and by 28 weeks — https://www.gov.scot/publications/national-guidance-child-protection-scotland-2021-updated-2023/"
)
ENGLAND_34 = (
    "Local procedure (e.g. Sefton): pre-birth conference by 34 weeks — "
    "https://seftonscp.procedures.org.uk/lkytqt/child-protection-conferences/managing-individual-cases/pre-birth-conference"
)
ENGLAND_10_BEFORE = (
    "Local procedure (e.g. Islington): pre-birth conference at least 10 weeks before the due "
    "date — https://islingtonchildcare.proceduresonline.com/chapters/p_prebirth_assess.html"
)
GLASGOW = (
    "NHS Greater Glasgow and Clyde neonatal abstinence syndrome guideline (third-party copy; "
    "verify locally): planning meeting about 32 weeks, post-birth conference within 5 days, "
    "no discharge before day 5"
)
HEALTH_VISITING = (
    "NHS England health-visiting programme, five mandated contacts (28 weeks antenatal, "
    "10-14 days …) — https://www.england.nhs.uk/ourwork/qual-clin-lead/hlth-vistg-prog/5-key-visits/"
)
FNP = "Family Nurse Partnership: enrolment by 28 weeks — https://pmc.ncbi.nlm.nih.gov/articles/PMC4707160"


@dataclass(frozen=True)
class DefaultRule:
    name: str
    event: str
    anchor: str
    limit: float
    citation: str
    at_least: bool = False
    after_event: str = ""
    nation: str = ""
    locality: str = ""  # for a local rule: given to sites whose name contains this


DEFAULT_RULES: tuple[DefaultRule, ...] = (
    DefaultRule("Booking by 10+0 weeks", "booking", "gestation", 10, NICE_NG201),
    DefaultRule(
        "Child protection planning meeting (CPPM) by 28 weeks",
        "pre-birth-conference",
        "gestation",
        28,
        SCOTLAND_CP,
        nation="scotland",
    ),
    DefaultRule(
        "CPPM within 28 days of the inter-agency referral discussion",
        "pre-birth-conference",
        "after-event",
        28,
        SCOTLAND_CP,
        after_event="ird",
        nation="scotland",
    ),
    DefaultRule(
        "Child-protection review within 3 months of the CPPM",
        "child-protection-review",
        "after-event",
        92,
        SCOTLAND_CP,
        after_event="pre-birth-conference",
        nation="scotland",
    ),
    DefaultRule(
        "Pre-birth conference by 34 weeks (local rule)",
        "pre-birth-conference",
        "gestation",
        34,
        ENGLAND_34,
        nation="england",
    ),
    DefaultRule(
        "Pre-birth conference at least 10 weeks before the due date (local rule)",
        "pre-birth-conference",
        "before-edd",
        10,
        ENGLAND_10_BEFORE,
        at_least=True,
        nation="england",
    ),
    DefaultRule(
        "Multidisciplinary planning meeting by 32 weeks (Glasgow)",
        "planning-meeting",
        "gestation",
        32,
        GLASGOW,
        locality="glasgow",
    ),
    DefaultRule(
        "Post-birth conference within 5 days (Glasgow)",
        "post-birth-conference",
        "birth",
        5,
        GLASGOW,
        locality="glasgow",
    ),
    DefaultRule(
        "No baby's discharge before day 5 (Glasgow)",
        "discharge-infant",
        "birth",
        5,
        GLASGOW,
        at_least=True,
        locality="glasgow",
    ),
    DefaultRule(
        "Health-visitor antenatal contact by 28 weeks",
        "health-visitor-antenatal",
        "gestation",
        28,
        HEALTH_VISITING,
        nation="england",
    ),
    DefaultRule(
        "Health-visitor new-birth visit by day 14",
        "health-visitor-contact",
        "birth",
        14,
        HEALTH_VISITING,
        nation="england",
    ),
    DefaultRule(
        "Family Nurse Partnership enrolment by 28 weeks", "fnp-enrolment", "gestation", 28, FNP
    ),
)


@dataclass(frozen=True)
class DefaultStep:
    event: str
    latest_day: int | None = None
    required: bool = True


def _weeks_to_day(weeks: float) -> int:
    """A gestation in weeks as a timeline day (days from a birth at 40+0 weeks)."""
    return round(weeks * 7) - 280


ENGLAND_PATHWAY: tuple[DefaultStep, ...] = (
    DefaultStep("referral", _weeks_to_day(9)),
    DefaultStep("booking", _weeks_to_day(10)),
    DefaultStep("specialist-midwife-referral"),
    DefaultStep("drug-service-referral", required=False),
    DefaultStep("social-care-referral", required=False),
    DefaultStep("pre-birth-assessment", required=False),
    DefaultStep("pre-birth-conference", _weeks_to_day(34), required=False),
    DefaultStep("health-visitor-antenatal", _weeks_to_day(28) + 6),
    DefaultStep("birth", 0),
    DefaultStep("discharge-infant"),
    DefaultStep("health-visitor-contact", 14),
)
SCOTLAND_PATHWAY: tuple[DefaultStep, ...] = (
    DefaultStep("referral", _weeks_to_day(9)),
    DefaultStep("booking", _weeks_to_day(10)),
    DefaultStep("specialist-midwife-referral"),
    DefaultStep("drug-service-referral", required=False),
    DefaultStep("ird", required=False),
    DefaultStep("pre-birth-assessment", required=False),
    DefaultStep("pre-birth-conference", _weeks_to_day(28), required=False),
    DefaultStep("birth", 0),
    DefaultStep("pre-discharge-meeting", required=False),
    DefaultStep("discharge-infant"),
    DefaultStep("health-visitor-contact", 14),
)
DEFAULT_PATHWAYS: dict[str, tuple[str, str, tuple[DefaultStep, ...]]] = {
    "england": (
        "England: perinatal pathway for women who use drugs",
        "NICE NG201 booking; referral to specialist midwife at or after booking; pre-birth "
        "conference by 34 weeks where there are concerns (local rule); health-visiting contacts "
        "at 28 weeks and 10-14 days.",
        ENGLAND_PATHWAY,
    ),
    "scotland": (
        "Scotland: perinatal pathway for women who use drugs",
        "NICE NG201 booking; IRD when risk is identified and a CPPM by 28 weeks (National "
        "Guidance for Child Protection in Scotland 2021); a pre-discharge meeting when there "
        "is a plan; health-visitor visit at 10-14 days.",
        SCOTLAND_PATHWAY,
    ),
}


@transaction.atomic
def seed_rules(study: Study) -> int:
    """Give ``study`` the default timing rules it lacks; returns how many were added."""
    seed_catalogue(study)
    types = {t.code: t for t in EventType.objects.filter(study=study)}
    have = set(TimingRule.objects.filter(study=study).values_list("name", "site_id"))
    names = {name for name, _site in have}
    sites = list(Site.objects.filter(study=study))
    added = 0
    for rule in DEFAULT_RULES:
        if rule.event not in types or (rule.after_event and rule.after_event not in types):
            continue
        local = [s for s in sites if rule.locality and rule.locality in s.name.lower()]
        targets: list[Site | None] = list(local) if rule.locality else [None]
        for site in targets:
            # A study-wide default narrowed to a site (or widened) is still the same rule.
            if (rule.name, site.pk) in have if site else rule.name in names:
                continue
            TimingRule.objects.create(
                study=study,
                site=site,
                nation=rule.nation,
                name=rule.name,
                event_type=types[rule.event],
                anchor=rule.anchor,
                after_event_type=types.get(rule.after_event) if rule.after_event else None,
                limit=Decimal(str(rule.limit)),
                at_least=rule.at_least,
                citation=rule.citation[:300],
            )
            added += 1
    return added


@transaction.atomic
def seed_pathways(study: Study) -> int:
    """Give ``study`` the reference pathway of each nation it has sites in, when it lacks one of
    that name; returns how many were added."""
    seed_catalogue(study)
    types = {t.code: t for t in EventType.objects.filter(study=study)}
    nations = set(Site.objects.filter(study=study).values_list("nation", flat=True))
    have = set(ReferencePathway.objects.filter(study=study).values_list("name", flat=True))
    added = 0
    for nation, (name, description, steps) in DEFAULT_PATHWAYS.items():
        if nation not in nations or name in have:
            continue
        pathway = ReferencePathway.objects.create(
            study=study, name=name, description=description, nation=nation
        )
        PathwayStep.objects.bulk_create(
            PathwayStep(
                pathway=pathway,
                event_type=types[step.event],
                position=position,
                latest_day=step.latest_day,
                required=step.required,
            )
            for position, step in enumerate((s for s in steps if s.event in types), start=1)
        )
        added += 1
    return added


def rule_specs(
    study: Study,
    *,
    rules: Iterable[TimingRule] | None = None,
    site_codes: Collection[str] | None = None,
) -> list[RuleSpec]:
    """The study's timing rules as :class:`RuleSpec` (rules for sites outside ``site_codes``,
    when given, are left out)."""
    if rules is None:
        rules = TimingRule.objects.filter(study=study).select_related(
            "site", "event_type", "after_event_type"
        )
    out = []
    for rule in rules:
        site = rule.site.code if rule.site else ""
        if site_codes is not None and site and site not in site_codes:
            continue
        out.append(
            RuleSpec(
                key=str(rule.pk),
                name=rule.name,
                event=rule.event_type.code,
                anchor=rule.anchor,
                limit=float(rule.limit),
                at_least=rule.at_least,
                after_event=rule.after_event_type.code if rule.after_event_type else "",
                site=site,
                nation=rule.nation,
                citation=rule.citation,
            )
        )
    return out


def step_specs(pathway: ReferencePathway) -> list[StepSpec]:
    return [
        StepSpec(
            position=step.position,
            activity=step.event_type.code,
            label=step.event_type.name,
            latest_day=step.latest_day,
            required=step.required,
        )
        for step in pathway.steps.select_related("event_type").order_by("position")
    ]


def describe(rule: RuleSpec) -> str:
    """The rule in words, e.g. "at most 10 weeks' gestation"."""
    limit = f"{rule.limit:g}"
    bound = "at least" if rule.at_least else "at most"
    return {
        "gestation": f"{bound} {limit} weeks' gestation",
        "before-edd": f"{bound} {limit} weeks before the due date",
        "birth": f"{bound} {limit} days after the birth",
        "after-event": f"{bound} {limit} days after {rule.after_event}",
    }.get(rule.anchor, f"{bound} {limit}")
