"""Storing the synthetic demo study; safe to run again (nothing is duplicated)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction

from steppingstones.core import audit, identity_store
from steppingstones.core.demo import DemoAccount, DemoStudy, build_demo
from steppingstones.core.models import Membership, Participant, Site, Study
from steppingstones.core.progress import Progress, SilentProgress

DEMO_ACTOR = audit.Actor(user_id=None, name="demo-generator")

# Each area adds its part of the demo: ``part(study, plan, progress)``, run after the core part
# in the same transaction, and expected to do nothing when its part is already there.
DemoPart = Callable[[Study, DemoStudy, Progress], None]
_PARTS: dict[str, DemoPart] = {}


def demo_part(area: str) -> Callable[[DemoPart], DemoPart]:
    def register(part: DemoPart) -> DemoPart:
        _PARTS[area] = part
        return part

    return register


def load_demo(progress: Progress | None = None, plan: DemoStudy | None = None) -> list[DemoAccount]:
    """Create (or complete) the demo study and its accounts; returns the accounts to print."""
    plan = plan or build_demo()
    progress = progress or SilentProgress()
    with audit.acting_as(DEMO_ACTOR), transaction.atomic():
        identity_store.ensure_key()
        study, _ = Study.objects.get_or_create(
            slug=plan.slug,
            defaults={"name": plan.name, "description": plan.description, "is_synthetic": True},
        )
        sites = {}
        for demo_site in plan.sites:
            sites[demo_site.code], _ = Site.objects.get_or_create(
                study=study,
                code=demo_site.code,
                defaults={
                    "name": demo_site.name,
                    "nation": demo_site.nation,
                    "organisation": demo_site.organisation,
                    "local_authority": demo_site.local_authority,
                    "service_model": demo_site.service_model,
                },
            )
        existing = set(study.participants.values_list("pseudonym", flat=True))
        progress.start(len(plan.people) + len(plan.accounts), "Demo study")
        for person in plan.people:
            if person.pseudonym not in existing:
                participant = Participant.objects.create(
                    study=study,
                    site=sites[person.site_code],
                    kind=person.kind,
                    pseudonym=person.pseudonym,
                )
                if person.identifiers is not None:
                    identity_store.write_identity(participant, person.identifiers)
            progress.advance()
        users = get_user_model().objects
        for account in plan.accounts:
            user = users.filter(username=account.username).first()
            if user is None:
                user = users.create_user(username=account.username, password=account.password)
            elif not user.check_password(account.password):
                user.set_password(account.password)
                user.save()
            membership, _ = Membership.objects.update_or_create(
                user=user,
                study=study,
                defaults={
                    "role": account.role,
                    "can_view_identifiers": account.can_view_identifiers,
                },
            )
            membership.sites.set([sites[code] for code in account.site_codes])
            progress.advance()
        progress.finish()
        for _area, part in sorted(_PARTS.items()):
            part(study, plan, progress)
    return plan.accounts
