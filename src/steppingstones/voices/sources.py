"""Storing sources: uploads checked and read, raw text sealed, de-identification reviewed.

The Django layer's side of the documents workflow; the reading and the detection live in plain
modules (:mod:`.documents`, :mod:`.deidentify`); the checks of media files by their content are
the plain functions in the section "files by content" below.

* ``ingest`` takes one uploaded file for a woman (with her interview or wave), a staff member
  or a focus group. A transcript (TXT, DOCX, ODT, PDF, VTT, SRT) is read, its raw text and
  original bytes are sealed with the study key, identifiers are detected and stored as
  ``Redaction`` rows, and the source waits in status "review". An audio or video diary is
  stored as a file, with an optional transcript as a child source aligned by its timestamps;
  a drawing or timeline is stored as an image (SVG rasterised to PNG once refused scripts
  and external references are ruled out). All or nothing: any fault stores nothing.
* ``decide``, ``add_redactions``, ``set_people`` and ``redetect`` are the review screen's
  actions; ``finish_review`` replaces what was accepted with the document set's consistent
  labels, writes ``Source.text`` and, by study setting, deletes the raw text.
* ``visible_sources`` is who sees what: site-limited roles only their sites; roles without
  "voices:raw" only sources that are ready, never a recording.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from steppingstones.cohort.models import FocusGroup, Interview, StaffMember, Wave
from steppingstones.core import audit, identity_store
from steppingstones.core.identity import IdentityKeyError, seal, unseal
from steppingstones.core.models import Participant, Study
from steppingstones.core.policy import Access
from steppingstones.voices import access as access_policy
from steppingstones.voices import deidentify, documents, ner
from steppingstones.voices.models import LabelSet, Redaction, Source, VoicesSettings

TEXT_KINDS = frozenset(
    {
        Source.Kind.INTERVIEW,
        Source.Kind.FOCUS_GROUP,
        Source.Kind.STAFF_INTERVIEW,
        Source.Kind.DIARY_TEXT,
        Source.Kind.NOTE,
    }
)
RECORDING_KINDS: dict[str, str] = {
    Source.Kind.DIARY_AUDIO: "audio",
    Source.Kind.DIARY_VIDEO: "video",
}
IMAGE_KINDS = frozenset({Source.Kind.DRAWING, Source.Kind.TIMELINE})
MAX_UPLOAD_MEGABYTES = 2000
CONTEXT_CHARS = 60


class SourceError(ValueError):
    """An upload or a review action that cannot be done; the message says what and where."""


@dataclass(frozen=True)
class Detection:
    """One row of the review screen: a redaction with the words around it (from the raw text)."""

    redaction: Redaction
    before: str
    words: str
    after: str


# --------------------------------------------------------------------------- files by content
# Plain functions (no database): what an uploaded file really is, whatever its name says.

MAX_IMAGE_PIXELS = 50_000_000
MAX_SVG_SIDE = 4000
CONTAINER_NAMES = {
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "webp": "a WebP image",
    "svg": "an SVG drawing",
    "gif": "a GIF image",
    "html": "an HTML page",
    "mp3": "MP3 audio",
    "wav": "WAV audio",
    "ogg": "an Ogg file",
    "flac": "FLAC audio",
    "mp4": "an MP4 file",
    "mov": "a QuickTime movie",
    "webm": "a WebM file",
    "pdf": "a PDF document",
    "zip": "a zip archive (an Office document?)",
}
EXTENSIONS: dict[str, dict[str, str]] = {
    "audio": {
        "mp3": "mp3",
        "wav": "wav",
        "ogg": "ogg",
        "oga": "ogg",
        "opus": "ogg",
        "flac": "flac",
        "m4a": "mp4",
        "webm": "webm",
    },
    "video": {"mp4": "mp4", "m4v": "mp4", "mov": "mov", "webm": "webm", "ogv": "ogg"},
    "image": {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp", "svg": "svg"},
}
CONTENT_TYPES = {
    ("audio", "mp3"): "audio/mpeg",
    ("audio", "wav"): "audio/wav",
    ("audio", "ogg"): "audio/ogg",
    ("audio", "flac"): "audio/flac",
    ("audio", "mp4"): "audio/mp4",
    ("audio", "webm"): "audio/webm",
    ("video", "mp4"): "video/mp4",
    ("video", "mov"): "video/quicktime",
    ("video", "webm"): "video/webm",
    ("video", "ogg"): "video/ogg",
    ("image", "png"): "image/png",
    ("image", "jpeg"): "image/jpeg",
    ("image", "webp"): "image/webp",
}
_ACTIVE_TEXT = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|applet|svg|img|link|meta|style|form|base|html"
    r"|body|frame|frameset|math)\b"
    r"|<[^<>\n]*\son[a-z]+\s*="
    r"|\b(?:javascript|vbscript)\s*:|\bdata\s*:\s*text/html",
    re.IGNORECASE,
)
_SVG_START = re.compile(
    rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE(?:[^\[>]|\[.*?\])*>\s*)?"
    rb"(?:<!--.*?-->\s*)*<svg\b",
    re.DOTALL | re.IGNORECASE,
)
_HTML_START = re.compile(rb"^(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|script)\b", re.I)


@dataclass(frozen=True)
class MediaFile:
    media: str  # audio, video, image
    container: str
    extension: str
    content_type: str
    data: bytes
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    warnings: tuple[str, ...] = ()


def display_name(name: str) -> str:
    """The file name without folders or control characters (for messages and the seal)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[:255] or "upload"


