"""Storing sources: uploads by content, sealing, detection, review, finishing, erasure."""

from __future__ import annotations

import base64
import io
import json
import struct
import wave as wavelib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from steppingstones.cohort import services as cohort_services
from steppingstones.cohort.models import FocusGroup, Interview, StaffMember, Woman
from steppingstones.core import identity_store
from steppingstones.core.erasure import erase_participant
from steppingstones.core.identity import Identifiers, unseal
from steppingstones.core.models import AuditEvent, Participant
from steppingstones.voices import deidentify, documents, sources
from steppingstones.voices.models import (
    Code,
    Coding,
    Framework,
    FrameworkCell,
    FrameworkTheme,
    LabelSet,
    Memo,
    Redaction,
    Source,
    VoicesSettings,
)
from steppingstones.voices.sources import SourceError, Target

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"

TRANSCRIPT = (
    "Interviewer: How have things been since Kayden was born?\n"
    "EL-W01: Better. Darren comes round on Sundays. We moved to Harehills in March.\n"
    "Interviewer: And the midwife?\n"
    "EL-W01: She rang me on 07700 900123 and came to 14 Wensley Road. Kayden loves her.\n"
)
SECOND_WAVE = "Interviewer: How is Kayden?\nEL-W01: Good. Darren left. We live in Leeds now.\n"
VTT = (
    "WEBVTT\n\n"
    "00:00:01.000 --> 00:00:04.000\n<v Interviewer>How was the week?\n\n"
    "00:00:04.500 --> 00:00:09.000\n<v EL-W01>Kayden slept at last.\n"
)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def voices_world(world: dict[str, Any]) -> dict[str, Any]:
    """The `world` study with each woman in the cohort (interview at wave 1), a staff member at
    each site with a name in the identity store, and a focus group at GG."""
    study = world["alpha"]
    waves = cohort_services.ensure_waves(study)
    for person in world["people"].values():
        woman = Woman.objects.create(
            participant=person, recruited_on=date(2024, 1, 10), edd=date(2024, 7, 1)
        )
        Interview.objects.create(woman=woman, wave=waves[0], status="done", date=date(2024, 2, 1))
    staff = {}
    for code in ("EL", "GG"):
        participant = Participant.objects.create(
            study=study, site=study.sites.get(code=code), kind="staff", pseudonym=f"{code}-S01"
        )
        identity_store.write_identity(participant, Identifiers(full_name=f"Morag Staff{code}"))
        staff[code] = StaffMember.objects.create(participant=participant, role="midwife")
    extra = Participant.objects.create(
        study=study, site=study.sites.get(code="GG"), kind="staff", pseudonym="GG-S02"
    )
    staff["GG2"] = StaffMember.objects.create(participant=extra, role="drug-worker")
    group = FocusGroup.objects.create(
        study=study, site=study.sites.get(code="GG"), held_on=date(2024, 3, 1)
    )
    group.attendees.set([staff["GG"], staff["GG2"]])
    return {**world, "waves": waves, "staff": staff, "group": group}


def woman_target(world: dict[str, Any], code: str = "EL", wave: int = 1) -> Target:
    return sources.resolve_target(
        world["alpha"],
        "interview",
        participant=world["people"][code],
        wave=world["waves"][wave - 1],
    )


def upload(
    world: dict[str, Any], data: bytes, name: str, kind: str = "interview", **kw: Any
) -> Source:
    target = kw.pop("target", None) or woman_target(world)
    return sources.ingest(
        world["alpha"], ContentFile(data, name=name), kind=kind, target=target, **kw
    )


def png_bytes(width: int = 30, height: int = 20, exif: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 30, 30))
    if exif:
        info = Image.Exif()
        info[0x010F] = "CameraMaker"  # Make
        info[0x0112] = 6  # Orientation: rotate 90°
        image.save(out, "JPEG", exif=info.tobytes())
    else:
        image.save(out, "PNG")
    return out.getvalue()


