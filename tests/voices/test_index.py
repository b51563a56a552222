"""The Voices overview: counts of what a member may see, and 404 for everyone else."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from steppingstones.voices.models import Code, Coding, Source


def _sources(world: dict[str, Any]) -> None:
    study = world["alpha"]
    for code, status in (("EL", "ready"), ("EL", "review"), ("GG", "ready")):
        Source.objects.create(
            study=study,
            site=study.sites.get(code=code),
            participant=world["people"][code],
            name=f"{code} {status}",
            kind="interview",
            status=status,
            text="She said the midwife listened." if status == "ready" else "",
        )
    code = Code.objects.create(study=study, name="Being listened to")
    for source in Source.objects.filter(status="ready"):
        Coding.objects.create(source=source, code=code, coder_name="a", start=0, end=8)


def _figures(html: str) -> dict[str, str]:
    import re

    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))


def test_the_overview_counts_only_what_each_member_may_see(
    world: dict[str, Any], login: Any
) -> None:
    _sources(world)
    url = reverse("voices_index", args=["alpha"])
    manager = _figures(login(world["users"]["study-manager"]).get(url).content.decode())
    assert manager["Sources"] == "3"
    assert manager["Awaiting de-identification review"] == "1"
    assert manager["Codings"] == "2"
    peer = login(world["users"]["peer-researcher"]).get(url).content.decode()
    assert _figures(peer)["Sources"] == "2"  # review-status text is not for peer researchers
    assert "Awaiting de-identification review" not in peer
    site = _figures(login(world["users"]["site-researcher-GG"]).get(url).content.decode())
    assert (site["Sources"], site["Codings"]) == ("1", "1")


def test_the_overview_is_404_outside_the_study_and_the_area(
    world: dict[str, Any], login: Any
) -> None:
    url = reverse("voices_index", args=["alpha"])
    assert login(world["users"]["other-study-manager"]).get(url).status_code == 404
    assert login(world["users"]["advisory-group-member"]).get(url).status_code == 404
    assert login(world["users"]["auditor"]).get(url).status_code == 200