def refuse_active_text(text: str, filename: str) -> None:
    """Refuse text carrying HTML or script markup: a transcript is plain text."""
    found = _ACTIVE_TEXT.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise SourceError(
            f"{filename}: line {line}: contains HTML or script markup "
            f"({found.group(0).strip()[:40]!r}); a transcript must be plain text. "
            "Remove the markup and upload it again; nothing was stored."
        )


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def alignment_warnings(
    times: list[tuple[float | None, float | None]], turns: int, duration: float | None
) -> list[str]:
    """What keeps a transcript from following its recording, in words."""
    if not times:
        return [
            "the transcript has no timestamps: it is shown beside the recording but cannot "
            "follow it (use WebVTT or SRT, or start lines with [00:01:23] times)"
        ]
    warnings = []
    if len(times) < turns:
        warnings.append(f"{turns - len(times)} of {turns} turns have no time")
    starts = [s for s, _ in times if s is not None]
    back = next((n for n in range(1, len(starts)) if starts[n] < starts[n - 1]), None)
    if back is not None:
        warnings.append(f"the times go backwards at turn {back + 1}")
    last = max((e if e is not None else s) or 0.0 for s, e in times)
    if duration is not None and last > duration + 1:
        warnings.append(
            f"the transcript runs to {_clock(last)} but the recording is {_clock(duration)} long:"
            " check that it belongs to this recording"
        )
    return warnings


def sniff(data: bytes) -> str | None:
    """The container a file's first bytes show, or None."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[4:8] == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip()
    if _SVG_START.match(text):
        return "svg"
    if _HTML_START.match(text):
        return "html"
    return None


def read_media(data: bytes, filename: str, wanted: str) -> MediaFile:
    """Check an audio, video or image file by its content; images are re-encoded without
    their metadata (EXIF location, camera serial numbers) and SVG is drawn to PNG."""
    allowed = EXTENSIONS[wanted]
    extension = PurePosixPath(filename.lower()).suffix.lstrip(".")
    if extension not in allowed:
        raise SourceError(
            f"{filename}: {'an' if wanted[0] in 'aeiou' else 'a'} {wanted} file must be one of "
            + ", ".join(f".{e}" for e in allowed)
            + f" (this is {'.' + extension if extension else 'a file without an extension'})"
        )
    container = sniff(data)
    if container in ("html", "svg") and wanted != "image":
        raise SourceError(f"{filename}: is {CONTAINER_NAMES[container]}, not {wanted}; refused")
    if container == "html":
        raise SourceError(
            f"{filename}: is an HTML page named .{extension}; pages and scripts are refused"
        )
    if container is None:
        raise SourceError(f"{filename}: the content is not a {wanted} format this page accepts")
    if container != allowed[extension]:
        raise SourceError(
            f"{filename}: is named .{extension} but its content is {CONTAINER_NAMES[container]}"
        )
    if wanted == "image":
        if container == "svg":
            return _svg_to_png(data, filename)
        return _read_image(data, filename, container)
    duration = None
    if container == "wav":
        duration = wav_duration(data)
    elif container in ("mp4", "mov"):
        duration = mp4_duration(data)
    return MediaFile(
        media=wanted,
        container=container,
        extension=extension,
        content_type=CONTENT_TYPES[(wanted, container)],
        data=data,
        duration_seconds=duration,
    )


def _read_image(data: bytes, filename: str, container: str) -> MediaFile:
    from PIL import Image, ImageOps, UnidentifiedImageError

    warnings: list[str] = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise SourceError(
                    f"{filename}: {width} × {height} pixels is more than "
                    f"{MAX_IMAGE_PIXELS // 1_000_000} million; scale it down and upload it again"
                )
            if getattr(image, "n_frames", 1) > 1:
                warnings.append("an animated image: only its first frame is kept")
            image.load()
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if container == "jpeg":
                upright.convert("RGB").save(out, "JPEG", quality=92)
            elif container == "webp":
                upright.save(out, "WEBP", quality=90)
            else:
                upright.save(out, "PNG")
            width, height = upright.size
    except SourceError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise SourceError(f"{filename}: the image cannot be read ({exc})") from exc
    extension = {"jpeg": "jpg", "png": "png", "webp": "webp"}[container]
    return MediaFile(
        media="image",
        container=container,
        extension=extension,
        content_type=CONTENT_TYPES[("image", container)],
        data=out.getvalue(),
        width=width,
        height=height,
        warnings=tuple(warnings),
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


_SVG_REFUSED = frozenset(
    {
        "script",
        "foreignobject",
        "iframe",
        "embed",
        "object",
        "handler",
        "listener",
        "audio",
        "video",
        "animation",
    }
)
_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)


def check_svg(data: bytes, filename: str) -> Element:
    """Refuse an SVG with scripts, event handlers, external references, a DTD or entities."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise SourceError(
            f"{filename}: declares a DTD or entities ({exc}); they are refused in SVG"
        ) from exc
    except ParseError as exc:
        line, column = exc.position
        raise SourceError(f"{filename}: line {line} column {column}: not well-formed XML") from exc
    if _local(root.tag) != "svg":
        raise SourceError(f"{filename}: the document is <{_local(root.tag)}>, not <svg>")
    for n, element in enumerate(root.iter(), 1):
        name = _local(str(element.tag))
        place = f"element {n} <{name}>"
        if name in _SVG_REFUSED:
            raise SourceError(f"{filename}: {place}: a <{name}> element is refused in SVG")
        for attribute, value in element.attrib.items():
            attr = _local(attribute)
            if attr.startswith("on"):
                raise SourceError(
                    f"{filename}: {place}: the event handler {attr}= is refused in SVG"
                )
            if attr in ("href", "src") and not value.strip().startswith("#"):
                raise SourceError(
                    f"{filename}: {place}: {attr}={value[:60]!r} refers outside the drawing; "
                    "external references are refused (embed the picture in the drawing instead)"
                )
            _check_css(value, filename, f"{place} {attr}=")
        if name == "style":
            _check_css(element.text or "", filename, place)
    return root