def wav_bytes(seconds: float = 2.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wavelib.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(b"\x00\x00" * int(seconds * rate))
    return out.getvalue()


def docx_bytes(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- ingesting text


def test_a_transcript_is_sealed_detected_and_waits_for_review(voices_world: dict) -> None:
    text = TRANSCRIPT.replace("Better.", "Better – honestly.")
    source = upload(voices_world, text.encode("cp1252"), "Jane Doe interview.txt")
    assert source.status == "review" and source.text == "" and source.media == "text"
    assert source.format == "txt" and source.encoding == "cp1252"
    assert source.interview is not None and source.interview.wave.number == 1
    assert source.site.code == "EL"
    assert "Jane" not in source.name and source.original_name == ""
    raw = unseal(
        source.raw_sealed,
        identity_store.load_key(),
        f"study:{source.study_id}/voices-source:{source.guid}",
    )
    assert raw["text"] == text
    assert base64.b64decode(raw["original"]) == text.encode("cp1252")
    assert raw["filename"] == "Jane Doe interview.txt"
    # Speaker labels are sealed; turns hold positions only.
    assert json.loads(raw["speakers"]) == ["Interviewer", "EL-W01"]
    assert all(t["speaker"] == "" for t in source.turns)
    first = source.turns[1]
    assert text[first["start_char"] : first["end_char"]].startswith("Better –")
    # The rows agree with the plain detector run on the same text (and her name).
    known = {"Woman at EL": "EL-W01"}
    expected = [(s.start, s.end, s.kind) for s in deidentify.detect(text, known_people=known)]
    rows = list(source.redactions.values_list("start", "end", "kind"))
    assert rows == expected
    assert {"person", "place", "phone", "address"} <= {k for _, _, k in rows}
    assert AuditEvent.objects.filter(action="voices.source.upload").count() == 1


def test_the_woman_s_own_name_from_the_identity_store_is_detected(voices_world: dict) -> None:
    text = "Interviewer: Who came?\nEL-W01: Just me, Woman at EL, with the baby.\n"
    source = upload(voices_world, text.encode(), "t.txt")
    words = {text[r.start : r.end]: r.label for r in source.redactions.all()}
    assert words.get("Woman at EL") == "EL-W01"


def test_docx_odt_pdf_and_vtt_are_read(voices_world: dict) -> None:
    kinds = {}
    for name in ("interview.docx", "interview.odt", "interview.pdf"):
        source = upload(voices_world, (FIXTURES / name).read_bytes(), name)
        kinds[source.format] = source
    assert set(kinds) == {"docx", "odt", "pdf"}
    vtt = upload(voices_world, VTT.encode(), "diary.vtt", kind="diary-text")
    assert [t["start_seconds"] for t in vtt.turns] == [1.0, 4.5]
    built = upload(voices_world, docx_bytes(["P1: I live in Leeds.", "P1: Yes."]), "x.docx")
    assert built.redactions.filter(kind="place").count() == 1


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"Interviewer: hi\n<script>alert(1)</script>\n", "a.txt", "line 2: contains HTML"),
        (b'P1: look <img src=x onerror="alert(1)">', "b.txt", "line 1: contains HTML"),
        (b"<!doctype html><html><body>hi</body></html>", "c.txt", "contains HTML"),
        (b"P1: go to javascript:alert(1)", "d.txt", "contains HTML or script"),
        (b"\x89PNG\r\n\x1a\nxxxx", "e.txt", "is named .txt but its content is a PNG"),
        (b"PK\x03\x04nonsense", "f.docx", "not a valid Office zip"),
        (b"hello", "g.exe", "unsupported file type"),
        (b"   \n\n", "h.txt", "no text was found"),
    ],
)
def test_hostile_or_broken_text_is_refused_and_nothing_is_stored(
    voices_world: dict, data: bytes, name: str, message: str
) -> None:
    with pytest.raises(SourceError, match=message):
        upload(voices_world, data, name)
    assert Source.objects.count() == 0 and Redaction.objects.count() == 0


