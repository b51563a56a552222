"""Importing ``.qdpx`` projects and ``.qdc`` codebooks made by any REFI-QDA tool.

The reader is tolerant of the dialects of NVivo, ATLAS.ti, MAXQDA and QualCoder: a
``Sources/`` or ``sources/`` folder (section 8.1 says ``sources``), internal file names and
GUIDs in either case or in braces, a byte-order mark before the XML or the plain texts, CRLF
line ends, an inner ``.qde`` not named ``project.qde``, any or no XML namespace, and NVivo's
UTF-16 text positions (see :mod:`.positions`). It is strict about what would corrupt the
analysis: a selection outside its text, a coding of a code the codebook lacks, a GUID used
twice, a file the project refers to but the archive lacks. Either a whole :class:`Project` is
returned or :class:`RefiQdaError` is raised with a message that names the file, the entry and
the line; nothing partial comes out.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypedDict, TypeVar, cast

from .archive import MAX_FILES, MAX_RATIO, MAX_TOTAL_BYTES, Limits, SafeArchive, basename
from .model import (
    MEDIA_KINDS,
    MEDIA_POSITION_ATTRIBUTES,
    VARIABLE_KINDS,
    Case,
    Code,
    Codebook,
    Coding,
    Direction,
    Edge,
    Graph,
    LineStyle,
    Link,
    MediaKind,
    MediaSelection,
    Note,
    OtherSource,
    PlainTextSelection,
    Project,
    Set,
    Shape,
    Source,
    SyncPoint,
    TextSource,
    Transcript,
    TranscriptSelection,
    User,
    Value,
    Variable,
    VariableKind,
    VariableValue,
    Vertex,
)
from .positions import PositionMap, PositionsOption, PositionUnit, resolve_unit
from .xmltree import MAX_ELEMENTS, Element, RefiQdaError, parse

MAX_QDC_BYTES = 64 * 1024 * 1024
"""Default limit on the size of a ``.qdc`` codebook file (64 MiB)."""

_HEX_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_GUID = re.compile(rf"\{{({_HEX_GUID})\}}|({_HEX_GUID})")
_RGB = re.compile(r"#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_DIRECTIONS = ("Associative", "OneWay", "Bidirectional")
_SHAPES = (
    "Person",
    "Oval",
    "Rectangle",
    "RoundedRectangle",
    "Star",
    "LeftTriangle",
    "RightTriangle",
    "UpTriangle",
    "DownTriangle",
    "Note",
)
_LINE_STYLES = ("dotted", "dashed", "solid")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

T = TypeVar("T")
TS = TypeVar("TS", bound=TextSource)


class _Stamp(TypedDict):
    creating_user: str | None
    created: dt.datetime | None
    modifying_user: str | None
    modified: dt.datetime | None


def canonical_guid(value: str) -> str | None:
    """``value`` as a canonical GUID (upper case, no braces), or None if it is not one."""
    match = _GUID.fullmatch(value.strip())
    return (match.group(1) or match.group(2)).upper() if match else None


def decode_text(data: bytes) -> str:
    """A plain-text file's text: UTF-8 (section 9.1.2) with a leading BOM dropped.

    A UTF-16 file with its BOM is accepted too. Raises UnicodeDecodeError otherwise.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16")
    return data.decode("utf-8")


def _label_of(source: bytes | str | os.PathLike[str], label: str | None, default: str) -> str:
    if label is not None:
        return label
    if isinstance(source, bytes | bytearray):
        return default
    return Path(source).name


