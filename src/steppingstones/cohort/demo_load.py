"""Storing the demo cohort (see demo.py) in the demo study."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from steppingstones.cohort import services
from steppingstones.cohort.demo import build_cohort
from steppingstones.cohort.models import (
    CarePeriod,
    Circumstance,
    Consent,
    ConsentForm,
    ConsentItem,
    FocusGroup,
    Infant,
    Interview,
    Pregnancy,
    StaffInterview,
    StaffMember,
    Woman,
)
from steppingstones.core.demo import DEMO_SEED, DemoStudy
from steppingstones.core.demo_load import demo_part
from steppingstones.core.models import Study
from steppingstones.core.progress import Progress

WOMAN_ITEMS = [
    ("take-part", "I agree to take part in the study", True),
    ("audio", "I agree to my interviews being audio recorded", True),
    ("quotes", "I agree to anonymised quotes being used in reports", False),
    ("archive", "I agree to my anonymised transcripts being archived", False),
    ("future-contact", "I agree to be contacted about future research", False),
    ("linkage", "I agree to my study records being linked to my health and care records", False),
]
STAFF_ITEMS = [
    ("take-part", "I agree to take part in a focus group or interview", True),
    ("audio", "I agree to the discussion being audio recorded", True),
    ("quotes", "I agree to anonymised quotes being used in reports", False),
]


@demo_part("cohort")
def load_cohort(study: Study, plan: DemoStudy, progress: Progress) -> None:
    if Woman.objects.filter(participant__study=study).exists():
        return
    waves = {wave.number: wave for wave in services.ensure_waves(study)}
    people = {p.pseudonym: p for p in study.participants.all()}
    cohort = build_cohort(
        [(p.pseudonym, p.site_code) for p in plan.people if p.kind == "woman"],
        [(p.pseudonym, p.site_code) for p in plan.people if p.kind == "staff"],
        seed=DEMO_SEED,
    )
    users = get_user_model().objects
    researcher = users.filter(username="demo-researcher").first()
    site_researcher = users.filter(username="demo-site-researcher").first()
    forms = _consent_forms(study)
    progress.start(len(cohort.women) + len(cohort.staff), "Demo cohort")
    for demo in cohort.women:
        interviewer = site_researcher if demo.site_code == "EL" else researcher
        woman = Woman.objects.create(
            participant=people[demo.pseudonym],
            recruited_on=demo.recruited_on,
            recruitment_route=demo.route,
            edd=demo.edd,
            gestation_at_recruitment_days=demo.gestation_at_recruitment_days,
            parity=demo.parity,
            earlier_children=demo.earlier_children,
            earlier_children_removed=demo.earlier_children_removed,
            interviewer=interviewer,
            status=Woman.Status.COMPLETED if demo.status == "completed" else demo.status,
            context_notes="Synthetic demo record.",
        )
        pregnancy = Pregnancy.objects.create(
            woman=woman,
            birth_date=demo.birth_date,
            gestation_at_birth_days=demo.gestation_at_birth_days,
            outcome=demo.outcome,
        )
        for child in demo.infants:
            infant = Infant.objects.create(
                pregnancy=pregnancy,
                pseudonym=child.pseudonym,
                birthweight_grams=child.birthweight_grams,
                nas_scored=child.nas_scored,
                nas_treated=child.nas_treated,
                neonatal_care=child.neonatal_care,
                length_of_stay_days=child.length_of_stay_days,
            )
            for status, starts, ends in child.care:
                CarePeriod.objects.create(
                    infant=infant, status=status, starts_on=starts, ends_on=ends
                )
        for kind, value, dose, starts in demo.circumstances:
            Circumstance.objects.create(
                woman=woman,
                kind=kind,
                value=value,
                dose=dose,
                starts_on=starts,
                sensitivity=Circumstance.DEFAULT_SENSITIVITY[Circumstance.Kind(kind)],
            )
        for item in demo.interviews:
            Interview.objects.create(
                woman=woman,
                wave=waves[item.wave],
                status=item.status,
                date=item.day,
                mode=item.mode,
                location_type=item.location_type if item.status == "done" else "",
                duration_minutes=item.duration_minutes,
                reason=item.reason,
                interviewer=interviewer if item.status == "done" else None,
            )
        for version, given in demo.consent_versions:
            consent_form = forms[("woman", version)]
            Consent.objects.create(
                participant=woman.participant,
                form=consent_form,
                given_on=given,
                taken_by=interviewer,
                answers=dict.fromkeys(consent_form.items.values_list("code", flat=True), True),
            )
        if demo.withdrawal is not None:
            on, option, reason = demo.withdrawal
            services.record_withdrawal(
                woman.participant, on=on, option=option, reason=reason, user=interviewer
            )
        progress.advance()
    members = {}
    for demo_staff in cohort.staff:
        member = StaffMember.objects.create(
            participant=people[demo_staff.pseudonym],
            role=demo_staff.role,
            service=demo_staff.service,
        )
        members[demo_staff.pseudonym] = member
        Consent.objects.create(
            participant=member.participant,
            form=forms[("staff", "1.0")],
            given_on=demo_staff.interviewed_on or forms[("staff", "1.0")].effective_from,
            taken_by=researcher,
            answers={code: True for code, _, _ in STAFF_ITEMS},
        )
        if demo_staff.interviewed_on:
            StaffInterview.objects.create(
                staff_member=member,
                date=demo_staff.interviewed_on,
                mode="video",
                interviewer=researcher,
                duration_minutes=45,
            )
        progress.advance()
    sites = {site.code: site for site in study.sites.all()}
    for group in cohort.focus_groups:
        focus_group = FocusGroup.objects.create(
            study=study,
            site=sites[group.site_code],
            held_on=group.held_on,
            topic=group.topic,
            facilitator=researcher,
            duration_minutes=90,
        )
        focus_group.attendees.set([members[p] for p in group.attendees])
    progress.finish()


def _consent_forms(study: Study) -> dict[tuple[str, str], ConsentForm]:
    from datetime import date

    made = {}
    for audience, version, effective, items in (
        ("woman", "1.0", date(2022, 3, 1), WOMAN_ITEMS),
        (
            "woman",
            "1.1",
            date(2023, 1, 10),
            [*WOMAN_ITEMS, ("diary", "I agree to keep an audio or visual diary", False)],
        ),
        ("staff", "1.0", date(2022, 3, 1), STAFF_ITEMS),
    ):
        consent_form = ConsentForm.objects.create(
            study=study,
            audience=audience,
            version=version,
            effective_from=effective,
            title="Women's consent" if audience == "woman" else "Staff consent",
        )
        for position, (code, text, required) in enumerate(items):
            ConsentItem.objects.create(
                form=consent_form, code=code, text=text, required=required, position=position
            )
        made[(audience, version)] = consent_form
    return made