def _check_css(value: str, filename: str, place: str) -> None:
    lowered = value.lower()
    if "@import" in lowered or "javascript:" in lowered or "expression(" in lowered:
        raise SourceError(f"{filename}: {place}: style imports and scripts are refused in SVG")
    for target in _URL.findall(value):
        if target and not target.startswith("#"):
            raise SourceError(
                f"{filename}: {place}: url({target[:60]}) refers outside the drawing; refused"
            )


def _svg_length(value: str | None) -> float | None:
    if not value:
        return None
    found = re.fullmatch(r"\s*([0-9.]+)\s*(px)?\s*", value)
    return float(found.group(1)) if found else None


def _svg_to_png(data: bytes, filename: str) -> MediaFile:
    """A checked SVG drawn to PNG: the browser never runs the SVG itself."""
    from cairosvg.surface import PNGSurface

    root = check_svg(data, filename)
    width, height = _svg_length(root.get("width")), _svg_length(root.get("height"))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(box) == 4:
        try:
            width, height = float(box[2]), float(box[3])
        except ValueError:
            width = height = None
    scale = 1.0
    if width and height and max(width, height) > MAX_SVG_SIDE:
        scale = MAX_SVG_SIDE / max(width, height)

    def refuse(url: str, **_: Any) -> dict[str, Any]:
        raise SourceError(f"{filename}: refers to {url[:60]!r}; external references are refused")

    try:
        png = PNGSurface.convert(bytestring=data, unsafe=False, url_fetcher=refuse, scale=scale)
    except SourceError:
        raise
    except Exception as exc:  # cairosvg raises many kinds; every one means "cannot draw"
        raise SourceError(f"{filename}: the drawing cannot be rendered ({exc})") from exc
    if not png:
        raise SourceError(f"{filename}: the drawing rendered to nothing")
    found = _read_image(png, filename, "png")
    return MediaFile(
        media="image",
        container="png",
        extension="png",
        content_type="image/png",
        data=found.data,
        width=found.width,
        height=found.height,
        warnings=("an SVG drawing: stored as a PNG picture of it",),
    )


def wav_duration(data: bytes) -> float | None:
    """Seconds of a RIFF/WAVE file, from its fmt and data chunks."""
    pos, byte_rate, size = 12, None, None
    while pos + 8 <= len(data):
        chunk, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and length >= 12:
            byte_rate = int.from_bytes(data[pos + 16 : pos + 20], "little")
        elif chunk == b"data":
            size = min(length, len(data) - pos - 8)
            break
        pos += 8 + length + (length & 1)
    if not byte_rate or size is None:
        return None
    return size / byte_rate


def _boxes(data: bytes, start: int, end: int) -> Iterable[tuple[bytes, int, int]]:
    pos = start
    while pos + 8 <= end:
        size, kind, header = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8], 8
        if size == 1 and pos + 16 <= end:
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, min(pos + size, end)
        pos += size


def mp4_duration(data: bytes) -> float | None:
    """Seconds of an MP4/QuickTime file, from moov/mvhd."""
    for kind, body, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for inner, start, _ in _boxes(data, body, end):
            if inner != b"mvhd":
                continue
            version = data[start]
            if version == 1:
                scale = int.from_bytes(data[start + 20 : start + 24], "big")
                length = int.from_bytes(data[start + 24 : start + 32], "big")
            else:
                scale = int.from_bytes(data[start + 12 : start + 16], "big")
                length = int.from_bytes(data[start + 16 : start + 20], "big")
            return length / scale if scale else None
    return None


# --------------------------------------------------------------------------- settings, keys


def settings_for(study: Study) -> VoicesSettings:
    found, _ = VoicesSettings.objects.get_or_create(study=study)
    return found


def raw_binding(source: Source) -> str:
    return f"study:{source.study_id}/voices-source:{source.guid}"


def label_set_key(source: Source) -> str:
    if source.focus_group_id is not None:
        return f"focus-group:{source.focus_group_id}"
    if source.participant is not None:
        return f"participant:{source.participant.pseudonym}"
    return f"source:{source.guid}"


def _labels_binding(study_id: int, key: str) -> str:
    return f"study:{study_id}/voices-labels:{key}"


def _key() -> bytes:
    try:
        return identity_store.load_key()
    except IdentityKeyError as exc:
        raise SourceError(f"the study's identity key is not available: {exc}") from exc


def open_raw(source: Source) -> dict[str, str]:
    """The sealed values of a source (text, original, filename, speakers); {} when deleted.

    Callers showing any of it to a person must write ``voices.raw.view`` to the audit trail.
    """
    if not source.raw_sealed:
        return {}
    return unseal(source.raw_sealed, _key(), raw_binding(source))


def _seal_raw(source: Source, values: Mapping[str, str]) -> None:
    source.raw_sealed = seal(dict(values), _key(), raw_binding(source))


@dataclass
class LabelState:
    """A document set's label map and the people its woman (or group) mentions."""

    mapping: deidentify.LabelMap
    people: dict[str, str]