class _Reader:
    """Turns a parsed ``.qde`` (or ``.qdc``) tree into the model, checking as it goes."""

    def __init__(
        self,
        where: str,
        file_lookup: Callable[[str], bytes | None] | None = None,
        unit: PositionUnit = "codepoints",
    ) -> None:
        self.where = where
        self.file_lookup = file_lookup
        self.unit = unit
        self.seen: dict[tuple[str, str], int] = {}
        self.coding_refs: list[tuple[str, int]] = []

    # -- errors and scalar values -------------------------------------------------------

    def error(self, el: Element, message: str) -> RefiQdaError:
        return RefiQdaError(f"{self.where} line {el.line}: {message}")

    def guid(self, el: Element, attr: str = "guid", *, kind: str | None = None) -> str:
        value = el.get(attr)
        if value is None:
            raise self.error(el, f"<{el.tag}> has no {attr}")
        guid = canonical_guid(value)
        if guid is None:
            raise self.error(el, f"<{el.tag}> {attr} {value!r} is not a GUID")
        if kind is not None:
            first = self.seen.setdefault((kind, guid), el.line)
            if first != el.line:
                raise self.error(el, f"{kind} GUID {guid} is used twice (first on line {first})")
        return guid

    def opt_guid(self, el: Element, attr: str) -> str | None:
        return self.guid(el, attr) if el.get(attr) is not None else None

    def integer(self, el: Element, attr: str) -> int:
        value = el.get(attr)
        if value is None:
            raise self.error(el, f"<{el.tag}> has no {attr}")
        try:
            return int(value.strip())
        except ValueError:
            raise self.error(el, f"<{el.tag}> {attr} {value!r} is not an integer") from None

    def opt_integer(self, el: Element, attr: str) -> int | None:
        return self.integer(el, attr) if el.get(attr) is not None else None

    def boolean(self, el: Element, text: str) -> bool:
        folded = text.strip().casefold()
        if folded in ("true", "1"):
            return True
        if folded in ("false", "0"):
            return False
        raise self.error(el, f"<{el.tag}> {text!r} is not a boolean (true or false)")

    def datetime(self, el: Element, text: str) -> dt.datetime:
        cleaned = _FRACTION.sub(r"\1", text.strip())
        if cleaned.endswith(("Z", "z")):
            cleaned = cleaned[:-1] + "+00:00"
        try:
            return dt.datetime.fromisoformat(cleaned)
        except ValueError:
            raise self.error(el, f"<{el.tag}> {text!r} is not an ISO 8601 date-time") from None

    def opt_datetime(self, el: Element, attr: str) -> dt.datetime | None:
        value = el.get(attr)
        return self.datetime(el, value) if value is not None else None

    def choice(self, el: Element, attr: str, allowed: tuple[str, ...]) -> str | None:
        value = el.get(attr)
        if value is None:
            return None
        for option in allowed:
            if option.casefold() == value.strip().casefold():
                return option
        raise self.error(el, f"<{el.tag}> {attr} {value!r} is not one of {', '.join(allowed)}")

    @staticmethod
    def color(el: Element) -> str | None:
        value = el.get("color")
        if value is None or not _RGB.fullmatch(value.strip()):
            return None  # not an RGB colour the format can carry
        return value.strip()

    @staticmethod
    def description(el: Element) -> str | None:
        child = el.child("Description")
        return child.text if child is not None else None

    def refs(self, el: Element, tag: str, attr: str = "targetGUID") -> tuple[str, ...]:
        return tuple(self.guid(child, attr) for child in el.iter_children(tag))

    def stamp(self, el: Element) -> _Stamp:
        return {
            "creating_user": self.opt_guid(el, "creatingUser"),
            "created": self.opt_datetime(el, "creationDateTime"),
            "modifying_user": self.opt_guid(el, "modifyingUser"),
            "modified": self.opt_datetime(el, "modifiedDateTime"),
        }

    # -- files ---------------------------------------------------------------------------

    def internal_file(self, el: Element, attr: str) -> tuple[str, bytes] | None:
        """``(canonical path, bytes)`` for an ``internal://`` path attribute (or one with no
        scheme at all, taken as internal), else None."""
        value = el.get(attr)
        if value is None or ("://" in value and not value.casefold().startswith("internal://")):
            return None  # absent, or external (relative://, absolute://)
        name = basename(value.split("://", 1)[-1])
        data = self.file_lookup(name) if self.file_lookup is not None else None
        if data is None:
            raise self.error(el, f"{attr} {value!r} names a file that is not in the archive")
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        guid = canonical_guid(stem) or self.guid(el)
        return f"internal://{guid}{'.' + ext.casefold() if ext else ''}", data

    def decode(self, el: Element, attr: str, data: bytes) -> str:
        try:
            return decode_text(data)
        except UnicodeDecodeError as exc:
            raise self.error(
                el, f"the plain text {el.get(attr)!r} is not UTF-8 ({exc.reason})"
            ) from None

    # -- positions -----------------------------------------------------------------------

    def span(self, el: Element, text: str, pmap: PositionMap | None) -> tuple[int, int]:
        start, end = self.integer(el, "startPosition"), self.integer(el, "endPosition")
        if pmap is not None:
            s, e = pmap.from_utf16(start), pmap.from_utf16(end)
            if s is None or e is None:
                raise self.error(
                    el, f"selection {start}-{end} splits a character of the text in two"
                )
            start, end = s, e
        if not 0 <= start <= end <= len(text):
            raise self.error(
                el,
                f"selection {el.get('guid')} spans {start}-{end}, outside its text of "
                f"{len(text)} characters",
            )
        return start, end

    def position_map(self, text: str) -> PositionMap | None:
        return PositionMap(text) if self.unit == "utf16" else None

    # -- elements ------------------------------------------------------------------------

    def coding(self, el: Element) -> Coding:
        ref = el.child("CodeRef")
        if ref is None:
            raise self.error(el, "<Coding> has no <CodeRef>")
        code_guid = self.guid(ref, "targetGUID")
        self.coding_refs.append((code_guid, ref.line))
        return Coding(
            guid=self.guid(el, kind="coding"),
            code_guid=code_guid,
            creating_user=self.opt_guid(el, "creatingUser"),
            created=self.opt_datetime(el, "creationDateTime"),
            note_refs=self.refs(el, "NoteRef"),
        )

    def codings(self, el: Element) -> tuple[Coding, ...]:
        return tuple(self.coding(c) for c in el.iter_children("Coding"))

    def code(self, el: Element) -> Code:
        codable = el.get("isCodable")
        return Code(
            guid=self.guid(el, kind="code"),
            name=el.get("name") or "",
            is_codable=True if codable is None else self.boolean(el, codable),
            color=self.color(el),
            description=self.description(el),
            note_refs=self.refs(el, "NoteRef"),
            children=tuple(self.code(c) for c in el.iter_children("Code")),
        )

    def codes(self, el: Element | None) -> tuple[Code, ...]:
        if el is None:
            return ()
        codes = el.child("Codes")
        holder = codes if codes is not None else el
        return tuple(self.code(c) for c in holder.iter_children("Code"))

    def value(self, el: Element) -> VariableValue:
        ref = el.child("VariableRef")
        if ref is None:
            raise self.error(el, "<VariableValue> has no <VariableRef>")
        value: Value = None
        for child in el.iter_children():
            text = child.text
            if child.tag == "TextValue":
                value = text
            elif child.tag == "BooleanValue":
                value = self.boolean(child, text)
            elif child.tag == "IntegerValue":
                try:
                    value = int(text.strip())
                except ValueError:
                    raise self.error(child, f"{text!r} is not an integer") from None
            elif child.tag == "FloatValue":
                try:
                    value = Decimal(text.strip())
                except InvalidOperation:
                    raise self.error(child, f"{text!r} is not a number") from None
                if not value.is_finite():
                    raise self.error(child, f"{text!r} is not a finite number")
            elif child.tag == "DateValue":
                try:
                    value = dt.date.fromisoformat(text.strip()[:10])
                except ValueError:
                    raise self.error(child, f"{text!r} is not an ISO 8601 date") from None
            elif child.tag == "DateTimeValue":
                value = self.datetime(child, text)
            else:
                continue
            break
        return VariableValue(variable_guid=self.guid(ref, "targetGUID"), value=value)

    def values(self, el: Element) -> tuple[VariableValue, ...]:
        return tuple(self.value(v) for v in el.iter_children("VariableValue"))

    def text_selection(
        self, el: Element, text: str, pmap: PositionMap | None
    ) -> PlainTextSelection:
        start, end = self.span(el, text, pmap)
        return PlainTextSelection(
            guid=self.guid(el, kind="selection"),
            start=start,
            end=end,
            name=el.get("name"),
            description=self.description(el),
            codings=self.codings(el),
            note_refs=self.refs(el, "NoteRef"),
            **self.stamp(el),
        )

    def text_source(self, el: Element, cls: type[TS], *, kind: str) -> TS:
        """A ``TextSourceType`` element as ``cls`` (TextSource or Note)."""
        guid = self.guid(el, kind=kind)
        plain = self.internal_file(el, "plainTextPath")
        if plain is not None:
            plain_path: str | None = plain[0]
            text = self.decode(el, "plainTextPath", plain[1])
        else:
            if el.get("plainTextPath") is not None:
                raise self.error(
                    el, f"plainTextPath {el.get('plainTextPath')!r} is outside the archive"
                )
            content = el.child("PlainTextContent")
            text = content.text if content is not None else ""
            # A note's text may travel in the XML; a source's is always written as a file.
            plain_path = None if cls is Note else f"internal://{guid}.txt"
        rich = self.internal_file(el, "richTextPath")
        pmap = self.position_map(text)
        return cls(
            guid=guid,
            text=text,
            name=el.get("name"),
            plain_text_path=plain_path,
            rich_text_path=rich[0] if rich else el.get("richTextPath"),
            rich_text=rich[1] if rich else None,
            description=self.description(el),
            selections=tuple(
                self.text_selection(s, text, pmap) for s in el.iter_children("PlainTextSelection")
            ),
            codings=self.codings(el),
            note_refs=self.refs(el, "NoteRef"),
            values=self.values(el),
            **self.stamp(el),
        )

    def opt_text(self, el: Element | None) -> TextSource | None:
        if el is None:
            return None
        return self.text_source(el, TextSource, kind="representation")

    def transcript(self, el: Element) -> Transcript:
        guid = self.guid(el, kind="transcript")
        plain = self.internal_file(el, "plainTextPath")
        if plain is not None:
            plain_path: str | None = plain[0]
            text = self.decode(el, "plainTextPath", plain[1])
        else:
            content = el.child("PlainTextContent")
            text = content.text if content is not None else ""
            plain_path = None
        pmap = self.position_map(text)
        sync_points = []
        for sp in el.iter_children("SyncPoint"):
            position = self.opt_integer(sp, "position")
            if position is not None and pmap is not None:
                position = pmap.from_utf16(position)
                if position is None:
                    raise self.error(sp, "sync point position splits a character in two")
            if position is not None and not 0 <= position <= len(text):
                raise self.error(sp, f"sync point position {position} is outside its text")
            sync_points.append(
                SyncPoint(
                    guid=self.guid(sp, kind="sync point"),
                    time_stamp=self.opt_integer(sp, "timeStamp"),
                    position=position,
                )
            )
        rich = self.internal_file(el, "richTextPath")
        return Transcript(
            guid=guid,
            text=text,
            name=el.get("name"),
            plain_text_path=plain_path,
            rich_text_path=rich[0] if rich else el.get("richTextPath"),
            rich_text=rich[1] if rich else None,
            description=self.description(el),
            sync_points=tuple(sync_points),
            selections=tuple(
                TranscriptSelection(
                    guid=self.guid(s, kind="selection"),
                    name=s.get("name"),
                    from_sync_point=self.opt_guid(s, "fromSyncPoint"),
                    to_sync_point=self.opt_guid(s, "toSyncPoint"),
                    description=self.description(s),
                    codings=self.codings(s),
                    note_refs=self.refs(s, "NoteRef"),
                    **self.stamp(s),
                )
                for s in el.iter_children("TranscriptSelection")
            ),
            note_refs=self.refs(el, "NoteRef"),
            **self.stamp(el),
        )

    def media_source(self, el: Element, kind: MediaKind) -> OtherSource:
        guid = self.guid(el, kind="source")
        internal = self.internal_file(el, "path")
        attrs = MEDIA_POSITION_ATTRIBUTES[kind]
        text_tag = {"Picture": "TextDescription", "PDF": "Representation"}.get(kind)
        return OtherSource(
            kind=kind,
            guid=guid,
            name=el.get("name"),
            path=internal[0] if internal else el.get("path"),
            current_path=el.get("currentPath"),
            data=internal[1] if internal else None,
            description=self.description(el),
            text=self.opt_text(el.child(text_tag)) if text_tag else None,
            transcripts=tuple(self.transcript(t) for t in el.iter_children("Transcript")),
            selections=tuple(
                MediaSelection(
                    guid=self.guid(s, kind="selection"),
                    position={a: self.integer(s, a) for a in attrs},
                    name=s.get("name"),
                    description=self.description(s),
                    representation=self.opt_text(s.child("Representation")),
                    codings=self.codings(s),
                    note_refs=self.refs(s, "NoteRef"),
                    **self.stamp(s),
                )
                for s in el.iter_children(f"{kind}Selection")
            ),
            codings=self.codings(el),
            note_refs=self.refs(el, "NoteRef"),
            values=self.values(el),
            **self.stamp(el),
        )

    def sources(self, el: Element | None) -> tuple[Source, ...]:
        if el is None:
            return ()
        out: list[Source] = []
        for child in el.iter_children():
            if child.tag == "TextSource":
                out.append(self.text_source(child, TextSource, kind="source"))
            elif child.tag.endswith("Source") and child.tag[: -len("Source")] in MEDIA_KINDS:
                kind = cast(MediaKind, child.tag[: -len("Source")])
                out.append(self.media_source(child, kind))
        return tuple(out)

    def sets(self, el: Element | None) -> tuple[Set, ...]:
        """Sets; a member code is ``targetGUID`` in Project.xsd, ``guid`` in Codebook.xsd."""
        if el is None:
            return ()
        out = []
        for s in el.iter_children("Set"):
            member_codes = []
            for m in s.iter_children("MemberCode"):
                attr = "targetGUID" if m.get("targetGUID") is not None else "guid"
                member_codes.append(self.guid(m, attr))
            out.append(
                Set(
                    guid=self.guid(s, kind="set"),
                    name=s.get("name") or "",
                    description=self.description(s),
                    member_code_guids=tuple(member_codes),
                    member_source_guids=self.refs(s, "MemberSource"),
                    member_note_guids=self.refs(s, "MemberNote"),
                )
            )
        return tuple(out)

    def graph(self, el: Element) -> Graph:
        return Graph(
            guid=self.guid(el, kind="graph"),
            name=el.get("name"),
            vertices=tuple(
                Vertex(
                    guid=self.guid(v, kind="vertex"),
                    first_x=self.integer(v, "firstX"),
                    first_y=self.integer(v, "firstY"),
                    represented_guid=self.opt_guid(v, "representedGUID"),
                    name=v.get("name"),
                    second_x=self.opt_integer(v, "secondX"),
                    second_y=self.opt_integer(v, "secondY"),
                    shape=cast(Shape | None, self.choice(v, "shape", _SHAPES)),
                    color=self.color(v),
                )
                for v in el.iter_children("Vertex")
            ),
            edges=tuple(
                Edge(
                    guid=self.guid(e, kind="edge"),
                    source_vertex=self.guid(e, "sourceVertex"),
                    target_vertex=self.guid(e, "targetVertex"),
                    represented_guid=self.opt_guid(e, "representedGUID"),
                    name=e.get("name"),
                    color=self.color(e),
                    direction=cast(Direction | None, self.choice(e, "direction", _DIRECTIONS)),
                    line_style=cast(LineStyle | None, self.choice(e, "lineStyle", _LINE_STYLES)),
                )
                for e in el.iter_children("Edge")
            ),
        )

    def listed(
        self, root: Element, holder: str, tag: str, make: Callable[[Element], T]
    ) -> tuple[T, ...]:
        el = root.child(holder)
        return () if el is None else tuple(make(c) for c in el.iter_children(tag))

    def check_code_refs(self, codes: Iterable[Code]) -> None:
        known = {c.guid for top in codes for c in top.walk()}
        for guid, line in self.coding_refs:
            if guid not in known:
                raise RefiQdaError(
                    f"{self.where} line {line}: a coding refers to code {guid}, which is not "
                    "in the codebook"
                )

    def project(self, root: Element) -> Project:
        if root.tag != "Project":
            raise self.error(root, f"the root element is <{root.tag}>, not <Project>")
        codes = self.codes(root.child("CodeBook"))
        users = self.listed(
            root,
            "Users",
            "User",
            lambda u: User(guid=self.guid(u, kind="user"), name=u.get("name"), id=u.get("id")),
        )
        variables = self.listed(
            root,
            "Variables",
            "Variable",
            lambda v: Variable(
                guid=self.guid(v, kind="variable"),
                name=v.get("name") or "",
                type_of_variable=cast(
                    VariableKind, self.choice(v, "typeOfVariable", VARIABLE_KINDS) or "Text"
                ),
                description=self.description(v),
            ),
        )
        cases = self.listed(
            root,
            "Cases",
            "Case",
            lambda c: Case(
                guid=self.guid(c, kind="case"),
                name=c.get("name"),
                description=self.description(c),
                code_refs=self.refs(c, "CodeRef"),
                values=self.values(c),
                source_refs=self.refs(c, "SourceRef"),
                selection_refs=self.refs(c, "SelectionRef"),
            ),
        )
        sources = self.sources(root.child("Sources"))
        notes = self.listed(root, "Notes", "Note", lambda n: self.text_source(n, Note, kind="note"))
        links = self.listed(
            root,
            "Links",
            "Link",
            lambda link: Link(
                guid=self.guid(link, kind="link"),
                name=link.get("name"),
                direction=cast(Direction | None, self.choice(link, "direction", _DIRECTIONS)),
                color=self.color(link),
                origin_guid=self.opt_guid(link, "originGUID"),
                target_guid=self.opt_guid(link, "targetGUID"),
                note_refs=self.refs(link, "NoteRef"),
            ),
        )
        self.check_code_refs(codes)
        return Project(
            name=root.get("name") or "",
            origin=root.get("origin"),
            users=users,
            codes=codes,
            variables=variables,
            cases=cases,
            sources=sources,
            notes=notes,
            links=links,
            sets=self.sets(root.child("Sets")),
            graphs=self.listed(root, "Graphs", "Graph", self.graph),
            description=self.description(root),
            note_refs=self.refs(root, "NoteRef"),
            base_path=root.get("basePath"),
            creating_user=self.opt_guid(root, "creatingUserGUID"),
            created=self.opt_datetime(root, "creationDateTime"),
            modifying_user=self.opt_guid(root, "modifyingUserGUID"),
            modified=self.opt_datetime(root, "modifiedDateTime"),
        )