def test_oversize_is_refused_by_the_study_setting(voices_world: dict) -> None:
    VoicesSettings.objects.create(study=voices_world["alpha"], max_upload_megabytes=1)
    with pytest.raises(SourceError, match="at most 1 MB"):
        upload(voices_world, b"P1: x\n" * 200_000, "big.txt")
    assert Source.objects.count() == 0


def test_kinds_must_fit_whom_they_are_about(voices_world: dict) -> None:
    study = voices_world["alpha"]
    staff = voices_world["staff"]["EL"].participant
    with pytest.raises(SourceError, match="belongs to a woman"):
        sources.resolve_target(study, "interview", participant=staff)
    with pytest.raises(SourceError, match="not a staff participant"):
        sources.resolve_target(study, "staff-interview", participant=voices_world["people"]["EL"])
    with pytest.raises(SourceError, match="belongs to a focus group"):
        sources.resolve_target(study, "focus-group", participant=staff)
    with pytest.raises(SourceError, match="either a participant or a focus group"):
        sources.resolve_target(study, "note")
    other = voices_world["beta"]
    with pytest.raises(SourceError, match="not in this study"):
        sources.resolve_target(other, "interview", participant=voices_world["people"]["EL"])


# --------------------------------------------------------------------------- review + finish


def _finish(source: Source) -> Source:
    return sources.finish_review(source)


def test_review_decisions_and_finishing_give_consistent_labels_across_waves(
    voices_world: dict,
) -> None:
    first = upload(voices_world, TRANSCRIPT.encode(), "w1.txt")
    sources.set_people(first, {"Kayden": "baby's name", "Darren": "partner"})
    rows = {TRANSCRIPT[r.start : r.end]: r for r in first.redactions.all()}
    detected = first.redactions.count()
    assert rows["Kayden"].detector == "known-people" and rows["Kayden"].label == "baby's name"
    # Keep the month; replace everything else; add a missed word everywhere.
    march = next((r for w, r in rows.items() if "March" in w), None)
    if march is not None:
        sources.decide(first, march.pk, "rejected")
    sources.add_redactions(first, kind="place", words="Sundays", label="day", everywhere=True)
    progress = sources.review_progress(first)
    assert progress["added"] == 1 and progress["total"] == detected + 1
    done = _finish(first)
    assert done.status == "ready"
    assert "Kayden" not in done.text and "Darren" not in done.text
    assert "[baby's name]" in done.text and "[partner]" in done.text
    assert "07700" not in done.text and "Wensley" not in done.text and "[day]" in done.text
    assert done.redactions.filter(decision="pending").count() == 0
    # The second wave: same people, same labels (one label set per woman).
    second = upload(
        voices_world, SECOND_WAVE.encode(), "w2.txt", target=woman_target(voices_world, wave=2)
    )
    second_done = _finish(second)
    assert "[baby's name]" in second_done.text and "[partner]" in second_done.text
    assert LabelSet.objects.filter(key="participant:EL-W01").count() == 1
    # Independent reference: the plain module applied to both texts as one set.
    people = {"Kayden": "baby's name", "Darren": "partner"}
    spans2 = deidentify.detect(SECOND_WAVE, known_people=people | {"Woman at EL": "EL-W01"})
    expected, _ = deidentify.apply(SECOND_WAVE, spans2)
    assert second_done.text.replace("[town 1]", "[town]") == expected.replace("[town 1]", "[town]")


def test_turns_follow_the_deidentified_text_and_named_speakers_are_relabelled(
    voices_world: dict,
) -> None:
    text = "Sarah: Kayden was born early.\nSarah: Then Darren came.\nInterviewer: I see.\n"
    source = upload(voices_world, text.encode(), "t.txt")
    sources.set_people(source, {"Kayden": "baby's name", "Darren": "partner", "Sarah": "friend"})
    done = _finish(source)
    speakers = [t["speaker"] for t in done.turns]
    assert speakers == ["[friend]", "[friend]", "Interviewer"]
    said = [done.text[t["start_char"] : t["end_char"]] for t in done.turns]
    assert said == ["[baby's name] was born early.", "Then [partner] came.", "I see."]


