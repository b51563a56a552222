"""The demo study's journeys: each demo woman gets a journey drawn from her cohort record.

Booking follows her gestation at recruitment, drug treatment her recorded treatment, the birth
her pregnancy's birth date, NAS care and neonatal stays her infant's record, separations,
placements and reunifications her infant's care periods; contacts and experiences (with short
synthetic quotes) are added from a seed, so the same demo gives the same journeys. Interviews
that took place are the waves the events were told in. Nothing here is a finding.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from steppingstones.cohort.dates import FULL_TERM_DAYS, format_gestation
from steppingstones.cohort.models import CarePeriod, Infant, Interview, Woman
from steppingstones.core.demo import DEMO_SEED, DemoStudy
from steppingstones.core.demo_load import demo_part
from steppingstones.core.models import Study
from steppingstones.core.progress import Progress
from steppingstones.journeys.catalogue import seed_catalogue
from steppingstones.journeys.models import EventType, JourneyEvent
from steppingstones.journeys.timeline import PregnancyDates, timeline_days

QUOTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("booking", "helpful"): (
        "The midwife didn't flinch when I told her about the methadone.",
        "She just asked what would help me keep going to appointments.",
    ),
    ("booking", "stigmatising"): (
        "Soon as I said I was on a script her whole face changed.",
        "It felt like the form was more about the baby being taken than about me.",
    ),
    ("specialist-midwife-contact", "helpful"): (
        "She was the first one who explained what would happen after the birth.",
        "I could text her, and she always got back to me the same day.",
        "She came to the drug service so I didn't have to go up to the hospital.",
    ),
    ("specialist-midwife-contact", "mixed"): (
        "She was kind but she had to tell social work everything I said.",
    ),
    ("drug-treatment-change", "helpful"): ("They split my dose so I wasn't sick in the mornings.",),
    ("drug-treatment-change", "unhelpful"): (
        "They wanted me to come down on my dose and I wasn't ready.",
    ),
    ("drug-treatment-start", "helpful"): (
        "Getting on a script quickly meant I could actually think about the baby.",
    ),
    ("mental-health-contact", "helpful"): (
        "Somebody finally asked how I was feeling and not just what I was using.",
    ),
    ("mental-health-contact", "unhelpful"): ("I waited weeks and then it was one phone call.",),
    ("pre-birth-conference", "distressing"): (
        "Ten people round a table talking about my baby before she was even born.",
        "I didn't know who half of them were.",
    ),
    ("pre-birth-conference", "mixed"): (
        "It was hard, but my advocate made sure they heard what I'd done.",
    ),
    ("planning-meeting", "helpful"): ("At least I knew the plan for the ward before I went in.",),
    ("birth", "helpful"): ("The midwives on the ward treated me like any other mum.",),
    ("birth", "stigmatising"): (
        "A nurse said 'is this the one on methadone' right in front of me.",
    ),
    ("nas-scoring", "mixed"): (
        "The scoring every four hours was frightening, but they showed me how to settle him.",
    ),
    ("nas-treatment", "distressing"): (
        "Seeing her on morphine because of me, that was the worst part.",
    ),
    ("neonatal-unit", "unhelpful"): (
        "I was sent home and had to get two buses to see her in the unit.",
    ),
    ("neonatal-unit", "helpful"): (
        "The neonatal nurses let me do the feeds and the nappies myself.",
    ),
    ("discharge-infant", "helpful"): ("Walking out the door with him was the best day.",),
    ("separation", "distressing"): (
        "They took her from the ward. I didn't even get to dress her.",
        "I went home to an empty cot.",
    ),
    ("legal-order", "distressing"): ("The hearing was over in twenty minutes.",),
    ("contact-visit", "mixed"): (
        "Contact was in a room with a window, with someone writing notes.",
    ),
    ("post-removal-support", "helpful"): (
        "The support group was the only place nobody judged me.",
    ),
    ("reunification", "helpful"): ("Getting him back home, I worked so hard for that.",),
    ("health-visitor-contact", "helpful"): (
        "The health visitor was brilliant, she never made me feel watched.",
    ),
    ("health-visitor-contact", "stigmatising"): (
        "She looked round the house like she was inspecting it.",
    ),
    ("social-worker-contact", "unhelpful"): (
        "I had three different social workers in four months.",
    ),
    ("social-worker-contact", "helpful"): (
        "My social worker fought for us to go to the mother-and-baby unit.",
    ),
}
ROLES = {
    "referral": "GP",
    "booking": "Community midwife",
    "specialist-midwife-contact": "Specialist midwife",
    "drug-treatment-start": "Drug worker",
    "drug-treatment-change": "Prescriber",
    "drug-worker-contact": "Drug worker",
    "mental-health-contact": "Perinatal mental-health nurse",
    "social-care-referral": "Specialist midwife",
    "pre-birth-assessment": "Social worker",
    "pre-birth-conference": "Child-protection chair",
    "planning-meeting": "Specialist midwife",
    "health-visitor-antenatal": "Health visitor",
    "birth": "Midwife",
    "nas-scoring": "Neonatal nurse",
    "nas-treatment": "Neonatologist",
    "neonatal-unit": "Neonatal nurse",
    "pre-discharge-meeting": "Social worker",
    "discharge-mother": "Midwife",
    "discharge-infant": "Neonatal nurse",
    "legal-order": "Children's Hearing / court",
    "separation": "Social worker",
    "placement": "Social worker",
    "contact-visit": "Contact supervisor",
    "post-removal-support": "Peer-support worker",
    "reunification": "Social worker",
    "health-visitor-contact": "Health visitor",
    "social-worker-contact": "Social worker",
}


@dataclass
class _Draft:
    code: str
    on: date
    ends_on: date | None = None
    infant: Infant | None = None
    note: str = ""
    precision: str = JourneyEvent.DatePrecision.EXACT
    latest: date | None = None
    approximate_text: str = ""
    certainty: str = JourneyEvent.Certainty.CERTAIN
    experience: str = ""
    quote: str = ""


Add = Callable[..., _Draft]


@demo_part("journeys")
def load_journeys(study: Study, plan: DemoStudy, progress: Progress) -> None:
    seed_catalogue(study)
    if JourneyEvent.objects.filter(study=study).exists():
        return
    types = {t.code: t for t in EventType.objects.filter(study=study)}
    women = list(
        Woman.objects.filter(participant__study=study)
        .select_related("participant__site", "pregnancy", "participant__withdrawal")
        .prefetch_related("pregnancy__infants__care_periods", "circumstances", "interviews__wave")
    )
    progress.start(len(women), "Demo journeys")
    rows: list[JourneyEvent] = []
    for woman in women:
        rows.extend(_journey_rows(study, woman, types))
        progress.advance()
    JourneyEvent.objects.bulk_create(rows, batch_size=500)
    progress.finish()


def _journey_rows(study: Study, woman: Woman, types: dict[str, EventType]) -> list[JourneyEvent]:
    withdrawal = getattr(woman.participant, "withdrawal", None)
    option = withdrawal.option if withdrawal is not None else ""
    if option == "remove-all":
        return []
    pregnancy = getattr(woman, "pregnancy", None)
    if pregnancy is None or pregnancy.birth_date is None:
        return []
    rng = random.Random(f"{DEMO_SEED}-journey-{woman.pseudonym}")
    dates = PregnancyDates(woman.edd, pregnancy.birth_date)
    drafts = _drafts(rng, woman, dates)
    done = sorted(
        (i for i in woman.interviews.all() if i.status == Interview.Status.DONE),
        key=lambda i: i.date,
    )
    rows = []
    for draft in drafts:
        told_in = next((i for i in done if i.date >= (draft.latest or draft.on)), None)
        if told_in is None:
            draft.experience, draft.quote = "", ""
        if option == "remove-unanalysed":
            draft.quote, draft.note = "", ""
        kind = types[draft.code]
        rows.append(
            JourneyEvent(
                study=study,
                participant=woman.participant,
                infant=draft.infant,
                event_type=kind,
                service=kind.service,
                professional_role=ROLES.get(draft.code, ""),
                precision=draft.precision,
                date=draft.on,
                date_latest=draft.latest,
                approximate_text=draft.approximate_text,
                ends_on=draft.ends_on,
                timeline_days=timeline_days(draft.on, dates),
                certainty=draft.certainty,
                source_kind=JourneyEvent.SourceKind.INTERVIEW
                if told_in is not None
                else JourneyEvent.SourceKind.RECORD,
                interview=told_in,
                experience=draft.experience,
                quote=draft.quote,
                note=draft.note,
            )
        )
    return rows


def _at(dates: PregnancyDates, gestation: int) -> date:
    return dates.edd - timedelta(days=FULL_TERM_DAYS - gestation)


def _drafts(rng: random.Random, woman: Woman, dates: PregnancyDates) -> list[_Draft]:
    birth = dates.birth_date
    assert birth is not None
    born_at = FULL_TERM_DAYS - (dates.edd - birth).days
    recruited_at = woman.gestation_at_recruitment_days or 84
    scotland = woman.participant.site.nation == "scotland"
    drafts: list[_Draft] = []

    def add(code: str, on: date, **kwargs: object) -> _Draft:
        draft = _Draft(code, on, **kwargs)  # type: ignore[arg-type]  # the fields of _Draft
        drafts.append(draft)
        return draft

    # Before the birth.
    if recruited_at > 20 * 7:
        booking_at = recruited_at - rng.randrange(7, 29)
    else:
        booking_at = max(6 * 7, recruited_at - rng.randrange(3, 21))
    booking_at = min(booking_at, born_at - 28)
    referral_at = max(5 * 7, booking_at - rng.randrange(7, 22))
    add(
        "referral",
        _at(dates, referral_at),
        precision=JourneyEvent.DatePrecision.RANGE,
        latest=_at(dates, referral_at + 10),
        certainty=JourneyEvent.Certainty.PROBABLE,
    )
    booking = add("booking", _at(dates, booking_at))
    if rng.random() < 0.35:
        _approximate(booking, booking_at)
    add("specialist-midwife-contact", _at(dates, booking_at + rng.randrange(7, 22)))
    add("specialist-midwife-contact", _at(dates, min(28 * 7, born_at - 14)))
    ost = next((c for c in woman.circumstances.all() if c.kind == "ost"), None)
    if ost is not None and ost.starts_on is not None and ost.starts_on >= dates.conception:
        add(
            "drug-treatment-start",
            ost.starts_on,
            note=f"{ost.value} {ost.dose}".strip(),
        )
    elif ost is not None:
        change_at = rng.randrange(16 * 7, 30 * 7)
        if change_at < born_at - 7:
            change = add(
                "drug-treatment-change",
                _at(dates, change_at),
                note=f"{ost.value}: dose reviewed in pregnancy",
            )
            if rng.random() < 0.5:
                _approximate(change, change_at)
    add("drug-worker-contact", _at(dates, booking_at + rng.randrange(14, 35)))
    if any(c.kind == "mental-health" for c in woman.circumstances.all()):
        add("mental-health-contact", _at(dates, min(rng.randrange(18 * 7, 30 * 7), born_at - 7)))
    infants = list(woman.pregnancy.infants.all())
    periods = [p for infant in infants for p in infant.care_periods.all()]
    separated = any(
        p.status in (CarePeriod.Status.FOSTER, CarePeriod.Status.KINSHIP) for p in periods
    )
    concern = separated or rng.random() < 0.45
    if concern:
        referral_sc = min(booking_at + rng.randrange(7, 28), born_at - 60)
        add("social-care-referral", _at(dates, referral_sc))
        conference_at = rng.randrange(24 * 7, 28 * 7) if scotland else rng.randrange(28 * 7, 34 * 7)
        conference_at = min(max(conference_at, referral_sc + 21), born_at - 5)
        add(
            "pre-birth-assessment",
            _at(dates, referral_sc + 7),
            ends_on=_at(dates, conference_at - 3),
        )
        add("pre-birth-conference", _at(dates, conference_at))
        add("social-worker-contact", _at(dates, min(conference_at + 14, born_at - 1)))
    if born_at > 33 * 7:
        add("planning-meeting", _at(dates, min(32 * 7, born_at - 3)))
    add("health-visitor-antenatal", _at(dates, min(rng.randrange(28 * 7, 33 * 7), born_at - 2)))

    # The birth and the neonatal stay.
    first = infants[0] if infants else None
    add("birth", birth, infant=first)
    add("discharge-mother", birth + timedelta(days=min(2 + rng.randrange(2), 4)))
    for infant in infants:
        stay = infant.length_of_stay_days or 3
        if infant.nas_scored:
            add(
                "nas-scoring",
                birth,
                infant=infant,
                ends_on=birth + timedelta(days=max(stay - 1, 3) if infant.nas_treated else 3),
            )
        if infant.nas_treated:
            add(
                "nas-treatment",
                birth + timedelta(days=1 + rng.randrange(2)),
                infant=infant,
                ends_on=birth + timedelta(days=max(stay - 1, 3)),
            )
        if infant.neonatal_care != Infant.NeonatalCare.NONE:
            add(
                "neonatal-unit",
                birth,
                infant=infant,
                ends_on=birth + timedelta(days=stay),
                note=infant.get_neonatal_care_display(),
            )
        if concern:
            add("pre-discharge-meeting", birth + timedelta(days=max(stay - 1, 1)), infant=infant)
        add("discharge-infant", birth + timedelta(days=stay), infant=infant)
        _care_events(rng, add, infant)
        _health_visits(rng, add, infant, birth)
    _experiences(rng, drafts)
    return drafts


def _approximate(draft: _Draft, gestation: int) -> None:
    weeks = round(gestation / 7)
    draft.precision = JourneyEvent.DatePrecision.APPROXIMATE
    draft.approximate_text = f"about {weeks} weeks"
    draft.certainty = JourneyEvent.Certainty.PROBABLE
    draft.note = f"Her estimate; the record would say {format_gestation(gestation)}."


def _care_events(rng: random.Random, add: Add, infant: Infant) -> None:
    periods = list(infant.care_periods.all())
    away = False
    for period in periods:
        status = period.status
        if status in (CarePeriod.Status.FOSTER, CarePeriod.Status.KINSHIP):
            away = True
            add("legal-order", period.starts_on, infant=infant, note="Interim order at separation")
            add("separation", period.starts_on, infant=infant)
            add(
                "placement",
                period.starts_on,
                infant=infant,
                ends_on=period.ends_on,
                note=period.get_status_display(),
            )
            add(
                "contact-visit",
                period.starts_on + timedelta(days=rng.randrange(3, 10)),
                infant=infant,
            )
            add(
                "post-removal-support",
                period.starts_on + timedelta(days=rng.randrange(21, 45)),
                precision=JourneyEvent.DatePrecision.APPROXIMATE,
                approximate_text="a few weeks after she was taken",
                certainty=JourneyEvent.Certainty.PROBABLE,
            )
        elif status == CarePeriod.Status.MOTHER_AND_BABY:
            add(
                "placement",
                period.starts_on,
                infant=infant,
                ends_on=period.ends_on,
                note=period.get_status_display(),
            )
            add("social-worker-contact", period.starts_on + timedelta(days=14), infant=infant)
        elif status == CarePeriod.Status.WITH_MOTHER and away:
            away = False
            add("reunification", period.starts_on, infant=infant)


def _with_mother(infant: Infant, on: date) -> bool:
    for period in infant.care_periods.all():
        ends = period.ends_on or date.max
        if period.starts_on <= on < ends:
            return period.status in (
                CarePeriod.Status.WITH_MOTHER,
                CarePeriod.Status.MOTHER_AND_BABY,
                CarePeriod.Status.RESIDENTIAL,
            )
    return False


def _health_visits(rng: random.Random, add: Add, infant: Infant, birth: date) -> None:
    for low, high in ((10, 15), (42, 57), (270, 366)):
        on = birth + timedelta(days=rng.randrange(low, high))
        if _with_mother(infant, on):
            add("health-visitor-contact", on, infant=infant)


def _experiences(rng: random.Random, drafts: list[_Draft]) -> None:
    """About half the events with a quote bank get an experience and a quote."""
    for draft in drafts:
        options = [(exp, quotes) for (code, exp), quotes in QUOTES.items() if code == draft.code]
        if not options or rng.random() > 0.55:
            continue
        experience, quotes = options[rng.randrange(len(options))]
        draft.experience = experience
        draft.quote = quotes[rng.randrange(len(quotes))]
