"""Walk every URL pattern: nothing but the listed public views answers without a log-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from steppingstones.config.urls import PUBLIC_URL_NAMES

SAMPLE_VALUES = {
    "study_slug": "alpha",
    "site_code": "EL",
    "pseudonym": "EL-W01",
    "member_id": "1",
    "job_id": str(uuid.uuid4()),
}


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) == "admin":
                continue  # the admin has its own log-in, tested below
            yield from _patterns(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _url(route: str) -> str:
    import re

    def fill(match: re.Match[str]) -> str:
        return SAMPLE_VALUES.get(match.group(2), "1")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


ALL = list(_patterns(get_resolver()))


def test_the_walk_finds_the_views() -> None:
    names = {pattern.name for _, pattern in ALL}
    assert {"dashboard", "identity", "audit", "members", "voices_index"} <= names


@pytest.mark.parametrize(("route", "pattern"), ALL, ids=[route for route, _ in ALL])
def test_no_view_is_reachable_without_login(world, client, route: str, pattern: Any) -> None:
    url = _url(route)
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    if pattern.name in PUBLIC_URL_NAMES:
        # Public, but the calendar feed answers 404 to anything but its secret address.
        assert response.status_code in (200, 302, 404)
        return
    assert response.status_code == 302, f"{url} answered {response.status_code}"
    assert response["Location"].startswith("/accounts/login/")


def test_the_admin_asks_for_its_own_login(client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