def test_offsets_map_inside_and_after_replacements() -> None:
    reps = [deidentify.Replacement("d", 5, 10, 5, 12, "person", "[name 1]", "x")]
    assert sources.map_offset(3, reps, end=False) == 3
    assert sources.map_offset(5, reps, end=False) == 5
    assert sources.map_offset(7, reps, end=False) == 5
    assert sources.map_offset(7, reps, end=True) == 12
    assert sources.map_offset(10, reps, end=True) == 12
    assert sources.map_offset(15, reps, end=False) == 17


def test_everywhere_rejects_every_same_detection(voices_world: dict) -> None:
    text = "P1: I saw Kayden. P1 again: Kayden and Kayden.\n"
    source = upload(voices_world, text.encode(), "t.txt")
    sources.set_people(source, {"Kayden": "baby's name"})
    row = source.redactions.filter(detector="known-people").first()
    assert row is not None
    changed = sources.decide(source, row.pk, "rejected", everywhere=True)
    assert changed == 3
    done = _finish(source)
    assert done.text.count("Kayden") == 3


def test_added_positions_are_checked(voices_world: dict) -> None:
    source = upload(voices_world, b"P1: I go to the Hub on Mondays.\n", "t.txt")
    with pytest.raises(SourceError, match="outside the text"):
        sources.add_redactions(source, kind="institution", start=10, end=999)
    with pytest.raises(SourceError, match="not in the text"):
        sources.add_redactions(source, kind="institution", words="Nowhere")
    assert sources.add_redactions(source, kind="institution", start=16, end=19) == 1
    done = _finish(source)
    assert done.text == "P1: I go to the [institution] on Mondays.\n"
    with pytest.raises(SourceError, match="finished"):
        sources.add_redactions(done, kind="place", words="Mondays")


def test_raw_text_is_deleted_by_study_setting(voices_world: dict) -> None:
    VoicesSettings.objects.create(study=voices_world["alpha"], raw_text="delete")
    source = _finish(upload(voices_world, TRANSCRIPT.encode(), "t.txt"))
    assert source.raw_sealed == "" and source.raw_deleted_at is not None
    assert sources.open_raw(source) == {}


def test_focus_group_speakers_map_to_staff(voices_world: dict) -> None:
    text = "Facilitator: Welcome.\nSpeaker 1: I work nights.\nSpeaker 2: Morag StaffGG said so.\n"
    target = sources.resolve_target(
        voices_world["alpha"], "focus-group", focus_group=voices_world["group"]
    )
    source = upload(voices_world, text.encode(), "fg.txt", kind="focus-group", target=target)
    assert source.site.code == "GG"
    # An attendee's name in the identity store is found and labelled with her pseudonym.
    assert source.redactions.filter(label="GG-S01").exists()
    labels = sources.raw_speakers(source)
    assert labels == ["Facilitator", "Speaker 1", "Speaker 2"]
    with pytest.raises(SourceError, match="same participant"):
        sources.map_speakers(source, {1: "GG-S01", 2: "GG-S01"})
    with pytest.raises(SourceError, match="not staff participants"):
        sources.map_speakers(source, {1: "EL-W01"})
    sources.map_speakers(source, {1: "GG-S01", 2: "GG-S02"})
    done = _finish(Source.objects.get(pk=source.pk))
    assert [t["participant"] for t in done.turns] == [None, "GG-S01", "GG-S02"]
    assert done.speaker_map == {"Speaker 1": "GG-S01", "Speaker 2": "GG-S02"}
    assert "Morag" not in done.text and "[GG-S01]" in done.text


# --------------------------------------------------------------------------- media


def test_an_audio_diary_with_an_aligned_transcript(voices_world: dict) -> None:
    source = upload(
        voices_world,
        wav_bytes(6.0),
        "diary.wav",
        kind="diary-audio",
        transcript=ContentFile(VTT.encode(), name="diary.vtt"),
    )
    assert source.media == "audio" and source.content_type == "audio/wav"
    assert source.status == "ready" and source.duration_seconds == pytest.approx(6.0)
    assert default_storage.exists(source.file.name)
    assert not source.file.name.endswith("diary.wav")
    child = source.transcripts.get()
    assert child.status == "review" and child.kind == "diary-audio"
    assert "the transcript runs to" in " ".join(child.warnings)  # 9 s of cues, 6 s of audio