def load_labels(study_id: int, key: str, *, lock: bool = False) -> tuple[LabelSet, LabelState]:
    query = LabelSet.objects.filter(study_id=study_id, key=key)
    if lock:
        query = query.select_for_update()
    found = query.first()
    if found is None:
        found = LabelSet.objects.create(study_id=study_id, key=key)
    state = LabelState(deidentify.LabelMap(), {})
    if found.labels_sealed:
        values = unseal(found.labels_sealed, _key(), _labels_binding(study_id, key))
        state.mapping = deidentify.LabelMap.from_dict(json.loads(values.get("labels") or "{}"))
        state.people = json.loads(values.get("people") or "{}")
    return found, state


def save_labels(label_set: LabelSet, state: LabelState) -> None:
    values = {"labels": json.dumps(state.mapping.to_dict())}
    if state.people:
        values["people"] = json.dumps(state.people, ensure_ascii=False)
    label_set.labels_sealed = seal(
        values, _key(), _labels_binding(label_set.study_id, label_set.key)
    )
    label_set.save(update_fields=["labels_sealed", "updated_at"])


# --------------------------------------------------------------------------- who sees what


def visible_sources(access: Access) -> QuerySet[Source]:
    return access_policy.visible_sources(access)


def can_see_file(access: Access, source: Source) -> bool:
    """Recordings carry a voice or a face: only de-identification staff may play them."""
    if not source.file:
        return False
    if source.media in (Source.Media.AUDIO, Source.Media.VIDEO):
        return access.can("voices:raw")
    return access.can("voices:raw") or source.status == Source.Status.READY


# --------------------------------------------------------------------------- ingesting


@dataclass(frozen=True)
class Target:
    """Whom and what a document is about."""

    participant: Participant | None = None
    focus_group: FocusGroup | None = None
    wave: Wave | None = None
    interview: Interview | None = None

    @property
    def site_id(self) -> int:
        if self.focus_group is not None:
            return self.focus_group.site_id
        assert self.participant is not None
        return self.participant.site_id


def resolve_target(
    study: Study,
    kind: str,
    *,
    participant: Participant | None = None,
    focus_group: FocusGroup | None = None,
    wave: Wave | None = None,
) -> Target:
    """Check that the kind fits whom it is about; find her interview of that wave."""
    if (participant is None) == (focus_group is None):
        raise SourceError("choose either a participant or a focus group (one of them)")
    if participant is not None and participant.study_id != study.pk:
        raise SourceError("the participant is not in this study")
    if focus_group is not None and focus_group.study_id != study.pk:
        raise SourceError("the focus group is not in this study")
    if wave is not None and wave.study_id != study.pk:
        raise SourceError("the wave is not in this study")
    if kind == Source.Kind.FOCUS_GROUP and focus_group is None:
        raise SourceError("a focus-group transcript belongs to a focus group")
    if focus_group is not None and kind not in (Source.Kind.FOCUS_GROUP, Source.Kind.NOTE):
        raise SourceError(
            f"a focus group can have a focus-group transcript or a field note, not a "
            f"{Source.Kind(kind).label.lower()}"
        )
    if participant is not None:
        if kind == Source.Kind.STAFF_INTERVIEW and participant.kind != Participant.Kind.STAFF:
            raise SourceError(f"{participant.pseudonym} is not a staff participant")
        woman_kinds = (RECORDING_KINDS.keys() | IMAGE_KINDS) | {
            Source.Kind.INTERVIEW,
            Source.Kind.DIARY_TEXT,
        }
        if kind in woman_kinds and participant.kind != Participant.Kind.WOMAN:
            raise SourceError(
                f"{participant.pseudonym} is a staff participant: a "
                f"{Source.Kind(kind).label.lower()} belongs to a woman"
            )
    interview = None
    if participant is not None and wave is not None:
        interview = Interview.objects.filter(woman__participant=participant, wave=wave).first()
    return Target(participant, focus_group, wave, interview)


def _read_upload(upload: File, limit_bytes: int, filename: str) -> bytes:
    size = upload.size or 0
    if size > limit_bytes:
        raise SourceError(
            f"{filename}: the file is {size / 2**20:,.1f} MB; this study accepts at most "
            f"{limit_bytes / 2**20:,.0f} MB"
        )
    upload.seek(0)
    data = upload.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise SourceError(f"{filename}: the file is larger than {limit_bytes / 2**20:,.0f} MB")
    return data


def _default_name(kind: str, target: Target) -> str:
    label = Source.Kind(kind).label
    if target.focus_group is not None:
        return f"{label}, {target.focus_group}"
    assert target.participant is not None
    wave = f", wave {target.wave.number}" if target.wave is not None else ""
    return f"{target.participant.pseudonym}{wave}: {label.lower()}"


def known_people(target: Target, people: Mapping[str, str]) -> dict[str, str]:
    """Names to look for: the set's own list (name → role), plus the names the identity store
    holds for the woman or the group's attendees, each labelled with their pseudonym."""
    out: dict[str, str] = {}
    persons: list[Participant] = []
    if target.participant is not None:
        persons.append(target.participant)
    if target.focus_group is not None:
        persons += [
            staff.participant
            for staff in target.focus_group.attendees.select_related("participant")
        ]
    for person in persons:
        try:
            identifiers = identity_store.read_identity(person)
        except IdentityKeyError:
            identifiers = None
        if identifiers is not None and identifiers.full_name.strip():
            out[identifiers.full_name.strip()] = person.pseudonym
    out.update({name: role for name, role in people.items() if name.strip() and role.strip()})
    return out


