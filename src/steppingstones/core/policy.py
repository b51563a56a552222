"""The one place that decides who may see and do what.

The role table (:data:`ROLE_CAPABILITIES`) and :func:`capabilities_for` are plain data and
functions. The helpers below them apply the policy to requests: every study view resolves the
study through :func:`study_access`, and anything a user may not reach answers 404, so a URL
never confirms that a study, site or person exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from steppingstones.core.models import Membership, Participant, Site, Study


class Role(models.TextChoices):
    STUDY_MANAGER = "study-manager", "Study manager"
    RESEARCHER = "researcher", "Researcher"
    SITE_RESEARCHER = "site-researcher", "Site researcher"
    PEER_RESEARCHER = "peer-researcher", "Peer researcher"
    ADVISORY_GROUP_MEMBER = "advisory-group-member", "Advisory group member"
    AUDITOR = "auditor", "Auditor"


AREAS = ("evidence", "cohort", "voices", "journeys", "model")
AREA_TITLES = {
    "evidence": "Evidence",
    "cohort": "Cohort",
    "voices": "Voices",
    "journeys": "Journeys",
    "model": "Model",
}

# Capabilities are strings: "area:<name>" to open an area, "write" to change study data,
# "participants" to list pseudonymised participants, "identity:view" / "identity:change" for the
# identity store, "members:manage", "audit:view", "voices:raw" to see the raw (not yet
# de-identified) text of transcripts and review their de-identification.
_ALL_AREAS = frozenset(f"area:{area}" for area in AREAS)
ROLE_CAPABILITIES: dict[Role, frozenset[str]] = {
    Role.STUDY_MANAGER: _ALL_AREAS
    | {
        "write",
        "participants",
        "identity:view",
        "identity:change",
        "members:manage",
        "audit:view",
        "voices:raw",
    },
    Role.RESEARCHER: _ALL_AREAS | {"write", "participants", "voices:raw"},
    Role.SITE_RESEARCHER: _ALL_AREAS | {"write", "participants", "voices:raw"},
    Role.PEER_RESEARCHER: frozenset(
        {"area:evidence", "area:voices", "area:journeys", "area:model", "write"}
    ),
    Role.ADVISORY_GROUP_MEMBER: frozenset({"area:model", "write"}),
    Role.AUDITOR: _ALL_AREAS | {"participants", "audit:view"},
}
# Researchers may be trusted with identifiers one by one; no other role can be.
IDENTIFIABLE_DATA_ROLES = frozenset({Role.RESEARCHER, Role.SITE_RESEARCHER})


def capabilities_for(role: str, can_view_identifiers: bool = False) -> frozenset[str]:
    """What a member with ``role`` may do; the identifiable-data permission widens researchers."""
    granted = ROLE_CAPABILITIES[Role(role)]
    if can_view_identifiers and Role(role) in IDENTIFIABLE_DATA_ROLES:
        granted = granted | {"identity:view", "identity:change"}
    return granted


def is_site_limited(role: str) -> bool:
    return Role(role) == Role.SITE_RESEARCHER


def visible_areas(role: str) -> list[str]:
    granted = capabilities_for(role)
    return [area for area in AREAS if f"area:{area}" in granted]


@dataclass(frozen=True)
class Access:
    """One user's standing in one study, resolved once per request."""

    study: Study
    membership: Membership
    capabilities: frozenset[str]
    site_ids: frozenset[int] | None  # None: every site of the study

    @property
    def role(self) -> str:
        return self.membership.role

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise Http404

    def sites(self) -> models.QuerySet[Site]:
        sites = self.study.sites.all()
        if self.site_ids is not None:
            sites = sites.filter(pk__in=self.site_ids)
        return sites.order_by("name")

    def participants(self) -> models.QuerySet[Participant]:
        self.require("participants")
        participants = self.study.participants.select_related("site")
        if self.site_ids is not None:
            participants = participants.filter(site_id__in=self.site_ids)
        return participants

    def site(self, code: str) -> Site:
        site = self.sites().filter(code=code).first()
        if site is None:
            raise Http404
        return site

    def participant(self, pseudonym: str) -> Participant:
        participant = self.participants().filter(pseudonym=pseudonym).first()
        if participant is None:
            raise Http404
        return participant


def memberships_of(user: Any) -> models.QuerySet[Membership]:
    from steppingstones.core.models import Membership

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, study__is_archived=False).select_related("study")


def study_access(user: Any, study_slug: str) -> Access:
    membership = memberships_of(user).filter(study__slug=study_slug).first()
    if membership is None:
        raise Http404
    site_ids = (
        frozenset(membership.sites.values_list("pk", flat=True))
        if is_site_limited(membership.role)
        else None
    )
    return Access(
        study=membership.study,
        membership=membership,
        capabilities=capabilities_for(membership.role, membership.can_view_identifiers),
        site_ids=site_ids,
    )


def study_view(capability: str | None = None) -> Callable[..., Callable[..., HttpResponse]]:
    """Decorate a view taking ``study_slug``: log-in, membership and ``capability`` checked.

    The view receives ``access`` in place of ``study_slug``. Writes by read-only roles are
    refused here too: a POST needs the "write" capability unless the view asks for another.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, study_slug: str, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            access = study_access(request.user, study_slug)
            request.access = access  # type: ignore[attr-defined]
            if capability is not None:
                access.require(capability)
            if request.method == "POST" and capability in (None, *_AREA_CAPABILITIES):
                access.require("write")
            return view(request, access, *args, **kwargs)

        return wrapped

    return decorate


_AREA_CAPABILITIES = tuple(f"area:{area}" for area in AREAS)
