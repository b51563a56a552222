from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from steppingstones.core import identity_store
from steppingstones.core.identity import Identifiers
from steppingstones.core.models import Membership, Participant, Site, Study
from steppingstones.core.policy import Role

PASSWORD = "a-long-test-password-17"


@functools.cache
def password_hash() -> str:
    """One real (Argon2) hash of PASSWORD, computed once: hashing is deliberately slow."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


@pytest.fixture
def identity_key(db: Any) -> bytes:
    return identity_store.ensure_key()


@pytest.fixture
def make_study(db: Any) -> Callable[..., Study]:
    def make(slug: str = "alpha", sites: tuple[str, ...] = ("EL", "GG")) -> Study:
        study = Study.objects.create(slug=slug, name=f"Study {slug}")
        for code in sites:
            Site.objects.create(
                study=study,
                code=code,
                name=f"Site {code}",
                nation="scotland" if code in ("GG", "AA") else "england",
            )
        return study

    return make


@pytest.fixture
def make_member(db: Any) -> Callable[..., Any]:
    def make(
        study: Study,
        role: str,
        *,
        sites: tuple[str, ...] = (),
        identifiers: bool = False,
        username: str | None = None,
    ) -> Any:
        username = username or f"{study.slug}-{role}-{'-'.join(sites) or 'all'}"
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            user = get_user_model().objects.create(username=username, password=password_hash())
        membership = Membership.objects.create(
            user=user, study=study, role=role, can_view_identifiers=identifiers
        )
        membership.sites.set(Site.objects.filter(study=study, code__in=sites))
        return user

    return make


@pytest.fixture
def login() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def participant(make_study: Callable[..., Study], identity_key: bytes) -> Participant:
    study = make_study()
    person = Participant.objects.create(
        study=study, site=study.sites.get(code="EL"), kind="woman", pseudonym="EL-W01"
    )
    identity_store.write_identity(
        person,
        Identifiers(
            full_name="Test Person", phone="07700 900123", nhs_or_chi_number="943 476 5919"
        ),
    )
    return person


@pytest.fixture
def world(
    make_study: Callable[..., Study], make_member: Callable[..., Any], identity_key: bytes
) -> dict[str, Any]:
    """Two studies; in the first, one member of every role, a site researcher for each site,
    and a woman at each site with identifiers."""
    alpha, beta = make_study("alpha"), make_study("beta")
    people = {}
    for code in ("EL", "GG"):
        person = Participant.objects.create(
            study=alpha, site=alpha.sites.get(code=code), kind="woman", pseudonym=f"{code}-W01"
        )
        identity_store.write_identity(person, Identifiers(full_name=f"Woman at {code}"))
        people[code] = person
    users = {role: make_member(alpha, role) for role in Role.values if role != Role.SITE_RESEARCHER}
    users["site-researcher-EL"] = make_member(alpha, Role.SITE_RESEARCHER, sites=("EL",))
    users["site-researcher-GG"] = make_member(alpha, Role.SITE_RESEARCHER, sites=("GG",))
    users["researcher-identifiable"] = make_member(
        alpha, Role.RESEARCHER, identifiers=True, username="alpha-researcher-id"
    )
    users["other-study-manager"] = make_member(beta, Role.STUDY_MANAGER)
    return {"alpha": alpha, "beta": beta, "people": people, "users": users}
