"""Codebook, coding and memo pages: access for every view, the blind rule, validation and
what peer researchers can see."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from steppingstones.core.models import Study
from steppingstones.voices import coding_service as service
from steppingstones.voices.models import (
    AgreementRound,
    Code,
    CodebookVersion,
    CodeChange,
    Coding,
    Memo,
    Source,
)

TEXT = "Interviewer: How was the clinic?\nEL-W01: The midwife 😀 listened to me.\n\nShe was kind."


@pytest.fixture
def setup(world: dict[str, Any]) -> dict[str, Any]:
    alpha: Study = world["alpha"]
    sites = {s.code: s for s in alpha.sites.all()}
    el = Source.objects.create(
        study=alpha,
        site=sites["EL"],
        name="EL-W01 wave 1",
        kind="interview",
        status="ready",
        text=TEXT,
    )
    gg = Source.objects.create(
        study=alpha,
        site=sites["GG"],
        name="GG-W01 wave 1",
        kind="interview",
        status="ready",
        text=TEXT,
    )
    review = Source.objects.create(
        study=alpha,
        site=sites["EL"],
        name="EL-W02 raw",
        kind="interview",
        status="review",
        text=TEXT,
    )
    image = Source.objects.create(
        study=alpha,
        site=sites["EL"],
        name="Drawing",
        kind="drawing",
        media="image",
        status="ready",
        width=400,
        height=300,
    )
    audio = Source.objects.create(
        study=alpha,
        site=sites["EL"],
        name="Diary",
        kind="diary-audio",
        media="audio",
        status="ready",
        duration_seconds=60.0,
    )
    care = Code.objects.create(study=alpha, name="Care", is_codable=False)
    midwife = Code.objects.create(study=alpha, name="Midwife", parent=care, colour="#d62728")
    kind = Code.objects.create(study=alpha, name="Kindness", position=1)
    other = Code.objects.create(study=world["beta"], name="Beta code")
    return {
        **world,
        "el": el,
        "gg": gg,
        "review": review,
        "image": image,
        "audio": audio,
        "care": care,
        "midwife": midwife,
        "kind": kind,
        "other": other,
    }


def url(name: str, *args: Any) -> str:
    return reverse(name, args=["alpha", *args])


def post_json(client: Client, address: str, body: dict[str, Any]) -> Any:
    return client.post(address, json.dumps(body), content_type="application/json")


def coding(source: Source, code: Code, user: Any, start: int = 0, end: int = 11) -> Coding:
    return Coding.objects.create(
        source=source, code=code, coder=user, coder_name=user.username, start=start, end=end
    )


# -------------------------------------------------------------------------------- access

GET_VIEWS: list[tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = [
    ("voices_codebook", lambda s: ()),
    ("voices_codebook_versions", lambda s: ()),
    ("voices_memos", lambda s: ()),
    ("voices_search_code", lambda s: ()),
    ("voices_code", lambda s: (s["midwife"].pk,)),
    ("voices_code_memos", lambda s: (s["midwife"].pk,)),
    ("voices_code_source", lambda s: (s["el"].pk,)),
    ("voices_source_memos", lambda s: (s["el"].pk,)),
    ("voices_codebook_export", lambda s: ("qdc",)),
]


@pytest.mark.parametrize(("name", "args"), GET_VIEWS)
def test_pages_open_for_members_and_404_for_others(
    setup: dict[str, Any], login: Callable[[Any], Client], name: str, args: Any
) -> None:
    address = url(name, *args(setup))
    users = setup["users"]
    assert login(users["researcher"]).get(address).status_code == 200
    assert login(users["auditor"]).get(address).status_code == 200
    assert login(users["other-study-manager"]).get(address).status_code == 404
    assert login(users["advisory-group-member"]).get(address).status_code == 404
    assert Client().get(address).status_code == 302


def test_site_limited_researchers_see_only_their_sites_sources(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(setup["users"]["site-researcher-GG"])
    for name in ("voices_code_source", "voices_source_memos", "voices_codings_add"):
        method = client.post if name == "voices_codings_add" else client.get
        assert method(url(name, setup["el"].pk)).status_code == 404
    assert client.get(url("voices_code_source", setup["gg"].pk)).status_code == 200
    theirs = coding(setup["el"], setup["midwife"], setup["users"]["researcher"])
    for name in ("voices_coding_memos", "voices_coding_delete"):
        method = client.post if name.endswith("delete") else client.get
        assert method(url(name, theirs.pk)).status_code == 404
    assert Coding.objects.filter(pk=theirs.pk).exists()
    # The codebook's counts only count what the member can see.
    rows = client.get(url("voices_codebook")).context["rows"]
    assert {row.code.name: row.codings for row in rows}["Midwife"] == 0
    hits = client.get(url("voices_search_code"), {"q": "midwife"}).context["hits"]
    assert {hit.source_id for hit in hits} == {setup["gg"].pk}


def test_read_only_roles_cannot_change_anything(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(setup["users"]["auditor"])
    mine = coding(setup["el"], setup["midwife"], setup["users"]["researcher"])
    memo = Memo.objects.create(study=setup["alpha"], text="x", code=setup["kind"])
    posts = [
        url("voices_code_new"),
        url("voices_code_edit", setup["kind"].pk),
        url("voices_code_move", setup["kind"].pk),
        url("voices_code_merge", setup["kind"].pk),
        url("voices_code_split", setup["kind"].pk),
        url("voices_code_delete", setup["kind"].pk),
        url("voices_codebook_versions"),
        url("voices_codebook_import"),
        url("voices_codings_add", setup["el"].pk),
        url("voices_coding_delete", mine.pk),
        url("voices_source_memos", setup["el"].pk),
        url("voices_code_memos", setup["kind"].pk),
        url("voices_coding_memos", mine.pk),
        url("voices_memo_edit", memo.pk),
        url("voices_memo_delete", memo.pk),
        url("voices_search_code"),
    ]
    for address in posts:
        assert client.post(address, {"name": "X", "confirm": "Kindness"}).status_code == 404, (
            address
        )
    # Forms that only make sense for writers are not even shown.
    assert client.get(url("voices_code_new")).status_code == 404
    assert Code.objects.filter(study=setup["alpha"]).count() == 3
    assert Coding.objects.filter(pk=mine.pk).exists()
    page = client.get(url("voices_code_source", setup["el"].pk))
    assert b'class="apply-code"' not in page.content


def test_other_studies_objects_are_404(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(setup["users"]["study-manager"])
    assert client.get(url("voices_code", setup["other"].pk)).status_code == 404
    beta_site = setup["beta"].sites.first()
    beta_source = Source.objects.create(
        study=setup["beta"], site=beta_site, name="B", kind="interview", status="ready", text="b"
    )
    assert client.get(url("voices_code_source", beta_source.pk)).status_code == 404
    response = post_json(
        client,
        url("voices_codings_add", setup["el"].pk),
        {"codes": [setup["other"].pk], "start": 0, "end": 5},
    )
    assert response.status_code == 400
    assert not Coding.objects.exists()


def test_peer_researchers_never_see_sources_under_review(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    peer = login(setup["users"]["peer-researcher"])
    assert peer.get(url("voices_code_source", setup["review"].pk)).status_code == 404
    assert peer.get(url("voices_source_memos", setup["review"].pk)).status_code == 404
    hits = peer.get(url("voices_search_code"), {"q": "midwife"}).context["hits"]
    assert setup["review"].pk not in {hit.source_id for hit in hits}
    # A researcher may open it but finds it not codable yet, with no text on the page.
    researcher = login(setup["users"]["researcher"])
    page = researcher.get(url("voices_code_source", setup["review"].pk))
    assert page.status_code == 200 and b"awaiting de-identification" in page.content
    assert b"listened to me" not in page.content
    response = post_json(
        researcher,
        url("voices_codings_add", setup["review"].pk),
        {"codes": [setup["kind"].pk], "start": 0, "end": 5},
    )
    assert response.status_code == 404


# ----------------------------------------------------------------------------- coding


def test_coding_page_renders_text_with_code_point_offsets(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    coding(setup["el"], setup["midwife"], setup["users"]["researcher"], 41, 52)
    client = login(setup["users"]["peer-researcher"])
    page = client.get(url("voices_code_source", setup["el"].pk))
    html = page.content.decode()
    assert '<p id="t0" data-o="0">Interviewer: How was the clinic?</p>' in html
    assert '<p id="t1" data-o="33">EL-W01: The midwife 😀 listened to me.</p>' in html
    assert '<p id="t3" data-o="72">She was kind.</p>' in html
    assert TEXT[72:] == "She was kind."
    payload = page.context["payload"]
    assert payload["codings"][0][1:4] == [setup["midwife"].pk, 41, 52]
    assert [c["key"] for c in payload["codes"] if c["codable"]] == ["1", "2"]
    assert 'src="/static/js/voices-coding.js"' in html or "voices-coding" in html


def test_saving_and_removing_codings_through_the_endpoint(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    user = setup["users"]["peer-researcher"]
    client = login(user)
    address = url("voices_codings_add", setup["el"].pk)
    start = TEXT.index("😀")
    body = {"codes": [setup["midwife"].pk, setup["kind"].pk], "start": start - 8, "end": start + 10}
    response = post_json(client, address, body)
    assert response.status_code == 201, response.content
    saved = response.json()["codings"]
    assert len(saved) == 2 and {c["coder"] for c in saved} == {user.username}
    first = Coding.objects.get(pk=saved[0]["id"])
    assert first.coder == user and TEXT[first.start : first.end] == "midwife 😀 listened"
    # Applying the same code to the same place again does not duplicate it.
    again = post_json(client, address, body).json()["codings"]
    assert [c["id"] for c in again] == [c["id"] for c in saved]
    assert Coding.objects.count() == 2
    # Overlapping codings are fine.
    assert (
        post_json(
            client, address, {"codes": [setup["kind"].pk], "start": 0, "end": start}
        ).status_code
        == 201
    )
    delete = client.post(url("voices_coding_delete", first.pk), HTTP_ACCEPT="application/json")
    assert delete.json() == {"deleted": first.pk}
    assert not Coding.objects.filter(pk=first.pk).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"start": 5, "end": 5}, "after the start"),
        ({"start": -1, "end": 5}, "between 0 and"),
        ({"start": 0, "end": len(TEXT) + 1}, "between 0 and"),
        ({"start": "a", "end": 3}, "must be a number"),
        ({"start": 1.5, "end": 3}, "whole number"),
        ({"end": 3}, "needs a start"),
        ({"start": 32, "end": 33}, "only spaces"),
        ({"codes": [], "start": 0, "end": 3}, "choose a code"),
    ],
)
def test_text_codings_are_validated(
    setup: dict[str, Any], login: Callable[[Any], Client], body: dict[str, Any], message: str
) -> None:
    body = {"codes": [setup["kind"].pk], **body}
    response = post_json(
        login(setup["users"]["researcher"]), url("voices_codings_add", setup["el"].pk), body
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Coding.objects.exists()


def test_grouping_codes_cannot_be_applied(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    response = post_json(
        login(setup["users"]["researcher"]),
        url("voices_codings_add", setup["el"].pk),
        {"codes": [setup["care"].pk], "start": 0, "end": 5},
    )
    assert response.status_code == 400 and "grouping" in response.json()["error"]


def test_image_regions_and_media_ranges(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(setup["users"]["researcher"])
    image = url("voices_codings_add", setup["image"].pk)
    ok = client.post(
        image, {"codes": [setup["kind"].pk], "x": 10, "y": 20, "width": 100, "height": 50}
    )
    assert ok.status_code == 302
    saved = Coding.objects.get(source=setup["image"])
    assert saved.region == {"x": 10, "y": 20, "width": 100, "height": 50}
    wide = post_json(
        client,
        image,
        {"codes": [setup["kind"].pk], "region": {"x": 350, "y": 0, "width": 100, "height": 10}},
    )
    assert wide.status_code == 400 and "width" in wide.json()["error"]
    audio = url("voices_codings_add", setup["audio"].pk)
    assert (
        post_json(
            client, audio, {"codes": [setup["kind"].pk], "time_start": 1.25, "time_end": 12}
        ).status_code
        == 201
    )
    late = post_json(client, audio, {"codes": [setup["kind"].pk], "time_start": 50, "time_end": 61})
    assert late.status_code == 400 and "recording" in late.json()["error"]
    back = post_json(client, audio, {"codes": [setup["kind"].pk], "time_start": 5, "time_end": 4})
    assert back.status_code == 400
    page = client.get(url("voices_code_source", setup["audio"].pk))
    assert b"0:00:01.2 to 0:00:12.0" in page.content or b"0:00:01.3 to 0:00:12.0" in page.content
    assert client.get(url("voices_code_source", setup["image"].pk)).status_code == 200


def test_the_blind_rule_hides_other_coders_work_while_coding(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    users = setup["users"]
    me, colleague = users["researcher"], users["study-manager"]
    mine = coding(setup["el"], setup["kind"], me, 0, 11)
    theirs = coding(setup["el"], setup["midwife"], colleague, 41, 52)
    agreement = AgreementRound.objects.create(study=setup["alpha"], name="Round 1")
    agreement.sources.add(setup["el"])
    agreement.coders.add(me, colleague)
    assert list(service.visible_codings(setup["el"], me)) == [mine]
    client = login(me)
    page = client.get(url("voices_code_source", setup["el"].pk))
    assert [c[0] for c in page.context["payload"]["codings"]] == [mine.pk]
    assert page.context["blind"]
    assert client.post(url("voices_coding_delete", theirs.pk)).status_code == 404
    assert client.get(url("voices_coding_memos", theirs.pk)).status_code == 404
    detail = client.get(url("voices_code", setup["midwife"].pk))
    assert detail.context["total"] == 0
    # Someone outside the round sees everything; once the round compares, so does the coder.
    assert set(service.visible_codings(setup["el"], users["auditor"])) == {mine, theirs}
    agreement.status = AgreementRound.Status.COMPARING
    agreement.save()
    assert set(service.visible_codings(setup["el"], me)) == {mine, theirs}


# ---------------------------------------------------------------------------- codebook


def test_creating_editing_moving_merging_and_deleting_codes(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    user = setup["users"]["researcher"]
    client = login(user)
    response = client.post(
        url("voices_code_new"),
        {
            "name": "Trust",
            "parent": setup["care"].pk,
            "colour": "#2ca02c",
            "is_codable": "on",
            "description": "Trust in staff",
            "inclusion": "Says trusts",
            "exclusion": "",
            "example": "",
        },
    )
    assert response.status_code == 302
    trust = Code.objects.get(name="Trust")
    assert trust.parent == setup["care"] and trust.inclusion == "Says trusts"
    bad = client.post(url("voices_code_new"), {"name": "X", "colour": "red"})
    assert bad.status_code == 200 and "colour like" in bad.content.decode()
    # Edit, including a move; a code cannot move under its own sub-code.
    client.post(
        url("voices_code_edit", setup["care"].pk),
        {"name": "Care", "parent": trust.pk, "colour": "#1f77b4"},
    )
    setup["care"].refresh_from_db()
    assert setup["care"].parent is None
    assert (
        client.post(url("voices_code_move", setup["care"].pk), {"parent": trust.pk}).status_code
        == 302
    )
    setup["care"].refresh_from_db()
    assert setup["care"].parent is None
    client.post(url("voices_code_move", setup["kind"].pk), {"parent": setup["care"].pk})
    setup["kind"].refresh_from_db()
    assert setup["kind"].parent == setup["care"]
    # Merge Kindness into Midwife: codings move, duplicates collapse, memos follow.
    coding(setup["el"], setup["midwife"], user, 0, 11)
    dup = coding(setup["el"], setup["kind"], user, 0, 11)
    moved = coding(setup["el"], setup["kind"], user, 41, 52)
    Memo.objects.create(study=setup["alpha"], text="on kindness", code=setup["kind"])
    client.post(url("voices_code_merge", setup["kind"].pk), {"target": setup["midwife"].pk})
    assert not Code.objects.filter(pk=setup["kind"].pk).exists()
    assert not Coding.objects.filter(pk=dup.pk).exists()
    assert Coding.objects.get(pk=moved.pk).code == setup["midwife"]
    assert Memo.objects.get(text="on kindness").code == setup["midwife"]
    # Delete needs the name typed; sub-codes move up.
    client.post(url("voices_code_delete", setup["care"].pk), {"confirm": "nope"})
    assert Code.objects.filter(pk=setup["care"].pk).exists()
    client.post(url("voices_code_delete", setup["care"].pk), {"confirm": "Care"})
    assert not Code.objects.filter(pk=setup["care"].pk).exists()
    assert Code.objects.get(pk=setup["midwife"].pk).parent is None
    actions = list(CodeChange.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["create", "move", "merge", "delete"]


def test_splitting_a_code_moves_the_chosen_codings(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    user = setup["users"]["researcher"]
    client = login(user)
    a = coding(setup["el"], setup["kind"], user, 0, 11)
    b = coding(setup["el"], setup["kind"], user, 41, 52)
    c = coding(setup["gg"], setup["kind"], user, 41, 52)
    page = client.get(url("voices_code_split", setup["kind"].pk))
    assert len(page.context["rows"]) == 3
    response = client.post(
        url("voices_code_split", setup["kind"].pk),
        {
            "name1": "Kind words",
            "name2": "Kind acts",
            f"coding-{a.pk}": "1",
            f"coding-{b.pk}": "2",
            "place": "under",
        },
    )
    assert response.status_code == 302
    words, acts = Code.objects.get(name="Kind words"), Code.objects.get(name="Kind acts")
    assert words.parent == setup["kind"] and acts.parent == setup["kind"]
    assert Coding.objects.get(pk=a.pk).code == words
    assert Coding.objects.get(pk=b.pk).code == acts
    assert Coding.objects.get(pk=c.pk).code == setup["kind"]
    unnamed = client.post(
        url("voices_code_split", setup["kind"].pk), {"name1": "X", f"coding-{c.pk}": "3"}
    )
    assert unnamed.status_code == 200 and "no name" in unnamed.content.decode()


def test_versions_and_the_change_log(setup: dict[str, Any], login: Callable[[Any], Client]) -> None:
    client = login(setup["users"]["researcher"])
    client.post(url("voices_codebook_versions"), {"label": "pilot"})
    client.post(
        url("voices_code_edit", setup["kind"].pk),
        {"name": "Kindness of staff", "colour": "#1f77b4", "is_codable": "on"},
    )
    client.post(url("voices_codebook_versions"), {"label": "after pilot"})
    assert list(CodebookVersion.objects.values_list("number", flat=True)) == [2, 1]
    page = client.get(url("voices_codebook_version", 2))
    described = [d.describe() for d in page.context["since_previous"]]
    assert described == ["renamed “Kindness” to “Kindness of staff”"]
    assert page.context["to_current"] == []
    log = client.get(url("voices_codebook_versions")).content.decode()
    assert "Kindness of staff" in log or "Kindness" in log
    assert client.get(url("voices_codebook_version", 9)).status_code == 404


def test_import_and_export_codebooks(setup: dict[str, Any], login: Callable[[Any], Client]) -> None:
    client = login(setup["users"]["researcher"])
    for fmt in ("qdc", "csv", "xlsx"):
        response = client.get(url("voices_codebook_export", fmt))
        assert response.status_code == 200 and response["Content-Disposition"].endswith(f'.{fmt}"')
    assert client.get(url("voices_codebook_export", "pdf")).status_code == 404
    exported = client.get(url("voices_codebook_export", "csv")).content
    # Into another study: every code created with its hierarchy.
    beta_manager = setup["users"]["other-study-manager"]
    beta = login(beta_manager)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("codebook.csv", exported, content_type="text/csv")
    assert (
        beta.post(reverse("voices_codebook_import", args=["beta"]), {"file": upload}).status_code
        == 302
    )
    midwife = Code.objects.get(study=setup["beta"], name="Midwife")
    assert midwife.parent is not None and midwife.parent.name == "Care"
    assert midwife.colour == "#d62728"
    # A bad file: nothing imported, faults named by row and column.
    bad = SimpleUploadedFile(
        "codes.csv", b"name,colour,path\nGood,#123456,\n,#zzz,\n", content_type="text/csv"
    )
    before = Code.objects.count()
    page = client.post(url("voices_codebook_import"), {"file": bad})
    assert page.status_code == 200
    assert "row 3, column name: a code needs a name" in page.context["errors"]
    assert "row 3, column colour: “#zzz” is not a colour like #1f77b4" in page.context["errors"]
    assert Code.objects.count() == before
    qdc = SimpleUploadedFile("x.qdc", b"<CodeBook><Nope/></CodeBook>")
    assert client.post(url("voices_codebook_import"), {"file": qdc}).context["errors"]


# --------------------------------------------------------------------------------- memos


def test_memos_on_sources_codes_and_codings(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    author, other = setup["users"]["researcher"], setup["users"]["peer-researcher"]
    client = login(author)
    theirs = coding(setup["el"], setup["kind"], author)
    for address in (
        url("voices_source_memos", setup["el"].pk),
        url("voices_code_memos", setup["kind"].pk),
        url("voices_coding_memos", theirs.pk),
    ):
        assert client.post(address, {"title": "T", "text": "A thought"}).status_code == 302
    assert Memo.objects.filter(author=author).count() == 3
    memo = Memo.objects.get(coding=theirs)
    assert memo.author_name == author.username
    # Others read memos but do not edit them; the author does.
    peer = login(other)
    assert peer.get(url("voices_coding_memos", theirs.pk)).status_code == 200
    assert peer.post(url("voices_memo_edit", memo.pk), {"text": "mine now"}).status_code == 404
    assert (
        client.post(url("voices_memo_edit", memo.pk), {"title": "", "text": "Better"}).status_code
        == 302
    )
    memo.refresh_from_db()
    assert memo.text == "Better"
    assert client.post(url("voices_memo_delete", memo.pk)).status_code == 302
    assert not Memo.objects.filter(pk=memo.pk).exists()
    assert (
        client.post(url("voices_code_memos", setup["kind"].pk), {"text": "  "}).status_code == 200
    )
    # Project memos (about nothing in particular) and memos on a coding with its source list.
    Memo.objects.create(study=setup["alpha"], text="Project memo", author=author)
    Memo.objects.create(study=setup["alpha"], text="both", source=setup["el"], coding=theirs)
    listing = client.get(url("voices_memos"))
    assert listing.status_code == 200 and "the project" in listing.content.decode()
    # A site researcher does not see memos on another site's source.
    site = login(setup["users"]["site-researcher-GG"]).get(url("voices_memos"))
    assert all(m.source_id != setup["el"].pk for m in site.context["memos"])


def test_a_project_memo_is_written_from_the_memos_page(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    author = setup["users"]["researcher"]
    client = login(author)
    response = client.post(
        url("voices_memos"), {"title": "Emerging", "text": "Trust builds slowly"}
    )
    assert response.status_code == 302
    memo = Memo.objects.get(title="Emerging")
    assert (memo.source, memo.code, memo.coding) == (None, None, None)
    assert memo.author_name == author.username
    assert "Trust builds slowly" in client.get(url("voices_memos")).content.decode()
    # An empty memo is refused with the form; read-only and outside members cannot write one.
    assert client.post(url("voices_memos"), {"text": " "}).status_code == 200
    auditor = login(setup["users"]["auditor"])
    assert auditor.post(url("voices_memos"), {"text": "no"}).status_code == 404
    assert "A memo about the project" not in auditor.get(url("voices_memos")).content.decode()
    outsider = login(setup["users"]["other-study-manager"])
    assert outsider.post(url("voices_memos"), {"text": "no"}).status_code == 404
    assert Memo.objects.count() == 1


# ------------------------------------------------------------------------ search and code


def test_search_and_code_applies_a_code_to_ticked_hits(
    setup: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    user = setup["users"]["researcher"]
    client = login(user)
    page = client.get(url("voices_search_code"), {"q": "midwife", "extend": "sentence"})
    hits = page.context["hits"]
    assert {hit.source_id for hit in hits} == {setup["el"].pk, setup["gg"].pk}
    assert all(hit.text == "EL-W01: The midwife 😀 listened to me." for hit in hits)
    response = client.post(
        url("voices_search_code"),
        {
            "q": "midwife",
            "extend": "sentence",
            "code": setup["kind"].pk,
            "hit": [h.key for h in hits],
        },
    )
    assert response.status_code == 302
    assert Coding.objects.filter(code=setup["kind"], coder=user).count() == 2
    forged = client.post(
        url("voices_search_code"),
        {
            "q": "x",
            "code": setup["kind"].pk,
            "hit": [f"{setup['review'].pk}:0:5", f"{setup['el'].pk}:0:5"],
        },
    )
    assert forged.status_code == 200 and forged.context["errors"]
    assert Coding.objects.count() == 2
    broken = client.get(url("voices_search_code"), {"q": '"unclosed'})
    assert broken.context["errors"]