def test_a_failing_transcript_leaves_no_recording_file_behind(voices_world: dict) -> None:
    before = set(_media_files())
    with pytest.raises(SourceError, match="WEBVTT"):
        upload(
            voices_world,
            wav_bytes(),
            "diary.wav",
            kind="diary-audio",
            transcript=ContentFile(b"not a vtt", name="diary.vtt"),
        )
    assert Source.objects.count() == 0
    assert set(_media_files()) == before


def _media_files() -> list[str]:
    found: list[str] = []

    def walk(folder: str) -> None:
        if not default_storage.exists(folder):
            return
        dirs, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{f}" for f in files)
        for d in dirs:
            walk(f"{folder}/{d}")

    walk("voices")
    return found


@pytest.mark.parametrize(
    ("data", "name", "kind", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "x.png", "drawing", "HTML page"),
        (png_bytes(), "x.jpg", "drawing", "named .jpg but its content is a PNG"),
        (wav_bytes(), "x.mp3", "diary-audio", "named .mp3 but its content is WAV"),
        (png_bytes(), "x.wav", "diary-audio", "named .wav but its content is a PNG"),
        (b"GIF89a....", "x.gif", "drawing", "must be one of .png"),
        (wav_bytes(), "x.mp4", "diary-video", "named .mp4 but its content is WAV"),
        (b"random bytes", "x.webm", "diary-video", "not a video format"),
    ],
)
def test_media_is_checked_by_content(
    voices_world: dict, data: bytes, name: str, kind: str, message: str
) -> None:
    with pytest.raises(SourceError, match=message):
        upload(voices_world, data, name, kind=kind)
    assert Source.objects.count() == 0


def test_images_lose_their_metadata_and_are_turned_upright(voices_world: dict) -> None:
    source = upload(voices_world, png_bytes(40, 20, exif=True), "me.jpeg", kind="drawing")
    assert source.media == "image" and source.status == "review"
    assert (source.width, source.height) == (20, 40)  # rotated by its EXIF orientation
    with source.file.open("rb") as handle, Image.open(handle) as stored:
        assert stored.getexif().get(0x010F) is None


SAFE_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>'
    b'<rect width="40" height="30" fill="url(#g)"/><text x="2" y="20">me</text></svg>'
)