def _find_qde(archive: SafeArchive) -> str:
    candidates = [n for n in archive.names() if n.casefold().endswith(".qde")]
    if not candidates:
        raise RefiQdaError(f"{archive.label}: no project file (.qde) in the archive")
    if len(candidates) == 1:
        return candidates[0]
    named = [n for n in candidates if basename(n).casefold() == "project.qde"]
    if len(named) == 1:
        return named[0]
    listing = ", ".join(repr(n) for n in candidates)
    raise RefiQdaError(f"{archive.label}: several project files (.qde) in the archive: {listing}")


def _file_index(archive: SafeArchive, qde: str) -> dict[str, str]:
    """Case-folded file name -> entry, preferring the ``sources`` folder (any case)."""
    index: dict[str, str] = {}
    for name in archive.names():
        if name == qde or name.endswith("/"):
            continue
        parts = name.replace("\\", "/").split("/")
        in_sources = len(parts) == 2 and parts[0].casefold() == "sources"
        key = parts[-1].casefold()
        if in_sources or key not in index:
            index[key] = name
    return index


def read_qdpx(
    source: bytes | str | os.PathLike[str],
    *,
    label: str | None = None,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
    max_ratio: float = MAX_RATIO,
    max_elements: int = MAX_ELEMENTS,
    positions: PositionsOption = "auto",
) -> Project:
    """Read a ``.qdpx`` project exchange file (section 8.1) from bytes or a path.

    ``label`` names the file in error messages (default: the path's name, or
    ``project.qdpx``). The archive is refused, with :class:`RefiQdaError`, when an entry leaves
    it, is a link or is encrypted, when it has more than ``max_files`` entries, unpacks to more
    than ``max_total_bytes`` or has a large entry compressed more than ``max_ratio``:1; the
    ``.qde`` is refused with a DTD or entities, more than ``max_elements`` elements or
    elements nested absurdly deep.
    ``positions`` says how the file counts text positions: ``"codepoints"`` (the standard,
    section 10.2), ``"utf16"`` (NVivo), or ``"auto"``: UTF-16 when the project's ``origin``
    names NVivo, code points otherwise.
    """
    label = _label_of(source, label, "project.qdpx")
    limits = Limits(max_total_bytes=max_total_bytes, max_files=max_files, max_ratio=max_ratio)
    with SafeArchive(source, label=label, limits=limits) as archive:
        qde = _find_qde(archive)
        where = f"{label}: {basename(qde)}"
        root = parse(archive.read(qde), label=where, max_elements=max_elements)
        index = _file_index(archive, qde)

        def lookup(name: str) -> bytes | None:
            entry = index.get(name.casefold())
            return archive.read(entry) if entry is not None else None

        unit = resolve_unit(positions, root.get("origin"))
        return _Reader(where, lookup, unit).project(root)