def _detect(text: str, people: Mapping[str, str]) -> list[deidentify.Span]:
    try:
        return deidentify.detect(text, known_people=people, extra_detectors=[ner.detector])
    except deidentify.DeidentifyError as exc:
        raise SourceError(f"the list of people cannot be used: {exc}") from exc


def _turn_rows(document: documents.Document) -> tuple[list[dict[str, Any]], list[str]]:
    """Turns without their speaker labels (which may be names), and the labels to seal."""
    labels = documents.speakers(document)
    index = {label: n for n, label in enumerate(labels)}
    rows = [
        {
            "speaker": "",
            "speaker_index": index.get(t.speaker),
            "participant": t.participant,
            "start_char": t.start_char,
            "end_char": t.end_char,
            "start_seconds": t.start_seconds,
            "end_seconds": t.end_seconds,
        }
        for t in document.turns
    ]
    return rows, labels


def _store_text(
    study: Study,
    data: bytes,
    filename: str,
    kind: str,
    target: Target,
    *,
    name: str,
    user: Any,
    transcript_of: Source | None = None,
    duration: float | None = None,
) -> Source:
    container = sniff(data)
    if container not in (None, "svg", "html", "pdf", "zip"):
        raise SourceError(
            f"{filename}: is named {PurePosixPath(filename).suffix or '(no extension)'} but its "
            f"content is {CONTAINER_NAMES[container]}; upload a recording or image as one"
        )
    try:
        document = documents.extract_text(data, filename)
    except documents.DocumentError as exc:
        raise SourceError(str(exc)) from exc
    refuse_active_text(document.text, filename)
    if not document.text.strip():
        raise SourceError(f"{filename}: no text was found in the file")
    warnings = list(document.warnings)
    timed = [t for t in document.turns if t.start_seconds is not None]
    if transcript_of is not None:
        warnings += alignment_warnings(
            [(t.start_seconds, t.end_seconds) for t in timed], len(document.turns), duration
        )
    turns, labels = _turn_rows(document)
    source = Source(
        study=study,
        site_id=target.site_id,
        name=name[:200],
        kind=kind,
        media=Source.Media.TEXT,
        participant=target.participant,
        interview=target.interview,
        focus_group=target.focus_group,
        wave=target.wave,
        transcript_of=transcript_of,
        status=Source.Status.REVIEW,
        format=document.format,
        encoding=document.encoding or "",
        warnings=warnings,
        turns=turns,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    _seal_raw(
        source,
        {
            "text": document.text,
            "original": base64.b64encode(document.original).decode("ascii"),
            "filename": filename,
            "speakers": json.dumps(labels, ensure_ascii=False),
        },
    )
    source.save()
    _, state = load_labels(study.pk, label_set_key(source))
    spans = _detect(document.text, known_people(target, state.people))
    _store_detections(source, spans)
    return source


def _store_detections(source: Source, spans: Iterable[deidentify.Span]) -> None:
    Redaction.objects.bulk_create(
        Redaction(
            source=source,
            start=s.start,
            end=s.end,
            kind=s.kind,
            label=s.label[:80],
            detector=s.source[:30],
            note=s.note[:200],
        )
        for s in spans
    )


def ingest(
    study: Study,
    upload: File,
    *,
    kind: str,
    target: Target,
    name: str = "",
    description: str = "",
    transcript: File | None = None,
    user: Any = None,
) -> Source:
    """Store one upload (and a recording's transcript) or nothing; see the module docstring."""
    filename = display_name(str(upload.name or "upload"))
    limit = settings_for(study).max_upload_megabytes * 2**20
    data = _read_upload(upload, limit, filename)
    name = name.strip() or _default_name(kind, target)
    stored: list[str] = []
    try:
        with transaction.atomic():
            if kind in TEXT_KINDS:
                if description.strip():
                    raise SourceError("a description is for images; a transcript speaks for itself")
                source = _store_text(study, data, filename, kind, target, name=name, user=user)
            elif kind in RECORDING_KINDS or kind in IMAGE_KINDS:
                source = _store_media(
                    study, data, filename, kind, target, name, description, user, stored
                )
                if transcript is not None:
                    if kind not in RECORDING_KINDS:
                        raise SourceError("only an audio or video diary can have a transcript")
                    attach_transcript(source, transcript, user=user)
            else:
                raise SourceError(f"unknown kind {kind!r}")
            audit.record(
                "voices.source.upload",
                study=study,
                obj=source,
                changes={"kind": kind, "media": source.media, "format": source.format},
            )
    except Exception:
        for stored_name in stored:
            Source.file.field.storage.delete(stored_name)
        raise
    return source


def _store_media(
    study: Study,
    data: bytes,
    filename: str,
    kind: str,
    target: Target,
    name: str,
    description: str,
    user: Any,
    stored: list[str],
) -> Source:
    wanted = RECORDING_KINDS.get(kind) or "image"
    found = read_media(data, filename, wanted)
    source = Source(
        study=study,
        site_id=target.site_id,
        name=name[:200],
        kind=kind,
        media=found.media,
        participant=target.participant,
        interview=target.interview,
        focus_group=target.focus_group,
        wave=target.wave,
        # A recording holds no text to de-identify (and is never shown to peer researchers);
        # an image waits for someone to check it shows no names, faces or addresses.
        status=Source.Status.READY if wanted != "image" else Source.Status.REVIEW,
        format=found.extension,
        content_type=found.content_type,
        size_bytes=len(found.data),
        width=found.width,
        height=found.height,
        duration_seconds=found.duration_seconds,
        description=description.strip(),
        warnings=list(found.warnings),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    # Stored under a random name: the original may hold a person's or a place's name.
    source.file.save(f"{uuid.uuid4().hex}.{found.extension}", ContentFile(found.data), save=False)
    stored.append(str(source.file.name))
    source.save()
    return source


def attach_transcript(recording: Source, upload: File, *, user: Any = None) -> Source:
    """A transcript (VTT/SRT, or text with [00:01:23] times) of an audio or video diary."""
    if recording.media not in (Source.Media.AUDIO, Source.Media.VIDEO):
        raise SourceError("only an audio or video diary can have a transcript")
    filename = display_name(str(upload.name or "transcript"))
    limit = settings_for(recording.study).max_upload_megabytes * 2**20
    data = _read_upload(upload, min(limit, documents.MAX_FILE_BYTES), filename)
    target = Target(
        recording.participant, recording.focus_group, recording.wave, recording.interview
    )
    with transaction.atomic():
        child = _store_text(
            recording.study,
            data,
            filename,
            recording.kind,
            target,
            name=f"{recording.name}: transcript"[:200],
            user=user,
            transcript_of=recording,
            duration=recording.duration_seconds,
        )
        audit.record("voices.source.transcript", study=recording.study_id, obj=child)
    return child


# --------------------------------------------------------------------------- speakers


def raw_speakers(source: Source) -> list[str]:
    """The sealed speaker labels of a source under review (may be names)."""
    return json.loads(open_raw(source).get("speakers") or "[]")


def map_speakers(source: Source, mapping: Mapping[int, str]) -> None:
    """Tie speaker labels (by their index) to staff participants of the study (pseudonyms)."""
    if source.status != Source.Status.REVIEW or source.media != Source.Media.TEXT:
        raise SourceError("speakers can be mapped only while the transcript is under review")
    labels = raw_speakers(source)
    chosen = {n: p for n, p in mapping.items() if p}
    for n in chosen:
        if not 0 <= n < len(labels):
            raise SourceError(f"speaker {n + 1} is not in this transcript")
    staff = set(
        StaffMember.objects.filter(
            participant__study_id=source.study_id, participant__pseudonym__in=chosen.values()
        ).values_list("participant__pseudonym", flat=True)
    )
    unknown = sorted(set(chosen.values()) - staff)
    if unknown:
        raise SourceError(f"not staff participants of this study: {', '.join(unknown)}")
    targets = list(chosen.values())
    twice = sorted({p for p in targets if targets.count(p) > 1})
    if twice:
        raise SourceError(f"two speakers mapped to the same participant: {', '.join(twice)}")
    with transaction.atomic():
        turns = []
        for turn in source.turns:
            index = turn.get("speaker_index")
            turns.append({**turn, "participant": chosen.get(index) if index is not None else None})
        source.turns = turns
        source.speaker_map = {str(n): p for n, p in sorted(chosen.items())}
        source.save(update_fields=["turns", "speaker_map", "updated_at"])
        audit.record(
            "voices.source.speakers", study=source.study_id, obj=source, changes={"mapped": targets}
        )


# --------------------------------------------------------------------------- review


def detections(source: Source, raw_text: str) -> list[Detection]:
    rows = []
    for redaction in source.redactions.all().order_by("start", "end"):
        rows.append(
            Detection(
                redaction,
                raw_text[max(0, redaction.start - CONTEXT_CHARS) : redaction.start],
                raw_text[redaction.start : redaction.end],
                raw_text[redaction.end : redaction.end + CONTEXT_CHARS],
            )
        )
    return rows


def review_progress(source: Source) -> dict[str, int]:
    counts = Counter(source.redactions.values_list("decision", flat=True))
    total = sum(counts.values())
    pending = counts.get(Redaction.Decision.PENDING, 0)
    return {
        "total": total,
        "decided": total - pending,
        "pending": pending,
        "accepted": counts.get(Redaction.Decision.ACCEPTED, 0),
        "rejected": counts.get(Redaction.Decision.REJECTED, 0),
        "added": counts.get(Redaction.Decision.ADDED, 0),
    }


def _under_review(source: Source) -> None:
    if source.status != Source.Status.REVIEW:
        raise SourceError("this source's de-identification is finished")
    if source.media != Source.Media.TEXT:
        raise SourceError("this source has no text to de-identify")


def _clean_label(label: str) -> str:
    label = " ".join(label.replace("[", "").replace("]", "").split())
    if len(label) > 60:
        raise SourceError("a replacement label has at most 60 characters")
    return label


def decide(
    source: Source,
    redaction_id: int,
    decision: str,
    *,
    label: str = "",
    kind: str = "",
    everywhere: bool = False,
    user: Any = None,
) -> int:
    """Accept (replace) or reject (keep) one detection, or every one of the same words and
    kind in this document; returns how many rows changed."""
    _under_review(source)
    if decision not in (Redaction.Decision.ACCEPTED, Redaction.Decision.REJECTED):
        raise SourceError(f"unknown decision {decision!r}")
    target = source.redactions.filter(pk=redaction_id).first()
    if target is None:
        raise SourceError("no such detection in this source")
    if kind and kind not in deidentify.KINDS:
        raise SourceError(f"unknown kind {kind!r}")
    label = _clean_label(label) if label else ""
    rows = [target]
    if everywhere:
        raw = open_raw(source).get("text", "")
        key = deidentify.normalise_original(target.kind, raw[target.start : target.end])
        rows = [
            r
            for r in source.redactions.filter(kind=target.kind)
            if deidentify.normalise_original(r.kind, raw[r.start : r.end]) == key
        ]
    now = timezone.now()
    with transaction.atomic():
        for row in rows:
            if row.decision != Redaction.Decision.ADDED or decision == "rejected":
                row.decision = decision
            if decision == Redaction.Decision.ACCEPTED:
                row.label = label or row.label
                row.kind = kind or row.kind
            row.decided_by = user if getattr(user, "is_authenticated", False) else None
            row.decided_at = now
            row.save()
    return len(rows)


def add_redactions(
    source: Source,
    *,
    kind: str,
    label: str = "",
    start: int | None = None,
    end: int | None = None,
    words: str = "",
    everywhere: bool = False,
    user: Any = None,
) -> int:
    """Mark a missed identifier, by its positions in the raw text or by its words (the first
    whole-word occurrence, or every one with ``everywhere``); returns how many were added."""
    _under_review(source)
    if kind not in deidentify.KINDS:
        raise SourceError(f"choose the kind of identifier (one of {', '.join(deidentify.KINDS)})")
    label = _clean_label(label) if label else deidentify.DEFAULT_LABELS[kind]
    raw = open_raw(source).get("text", "")
    if words.strip():
        needle = words.strip()
        places = deidentify._whole_word_occurrences(raw, needle)
        if not places:
            raise SourceError(f"the words {needle!r} are not in the text (as whole words)")
        if not everywhere:
            places = places[:1]
    else:
        if start is None or end is None:
            raise SourceError("select the words in the text, or give their start and end")
        if not 0 <= start < end <= len(raw):
            raise SourceError(f"positions {start}–{end} are outside the text (0–{len(raw)})")
        if not raw[start:end].strip():
            raise SourceError(f"positions {start}–{end} hold only spaces")
        places = [(start, end)]
        if everywhere:
            places = deidentify._whole_word_occurrences(raw, raw[start:end]) or places
    existing = {(r.start, r.end) for r in source.redactions.all()}
    new = [(a, b) for a, b in places if (a, b) not in existing]
    now = timezone.now()
    decider = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        source.redactions.filter(
            start__in=[a for a, _ in places], end__in=[b for _, b in places]
        ).update(decision=Redaction.Decision.ACCEPTED, kind=kind, label=label[:80])
        Redaction.objects.bulk_create(
            Redaction(
                source=source,
                start=a,
                end=b,
                kind=kind,
                label=label[:80],
                detector="review",
                decision=Redaction.Decision.ADDED,
                decided_by=decider,
                decided_at=now,
            )
            for a, b in new
        )
    return len(places)


def parse_people(text: str) -> dict[str, str]:
    """ "Name = role" lines (role optional: "name") to the list of people mentioned."""
    people: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, _, role = line.partition("=")
        name, role = " ".join(name.split()), _clean_label(role) or "name"
        if len(name) < 2:
            raise SourceError(f"line {number}: give a name before '='")
        people[name] = role
    return people


def people_of(source: Source) -> dict[str, str]:
    _, state = load_labels(source.study_id, label_set_key(source))
    return state.people


def set_people(source: Source, people: Mapping[str, str]) -> None:
    """Store the set's list of people mentioned (sealed with its labels) and re-detect."""
    with transaction.atomic():
        label_set, state = load_labels(source.study_id, label_set_key(source), lock=True)
        state.people = dict(people)
        save_labels(label_set, state)
        audit.record(
            "voices.labels.people",
            study=source.study_id,
            obj=label_set,
            changes={"people": len(people)},
        )
        if source.status == Source.Status.REVIEW and source.media == Source.Media.TEXT:
            redetect(source, state.people)


def redetect(source: Source, people: Mapping[str, str]) -> int:
    """Detect again (after the list of people changed): undecided rows are replaced; decided
    rows stay, and new detections overlapping them are left out. Returns the new count."""
    _under_review(source)
    raw = open_raw(source).get("text", "")
    target = Target(source.participant, source.focus_group, source.wave, source.interview)
    spans = _detect(raw, known_people(target, people))
    with transaction.atomic():
        source.redactions.filter(decision=Redaction.Decision.PENDING).delete()
        decided = list(source.redactions.all())
        fresh = [s for s in spans if not any(s.start < r.end and r.start < s.end for r in decided)]
        _store_detections(source, fresh)
    return len(fresh)


# --------------------------------------------------------------------------- finishing


def map_offset(pos: int, replacements: Iterable[deidentify.Replacement], *, end: bool) -> int:
    """A raw-text position in the de-identified text (inside a replacement: its start or end)."""
    shift = 0
    for r in sorted(replacements, key=lambda r: r.start):
        if pos < r.start or (pos == r.start and not end):
            break
        if pos < r.end or (pos == r.end and end and pos == r.start):
            return r.output_end if end else r.output_start
        shift = r.output_end - r.end
    return pos + shift


def deidentified_turns(
    raw: str,
    turns: list[dict[str, Any]],
    labels: list[str],
    replacements: list[deidentify.Replacement],
    output: str,
) -> list[dict[str, Any]]:
    """Turns moved to the de-identified text; a speaker label that was replaced (a name)
    becomes its replacement label."""
    out = []
    for turn in turns:
        start = map_offset(turn["start_char"], replacements, end=False)
        end = max(start, map_offset(turn["end_char"], replacements, end=True))
        index = turn.get("speaker_index")
        speaker = labels[index] if index is not None and index < len(labels) else ""
        if speaker:
            line_start = raw.rfind("\n", 0, turn["start_char"]) + 1
            at = raw.find(speaker, line_start, turn["start_char"])
            for r in replacements:
                if at >= 0 and r.start < at + len(speaker) and at < r.end:
                    speaker = output[r.output_start : r.output_end]
                    break
            else:
                if at < 0:
                    # A VTT voice tag not written in the text: keep it only if not a name.
                    hits = deidentify.detect(speaker, kinds={deidentify.PERSON})
                    speaker = "[speaker]" if hits else speaker
        new = {k: v for k, v in turn.items() if k != "speaker_index"}
        new.update(speaker=speaker, start_char=start, end_char=end)
        out.append(new)
    return out


def finish_review(source: Source, *, user: Any = None, confirm_image: bool = False) -> Source:
    """Apply the reviewed redactions with the set's labels, write the de-identified text and
    turns, mark the source ready and, by study setting, delete its raw text."""
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source.pk)
        if source.status != Source.Status.REVIEW:
            raise SourceError("this source's de-identification is already finished")
        changes: dict[str, Any] = {}
        if source.media == Source.Media.IMAGE:
            if not confirm_image:
                raise SourceError(
                    "confirm that the image shows no names, faces, addresses or other identifiers"
                )
        elif source.media == Source.Media.TEXT:
            raw_values = open_raw(source)
            raw = raw_values.get("text", "")
            rows = list(source.redactions.exclude(decision=Redaction.Decision.REJECTED))
            spans = [
                deidentify.Span(r.start, r.end, r.kind, raw[r.start : r.end], r.label, r.detector)
                for r in rows
            ]
            label_set, state = load_labels(source.study_id, label_set_key(source), lock=True)
            state.mapping.replacements = [
                r for r in state.mapping.replacements if r.document_id != source.guid
            ]
            try:
                text, mapping = deidentify.apply(
                    raw, spans, [], mapping=state.mapping, document_id=source.guid
                )
            except deidentify.DeidentifyError as exc:
                raise SourceError(f"the redactions do not fit the text: {exc}") from exc
            mine = [r for r in mapping.replacements if r.document_id == source.guid]
            labels = json.loads(raw_values.get("speakers") or "[]")
            source.turns = deidentified_turns(raw, source.turns, labels, mine, text)
            source.speaker_map = {
                t["speaker"] or f"speaker {n + 1}": t["participant"]
                for n, t in enumerate(source.turns)
                if t.get("participant")
            }
            source.text = text
            save_labels(label_set, state)
            decider = user if getattr(user, "is_authenticated", False) else None
            source.redactions.filter(decision=Redaction.Decision.PENDING).update(
                decision=Redaction.Decision.ACCEPTED, decided_by=decider, decided_at=timezone.now()
            )
            changes = {"replaced": len(mine), "kinds": dict(Counter(r.kind for r in mine))}
        source.status = Source.Status.READY
        if source.raw_sealed and settings_for(source.study).raw_text == "delete":
            source.raw_sealed = ""
            source.raw_deleted_at = timezone.now()
            changes["raw_deleted"] = True
        source.save()
        audit.record("voices.deidentify.finish", study=source.study_id, obj=source, changes=changes)
    return source


# --------------------------------------------------------------------------- showing text


@dataclass(frozen=True)
class Block:
    """A piece of a transcript to show: a speaker's turn, or text between turns."""

    text: str
    speaker: str = ""
    participant: str = ""
    start_seconds: float | None = None
    end_seconds: float | None = None

    @property
    def clock(self) -> str:
        return _clock(self.start_seconds) if self.start_seconds is not None else ""


def blocks(text: str, turns: list[dict[str, Any]]) -> list[Block]:
    """The de-identified text cut into turns (with the speaker and time each carries) and
    the text between them (a heading, a note), in order; empty pieces left out."""
    out: list[Block] = []
    pos = 0
    for turn in sorted(turns, key=lambda t: t["start_char"]):
        start, end = turn["start_char"], turn["end_char"]
        if start < pos:
            continue
        between = text[pos:start]
        # The label ("Interviewer: ") sits just before each turn: it is shown as the speaker.
        line_start = between.rfind("\n") + 1
        gap = between[:line_start].strip()
        if gap:
            out.append(Block(gap))
        out.append(
            Block(
                text[start:end],
                speaker=str(turn.get("speaker") or ""),
                participant=str(turn.get("participant") or ""),
                start_seconds=turn.get("start_seconds"),
                end_seconds=turn.get("end_seconds"),
            )
        )
        pos = end
    rest = text[pos:].strip()
    if rest:
        out.extend(Block(p.strip()) for p in re.split(r"\n\s*\n", rest) if p.strip())
    return out


@dataclass(frozen=True)
class Segment:
    text: str
    redaction: Redaction | None = None


def segments(raw: str, redactions: Iterable[Redaction]) -> list[Segment]:
    """The raw text cut at the detections (for marking them); an overlapping one is skipped."""
    out: list[Segment] = []
    pos = 0
    for r in sorted(redactions, key=lambda r: (r.start, -r.end)):
        if r.start < pos:
            continue
        if r.start > pos:
            out.append(Segment(raw[pos : r.start]))
        out.append(Segment(raw[r.start : r.end], r))
        pos = r.end
    if pos < len(raw):
        out.append(Segment(raw[pos:]))
    return out


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One HTTP byte range ("bytes=0-499", "bytes=500-", "bytes=-500") to (first, last)
    inclusive; None when absent or not one range; ValueError when it cannot be satisfied."""
    found = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header or "")
    if not found or not (found.group(1) or found.group(2)):
        return None
    first_text, last_text = found.group(1), found.group(2)
    if not first_text:
        length = int(last_text)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        raise ValueError("range outside the file")
    return first, last
