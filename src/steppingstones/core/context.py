from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from steppingstones.core.policy import AREA_TITLES, Access, memberships_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The study switcher and the areas this user may open in the current study."""
    if not request.user.is_authenticated:
        return {}
    access: Access | None = getattr(request, "access", None)
    areas = []
    if access is not None:
        areas = [(area, title) for area, title in AREA_TITLES.items() if access.can(f"area:{area}")]
    return {
        "my_memberships": list(memberships_of(request.user)),
        "access": access,
        "nav_areas": areas,
    }