def read_project_xml(xml: bytes, *, label: str = "project.qde") -> Project:
    """A project from a bare ``.qde`` document whose sources carry their text inline
    (``PlainTextContent``); internal files cannot be resolved without the archive."""
    root = parse(xml, label=label)
    return _Reader(label, None, resolve_unit("auto", root.get("origin"))).project(root)


def read_qdc(
    source: bytes | str | os.PathLike[str],
    *,
    label: str | None = None,
    max_bytes: int = MAX_QDC_BYTES,
) -> Codebook:
    """Read a ``.qdc`` codebook exchange file (Codebook.xsd, section 5.2) from bytes or a path.

    The same XML hardening as for projects applies; a file over ``max_bytes`` is refused.
    """
    label = _label_of(source, label, "codebook.qdc")
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        path = Path(source)
        if path.stat().st_size > max_bytes:
            raise RefiQdaError(f"{label}: larger than the {max_bytes:,} bytes allowed")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise RefiQdaError(f"{label}: larger than the {max_bytes:,} bytes allowed")
    root = parse(data, label=label)
    reader = _Reader(label)
    if root.tag != "CodeBook":
        raise reader.error(root, f"the root element is <{root.tag}>, not <CodeBook>")
    codes = reader.codes(root)
    return Codebook(
        codes=tuple(_without_note_refs(c) for c in codes),
        sets=reader.sets(root.child("Sets")),
        origin=root.get("origin"),
    )


def _without_note_refs(code: Code) -> Code:
    return Code(
        guid=code.guid,
        name=code.name,
        is_codable=code.is_codable,
        color=code.color,
        description=code.description,
        children=tuple(_without_note_refs(c) for c in code.children),
    )
