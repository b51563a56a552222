"""Voices document pages: access for every view, uploads, the review screen, media, settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from steppingstones.core.models import AuditEvent
from steppingstones.voices import sources
from steppingstones.voices.models import Redaction, Source, VoicesSettings
from tests.voices import test_sources
from tests.voices.test_sources import (
    SAFE_SVG,
    TRANSCRIPT,
    VTT,
    png_bytes,
    wav_bytes,
    woman_target,
)

voices_world = test_sources.voices_world


@pytest.fixture
def docs(voices_world: dict[str, Any]) -> dict[str, Any]:
    """At EL: a ready transcript, one under review, an audio diary with a ready transcript and
    a drawing under review; at GG: a ready transcript."""
    study = voices_world["alpha"]

    def put(
        data: bytes, filename: str, kind: str = "interview", code: str = "EL", **kw: Any
    ) -> Source:
        return sources.ingest(
            study,
            ContentFile(data, name=filename),
            kind=kind,
            target=woman_target(voices_world, code),
            **kw,
        )

    ready = sources.finish_review(put(TRANSCRIPT.encode(), "a.txt", name="Ready talk"))
    review = put(TRANSCRIPT.encode(), "b.txt", name="Pending talk")
    audio = put(
        wav_bytes(12.0),
        "d.wav",
        kind="diary-audio",
        transcript=ContentFile(VTT.encode(), name="d.vtt"),
    )
    heard = sources.finish_review(audio.transcripts.get())
    drawing = put(png_bytes(), "d.png", kind="drawing", description="A house and a tree")
    other_site = sources.finish_review(put(TRANSCRIPT.encode(), "c.txt", code="GG", name="GG talk"))
    return {
        **voices_world,
        "ready": ready,
        "review": review,
        "audio": audio,
        "heard": heard,
        "drawing": drawing,
        "gg": other_site,
    }


def url(world: dict[str, Any], name: str, *args: Any) -> str:
    return reverse(name, args=[world["alpha"].slug, *args])


def get(login: Any, user: Any, path: str, **extra: Any) -> Any:
    return login(user).get(path, **extra)


# --------------------------------------------------------------------------- access


SOURCE_VIEWS = [
    "voices_source",
    "voices_source_raw",
    "voices_source_review",
    "voices_source_file",
]


def test_members_of_another_study_and_roles_without_voices_get_404(docs: dict, login: Any) -> None:
    for user in (docs["users"]["other-study-manager"], docs["users"]["advisory-group-member"]):
        client = login(user)
        assert client.get(url(docs, "voices_sources")).status_code == 404
        assert client.get(url(docs, "voices_upload")).status_code == 404
        assert client.get(url(docs, "voices_settings")).status_code == 404
        for name in SOURCE_VIEWS:
            source = docs["drawing"] if name == "voices_source_file" else docs["review"]
            assert client.get(url(docs, name, source.pk)).status_code == 404, name


def test_a_site_researcher_gets_404_for_another_site_s_sources(docs: dict, login: Any) -> None:
    client = login(docs["users"]["site-researcher-GG"])
    for name in ("voices_source", "voices_source_raw", "voices_source_review"):
        assert client.get(url(docs, name, docs["ready"].pk)).status_code == 404, name
    assert client.get(url(docs, "voices_source_file", docs["drawing"].pk)).status_code == 404
    assert client.get(url(docs, "voices_source_speakers", docs["review"].pk)).status_code == 404
    assert client.get(url(docs, "voices_source", docs["gg"].pk)).status_code == 200
    listing = client.get(url(docs, "voices_sources")).content.decode()
    assert docs["gg"].name in listing and docs["ready"].name not in listing
    assert client.get(url(docs, "voices_sources") + "?site=EL").status_code == 404


def test_peer_researchers_see_only_ready_de_identified_text(docs: dict, login: Any) -> None:
    client = login(docs["users"]["peer-researcher"])
    listing = client.get(url(docs, "voices_sources")).content.decode()
    assert docs["ready"].name in listing and docs["heard"].name in listing
    assert docs["review"].name not in listing and docs["drawing"].name not in listing
    assert f'href="{url(docs, "voices_source", docs["audio"].pk)}"' not in listing
    page = client.get(url(docs, "voices_source", docs["ready"].pk)).content.decode()
    assert "[baby&#x27;s name]" in page or "[name" in page
    for word in ("Kayden", "Darren", "07700", "Wensley", "Harehills"):
        assert word not in page
    for name in ("voices_source", "voices_source_raw", "voices_source_review"):
        assert client.get(url(docs, name, docs["review"].pk)).status_code == 404, name
    assert client.get(url(docs, "voices_source_raw", docs["ready"].pk)).status_code == 404
    assert client.get(url(docs, "voices_source", docs["audio"].pk)).status_code == 404
    assert client.get(url(docs, "voices_source_file", docs["audio"].pk)).status_code == 404
    assert client.get(url(docs, "voices_source_file", docs["drawing"].pk)).status_code == 404
    assert client.get(url(docs, "voices_upload")).status_code == 404
    # The transcript of a recording is readable, without the recording.
    heard = client.get(url(docs, "voices_source", docs["heard"].pk)).content.decode()
    assert 'id="voices-player"' not in heard and "[name 1] slept at last." in heard
    assert f'href="{url(docs, "voices_source", docs["audio"].pk)}"' not in heard


def test_the_auditor_reads_but_cannot_post_or_see_raw_text(docs: dict, login: Any) -> None:
    client = login(docs["users"]["auditor"])
    assert client.get(url(docs, "voices_sources")).status_code == 200
    assert client.get(url(docs, "voices_source", docs["ready"].pk)).status_code == 200
    assert client.get(url(docs, "voices_source_raw", docs["ready"].pk)).status_code == 404
    review = url(docs, "voices_source_review", docs["review"].pk)
    assert client.post(review, {"action": "finish"}).status_code == 404
    assert client.post(url(docs, "voices_upload"), {}).status_code == 404
    assert client.post(url(docs, "voices_settings"), {}).status_code == 404
    assert client.post(url(docs, "voices_sources")).status_code == 405
    assert Source.objects.get(pk=docs["review"].pk).status == "review"


def test_only_study_managers_change_settings(docs: dict, login: Any) -> None:
    path = url(docs, "voices_settings")
    assert get(login, docs["users"]["researcher"], path).status_code == 404
    manager = login(docs["users"]["study-manager"])
    assert manager.get(path).status_code == 200
    bad = manager.post(path, {"raw_text": "delete", "max_upload_megabytes": "5000"})
    assert bad.status_code == 200 and "from 1 to 2000" in bad.content.decode()
    response = manager.post(path, {"raw_text": "delete", "max_upload_megabytes": "20"})
    assert response.status_code == 302
    saved = VoicesSettings.objects.get(study=docs["alpha"])
    assert (saved.raw_text, saved.max_upload_megabytes) == ("delete", 20)


# --------------------------------------------------------------------------- raw text


def test_raw_text_is_shown_to_researchers_and_audited(docs: dict, login: Any) -> None:
    client = login(docs["users"]["researcher"])
    before = AuditEvent.objects.filter(action="voices.raw.view").count()
    page = client.get(url(docs, "voices_source_raw", docs["ready"].pk))
    assert page.status_code == 200 and "Kayden" in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="voices.raw.view").count() == before + 1
    original = client.get(url(docs, "voices_source_raw", docs["ready"].pk) + "?download=original")
    assert original.content == TRANSCRIPT.encode()
    assert 'filename="source-' in original["Content-Disposition"]
    assert AuditEvent.objects.filter(action="voices.raw.download").count() == 1


# --------------------------------------------------------------------------- upload


def _upload(client: Any, world: dict, data: bytes, name: str, **fields: Any) -> Any:
    payload = {"kind": "interview", "participant": "EL-W01", "wave": world["waves"][1].pk}
    payload.update(fields)
    payload["file"] = SimpleUploadedFile(name, data)
    return client.post(url(world, "voices_upload"), payload)


def test_upload_then_review_then_ready(voices_world: dict, login: Any) -> None:
    client = login(voices_world["users"]["site-researcher-EL"])
    response = _upload(client, voices_world, TRANSCRIPT.encode(), "w2.txt")
    assert response.status_code == 302
    source = Source.objects.get()
    assert response["Location"] == url(voices_world, "voices_source_review", source.pk)
    assert source.wave.number == 2 and source.status == "review"
    review = client.get(response["Location"])
    body = review.content.decode()
    assert review.status_code == 200 and "<mark>Kayden</mark>" in body
    assert f"0 of {source.redactions.count()} detections decided" in body
    path = response["Location"]
    row = source.redactions.get(kind="phone")
    assert client.post(path, {"action": "rejected", "redaction": row.pk}).status_code == 302
    added = client.post(path, {"action": "add", "words": "Sundays", "kind": "date", "label": "day"})
    assert added.status_code == 302 and added["Location"].endswith("#add")
    people = client.post(path, {"action": "people", "people": "Kayden = baby's name"})
    assert people.status_code == 302
    assert source.redactions.get(start=TRANSCRIPT.index("Kayden")).label == "baby's name"
    done = client.post(path, {"action": "finish"})
    assert done["Location"] == url(voices_world, "voices_source", source.pk)
    page = client.get(done["Location"]).content.decode()
    assert "07700 900123" in page  # kept by the reviewer
    assert "[baby&#x27;s name]" in page and "[day]" in page and "Kayden" not in page


def test_a_site_researcher_cannot_upload_for_another_site(voices_world: dict, login: Any) -> None:
    client = login(voices_world["users"]["site-researcher-GG"])
    response = _upload(client, voices_world, TRANSCRIPT.encode(), "x.txt")
    assert response.status_code == 200  # the form refuses a participant it does not offer
    assert "EL-W01 is not one of the available choices" in response.content.decode()
    assert Source.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "name", "fields", "message"),
    [
        (b"P1: hi <script>alert(1)</script>", "x.txt", {}, "contains HTML or script markup"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "x.svg",
            {"kind": "drawing"},
            "event handler onload",
        ),
        (b"<html><body>hi</body></html>", "x.png", {"kind": "drawing"}, "HTML page"),
        (TRANSCRIPT.encode(), "x.txt", {"kind": "focus-group"}, "belongs to a focus group"),
    ],
)
def test_refused_uploads_name_the_problem_and_store_nothing(
    voices_world: dict, login: Any, data: bytes, name: str, fields: dict, message: str
) -> None:
    client = login(voices_world["users"]["researcher"])
    response = _upload(client, voices_world, data, name, **fields)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was stored" in body and message in body.replace("&#x27;", "'")
    assert Source.objects.count() == 0


def test_an_oversize_upload_is_refused_before_it_is_read(voices_world: dict, login: Any) -> None:
    VoicesSettings.objects.create(study=voices_world["alpha"], max_upload_megabytes=1)
    client = login(voices_world["users"]["researcher"])
    response = _upload(client, voices_world, b"P1: x\n" * 400_000, "big.txt")
    assert response.status_code == 413
    assert "at most 1 MB" in response.content.decode()
    assert Source.objects.count() == 0


def test_a_focus_group_upload_and_speaker_mapping(voices_world: dict, login: Any) -> None:
    client = login(voices_world["users"]["researcher"])
    text = b"Facilitator: Welcome.\nSpeaker 1: Nights.\nSpeaker 2: Days.\n"
    response = _upload(
        client,
        voices_world,
        text,
        "fg.txt",
        kind="focus-group",
        participant="",
        focus_group=voices_world["group"].pk,
        wave="",
    )
    source = Source.objects.get()
    assert response.status_code == 302 and source.focus_group_id == voices_world["group"].pk
    path = url(voices_world, "voices_source_speakers", source.pk)
    page = client.get(path).content.decode()
    assert 'for="speaker-1">Speaker 1</label>' in page and "GG-S02" in page
    bad = client.post(path, {"speaker-1": "EL-W01"})
    assert bad.status_code == 400 and "not a staff participant" in bad.content.decode()
    assert client.post(path, {"speaker-1": "GG-S01", "speaker-2": "GG-S02"}).status_code == 302
    client.post(url(voices_world, "voices_source_review", source.pk), {"action": "finish"})
    page = client.get(url(voices_world, "voices_source", source.pk)).content.decode()
    assert "Speaker 1 (GG-S01)" in page and "Speaker 2 = GG-S02" in page


def test_an_image_is_shown_with_its_description_after_confirmation(
    voices_world: dict, login: Any
) -> None:
    client = login(voices_world["users"]["researcher"])
    response = _upload(
        client, voices_world, SAFE_SVG, "t.svg", kind="timeline", description="Her year"
    )
    source = Source.objects.get()
    assert response.status_code == 302 and source.content_type == "image/png"
    review = url(voices_world, "voices_source_review", source.pk)
    refused = client.post(review, {"action": "finish"})
    assert refused.status_code == 400 and "confirm" in refused.content.decode()
    assert client.post(review, {"action": "finish", "confirm": "1"}).status_code == 302
    peer = login(voices_world["users"]["peer-researcher"])
    page = peer.get(url(voices_world, "voices_source", source.pk)).content.decode()
    assert 'alt="Her year"' in page and "<figcaption>Her year</figcaption>" in page
    image = peer.get(url(voices_world, "voices_source_file", source.pk))
    assert image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")


def test_attaching_a_transcript_later(docs: dict, login: Any) -> None:
    client = login(docs["users"]["researcher"])
    path = url(docs, "voices_source_transcript", docs["audio"].pk)
    assert client.get(path).status_code == 200
    bad = client.post(path, {"transcript": SimpleUploadedFile("t.vtt", b"nope")})
    assert bad.status_code == 400 and "WEBVTT" in bad.content.decode()
    good = client.post(
        path,
        {"transcript": SimpleUploadedFile("t.srt", b"1\n00:00:01,000 --> 00:00:02,000\nHi.\n")},
    )
    assert good.status_code == 302
    assert docs["audio"].transcripts.count() == 2
    assert get(login, docs["users"]["peer-researcher"], path).status_code == 404
    # Only recordings take transcripts.
    assert client.get(url(docs, "voices_source_transcript", docs["ready"].pk)).status_code == 404


# --------------------------------------------------------------------------- media serving


def test_media_is_served_with_ranges_and_safe_headers(docs: dict, login: Any) -> None:
    client = login(docs["users"]["researcher"])
    path = url(docs, "voices_source_file", docs["audio"].pk)
    with docs["audio"].file.open("rb") as handle:
        whole = handle.read()
    full = client.get(path)
    assert full.status_code == 200 and b"".join(full.streaming_content) == whole
    assert full["Content-Type"] == "audio/wav" and full["Accept-Ranges"] == "bytes"
    assert full["X-Content-Type-Options"] == "nosniff"
    assert full["Content-Disposition"] == f'inline; filename="source-{docs["audio"].pk}.wav"'
    part = client.get(path, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert b"".join(part.streaming_content) == whole[100:200]
    tail = client.get(path, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == whole[-10:]
    beyond = client.get(path, HTTP_RANGE=f"bytes={len(whole) + 5}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(whole)}"
    page = client.get(url(docs, "voices_source", docs["audio"].pk)).content.decode()
    assert 'id="voices-player"' in page and 'data-seek="4.5"' in page


def test_parse_range_against_rfc_9110_examples() -> None:
    size = 10000
    assert sources.parse_range("bytes=0-499", size) == (0, 499)
    assert sources.parse_range("bytes=500-999", size) == (500, 999)
    assert sources.parse_range("bytes=-500", size) == (9500, 9999)
    assert sources.parse_range("bytes=9500-", size) == (9500, 9999)
    assert sources.parse_range("bytes=0-0,-1", size) is None  # several ranges: send it whole
    assert sources.parse_range("", size) is None
    with pytest.raises(ValueError):
        sources.parse_range("bytes=10000-", size)


def test_listing_filters(docs: dict, login: Any) -> None:
    client = login(docs["users"]["researcher"])
    base = url(docs, "voices_sources")
    body = client.get(base + "?status=review").content.decode()
    assert docs["review"].name in body and docs["ready"].name not in body
    assert "2 sources" in body  # the transcript under review and the drawing
    body = client.get(base + "?kind=drawing").content.decode()
    assert "1 source<" in body
    body = client.get(base + "?site=GG").content.decode()
    assert "1 source<" in body
    body = client.get(base + "?participant=gg-w01&wave=1").content.decode()
    assert "1 source<" in body


def test_review_errors_are_shown(docs: dict, login: Any) -> None:
    client = login(docs["users"]["researcher"])
    path = url(docs, "voices_source_review", docs["review"].pk)
    response = client.post(path, {"action": "add", "words": "Nowhere", "kind": "place"})
    assert response.status_code == 400 and "not in the text" in response.content.decode()
    response = client.post(path, {"action": "people", "people": "= partner"})
    assert response.status_code == 400 and "line 1" in response.content.decode()
    first = docs["review"].redactions.order_by("start").first()
    accepted = client.post(
        path, {"action": "accepted", "redaction": first.pk, f"label-{first.pk}": "x" * 70}
    )
    assert accepted.status_code == 400 and "at most 60" in accepted.content.decode()
    assert Redaction.objects.filter(pk=first.pk, decision="pending").exists()
    # A finished source's review page sends you back to the source.
    ready = client.get(url(docs, "voices_source_review", docs["ready"].pk))
    assert ready.status_code == 302


def test_recordings_carry_captions_from_their_de_identified_transcript(
    docs: dict, login: Any
) -> None:
    path = url(docs, "voices_source_captions", docs["audio"].pk)
    captions = login(docs["users"]["researcher"]).get(path)
    assert captions["Content-Type"] == "text/vtt"
    text = captions.content.decode()
    assert text.startswith("WEBVTT\n")
    assert "00:00:01.000 --> 00:00:04.000\nHow was the week?" in text
    assert "00:00:04.500 --> 00:00:09.000\n" in text and "slept at last." in text
    assert "Kayden" not in text  # the captions are the de-identified transcript
    page = login(docs["users"]["researcher"]).get(url(docs, "voices_source", docs["audio"].pk))
    assert f'<track kind="captions" srclang="en" label="De-identified transcript" src="{path}"' in (
        page.content.decode()
    )
    # A recording is not for peer researchers, nor for other studies or sites.
    assert get(login, docs["users"]["peer-researcher"], path).status_code == 404
    assert get(login, docs["users"]["other-study-manager"], path).status_code == 404
    assert get(login, docs["users"]["site-researcher-GG"], path).status_code == 404
    # A text source has no captions.
    ready = url(docs, "voices_source_captions", docs["ready"].pk)
    assert get(login, docs["users"]["researcher"], ready).status_code == 404