def test_a_safe_svg_is_stored_as_png(voices_world: dict) -> None:
    source = upload(voices_world, SAFE_SVG, "timeline.svg", kind="timeline")
    assert source.content_type == "image/png" and (source.width, source.height) == (40, 30)
    with source.file.open("rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "event handler onload"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<image x:href="http://evil.example/a.png"/></svg>',
            "refers outside the drawing",
        ),
        (
            b'<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">'
            b"<text>&x;</text></svg>",
            "DTD or entities",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(http://e.x/a.css);'
            b"</style></svg>",
            "style imports",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://e.x/p)"/></svg>',
            "refers outside the drawing",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>hi</p></foreignObject>'
            b"</svg>",
            "foreignobject",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>', "not well-formed"),
    ],
)
def test_hostile_svg_is_refused(voices_world: dict, svg: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        upload(voices_world, svg, "evil.svg", kind="drawing")
    assert Source.objects.count() == 0


def test_an_image_needs_confirmation_to_be_ready(voices_world: dict) -> None:
    source = upload(voices_world, png_bytes(), "d.png", kind="drawing", description="A house")
    with pytest.raises(SourceError, match="confirm"):
        sources.finish_review(source)
    assert sources.finish_review(source, confirm_image=True).status == "ready"


def test_durations_match_independent_readers() -> None:
    data = wav_bytes(3.5, rate=16000)
    with wavelib.open(io.BytesIO(data)) as handle:
        reference = handle.getnframes() / handle.getframerate()
    assert sources.wav_duration(data) == pytest.approx(reference)
    # A minimal MP4: ftyp + moov/mvhd (version 0, timescale 1000, duration 12 345).
    mvhd_body = bytes(4) + struct.pack(">IIII", 0, 0, 1000, 12345) + bytes(80)
    mvhd = struct.pack(">I", 8 + len(mvhd_body)) + b"mvhd" + mvhd_body
    moov = struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd
    ftyp = struct.pack(">I", 16) + b"ftypisom" + bytes(4)
    assert sources.mp4_duration(ftyp + moov) == pytest.approx(12.345)
    assert sources.sniff(ftyp + moov) == "mp4"


def test_alignment_warnings_name_the_problem() -> None:
    assert "no timestamps" in sources.alignment_warnings([], 3, 10.0)[0]
    found = sources.alignment_warnings([(5.0, 6.0), (2.0, 3.0)], 3, 4.0)
    assert any("1 of 3 turns" in w for w in found)
    assert any("backwards at turn 2" in w for w in found)
    assert any("0:00:06 but the recording is 0:00:04" in w for w in found)


def test_document_errors_reach_the_user_with_their_place(voices_world: dict) -> None:
    bad_vtt = b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nhello\n"
    with pytest.raises(SourceError, match="line 3: the cue ends before it starts"):
        upload(voices_world, bad_vtt, "x.vtt")
    assert isinstance(documents.DocumentError("a", "b", "c"), ValueError)


# --------------------------------------------------------------------------- erasure


def _analysed(world: dict[str, Any]) -> Source:
    source = _finish(upload(world, TRANSCRIPT.encode(), "t.txt"))
    code = Code.objects.create(study=world["alpha"], name="Support")
    coding = Coding.objects.create(source=source, code=code, coder_name="r", start=0, end=5)
    Memo.objects.create(study=world["alpha"], text="about it", source=source, coding=coding)
    framework = Framework.objects.create(study=world["alpha"], name="F")
    theme = FrameworkTheme.objects.create(framework=framework, name="T")
    FrameworkCell.objects.create(
        framework=framework, participant=world["people"]["EL"], theme=theme, summary="s"
    )
    return source


def test_erasure_remove_unanalysed_keeps_ready_text_but_drops_raw_and_media(
    voices_world: dict, django_capture_on_commit_callbacks: Any
) -> None:
    ready = _analysed(voices_world)
    pending = upload(voices_world, SECOND_WAVE.encode(), "w2.txt")
    audio = upload(voices_world, wav_bytes(), "d.wav", kind="diary-audio")
    audio_file = audio.file.name
    other = upload(
        voices_world, TRANSCRIPT.encode(), "gg.txt", target=woman_target(voices_world, "GG")
    )

    with django_capture_on_commit_callbacks(execute=True):
        report = erase_participant(voices_world["people"]["EL"], "remove-unanalysed")
    assert report["voices"]
    assert not Source.objects.filter(pk__in=[pending.pk, audio.pk]).exists()
    kept = Source.objects.get(pk=ready.pk)
    assert kept.text and kept.raw_sealed == "" and kept.raw_deleted_at is not None
    assert Coding.objects.filter(source=kept).exists()
    assert Source.objects.filter(pk=other.pk).exists()
    assert not default_storage.exists(audio_file)


def test_erasure_remove_all_takes_codings_memos_cells_and_labels(voices_world: dict) -> None:
    _analysed(voices_world)
    report = erase_participant(voices_world["people"]["EL"], "remove-all")
    assert any("source" in line for line in report["voices"])
    assert Source.objects.filter(participant=voices_world["people"]["EL"]).count() == 0
    assert Coding.objects.count() == 0 and Memo.objects.count() == 0
    assert FrameworkCell.objects.count() == 0
    assert not LabelSet.objects.filter(key="participant:EL-W01").exists()


def test_erasure_does_nothing_when_data_are_kept(voices_world: dict) -> None:
    source = upload(voices_world, TRANSCRIPT.encode(), "t.txt")
    assert erase_participant(voices_world["people"]["EL"], "keep-data")["voices"] == []
    assert Source.objects.filter(pk=source.pk).exists()
