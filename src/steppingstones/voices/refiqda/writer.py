"""Exporting the model as a ``.qdpx`` project or a ``.qdc`` codebook.

The archive holds ``project.qde`` and a flat ``Sources/`` folder (the folder name NVivo,
ATLAS.ti and the standard's Annex A example use; section 8.1 writes it ``sources``, and
importers are expected to accept both): each text source's plain text as
``Sources/<GUID>.txt`` in UTF-8 without a byte-order mark, and every other internal file
(rich text, PDF, picture, audio, video) under its ``internal://`` name. GUIDs are written in
canonical upper case, date-times in ISO 8601 UTC, elements in the order of Project.xsd.
The output is deterministic: the same project gives the same bytes.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from decimal import Decimal

from .model import (
    MEDIA_POSITION_ATTRIBUTES,
    Code,
    Codebook,
    Coding,
    Note,
    OtherSource,
    PlainTextSelection,
    Project,
    Set,
    TextSource,
    Transcript,
    Value,
    VariableValue,
)
from .positions import PositionMap, PositionsOption, PositionUnit, resolve_unit
from .reader import canonical_guid
from .xmltree import RefiQdaError

EXPORT_ORIGIN = "Stepping Stones"
"""The ``origin`` the writer states by default."""

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SOURCES_FOLDER = "Sources"
MAX_INTERNAL_FILE = 2**31 - 1
"""Section 8.5: the largest internal file, in bytes."""

_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

Attrs = Iterable[tuple[str, object]]


def _check_chars(value: str) -> str:
    bad = _XML_ILLEGAL.search(value)
    if bad:
        raise RefiQdaError(
            f"cannot export: the text {value[:40]!r} contains U+{ord(bad.group()):04X}, "
            "which XML cannot carry"
        )
    return value


def _escape_text(value: str) -> str:
    _check_chars(value)
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _escape_attr(value: str) -> str:
    return _escape_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _encode_text(text: str, owner: str) -> bytes:
    """A plain text as UTF-8 without a BOM; a text that itself starts with U+FEFF gets one,
    since readers drop a leading BOM (so the character survives)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RefiQdaError(
            f"cannot export {owner}: its text is not valid Unicode ({exc})"
        ) from None
    return codecs.BOM_UTF8 + data if text.startswith("\ufeff") else data


def _xml_safe(value: str) -> bool:
    return _XML_ILLEGAL.search(value) is None


def _guid(value: str) -> str:
    guid = canonical_guid(value)
    if guid is None:
        raise RefiQdaError(f"cannot export: {value!r} is not a GUID")
    return guid


def _datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + ("Z" if value.tzinfo is not None else "")


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise RefiQdaError(f"cannot export: {value} is not a finite number")
    return format(value, "f")


def _attr_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _datetime(value)
    return str(value)


class _Xml:
    """A tiny indenting XML writer."""

    def __init__(self) -> None:
        self.lines: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
        self.depth = 0

    @staticmethod
    def _tag(tag: str, attrs: Attrs) -> str:
        parts = [tag]
        for name, value in attrs:
            if value is not None:
                parts.append(f'{name}="{_escape_attr(_attr_value(value))}"')
        return " ".join(parts)

    def open(self, tag: str, attrs: Attrs = ()) -> None:
        self.lines.append("  " * self.depth + f"<{self._tag(tag, attrs)}>")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.lines.append("  " * self.depth + f"</{tag}>")

    def empty(self, tag: str, attrs: Attrs = ()) -> None:
        self.lines.append("  " * self.depth + f"<{self._tag(tag, attrs)}/>")

    def leaf(self, tag: str, text: str | None, attrs: Attrs = ()) -> None:
        if text is None:
            return
        self.lines.append(
            "  " * self.depth + f"<{self._tag(tag, attrs)}>{_escape_text(text)}</{tag}>"
        )

    def refs(self, tag: str, guids: Iterable[str], attr: str = "targetGUID") -> None:
        for guid in guids:
            self.empty(tag, [(attr, _guid(guid))])

    def bytes(self) -> bytes:
        return ("\n".join(self.lines) + "\n").encode("utf-8")


def _stamp(item: object) -> list[tuple[str, object]]:
    return [
        ("creatingUser", _opt_guid(getattr(item, "creating_user", None))),
        ("creationDateTime", getattr(item, "created", None)),
        ("modifyingUser", _opt_guid(getattr(item, "modifying_user", None))),
        ("modifiedDateTime", getattr(item, "modified", None)),
    ]


def _opt_guid(value: str | None) -> str | None:
    return _guid(value) if value is not None else None


class _ProjectWriter:
    def __init__(self, unit: PositionUnit) -> None:
        self.xml = _Xml()
        self.files: dict[str, bytes] = {}
        self.unit = unit

    # -- files ---------------------------------------------------------------------------

    def add_file(self, path: str, data: bytes, owner: str) -> str:
        """Store ``data`` as internal file ``path``; returns the canonical ``internal://`` path."""
        if not path.casefold().startswith("internal://"):
            raise RefiQdaError(f"cannot export {owner}: {path!r} is not an internal:// path")
        name = path[len("internal://") :]
        stem, dot, ext = name.rpartition(".")
        guid = canonical_guid(stem) if dot else None
        if guid is not None:
            name = f"{guid}.{ext}"
        if not _FILE_NAME.fullmatch(name):
            raise RefiQdaError(f"cannot export {owner}: {path!r} is not a safe file name")
        if len(data) > MAX_INTERNAL_FILE:
            raise RefiQdaError(
                f"cannot export {owner}: its file is larger than the 2,147,483,647 bytes "
                "REFI-QDA allows (section 8.5)"
            )
        key = name.casefold()
        previous = next((n for n in self.files if n.casefold() == key), None)
        if previous is not None and self.files[previous] != data:
            raise RefiQdaError(f"cannot export {owner}: {name} is used for two different files")
        self.files.setdefault(previous or name, data)
        return f"internal://{previous or name}"

    def file_attr(self, path: str | None, data: bytes | None, owner: str) -> str | None:
        if data is None:
            return path  # external (relative:// or absolute://) or absent
        if path is None:
            raise RefiQdaError(f"cannot export {owner}: a file without a path")
        return self.add_file(path, data, owner)

    # -- positions -----------------------------------------------------------------------

    def position(self, pmap: PositionMap | None, value: int) -> int:
        return pmap.to_utf16(value) if pmap is not None else value

    def position_map(self, text: str) -> PositionMap | None:
        return PositionMap(text) if self.unit == "utf16" else None

    # -- elements ------------------------------------------------------------------------

    def code(self, code: Code, *, note_refs: bool = True) -> None:
        x = self.xml
        attrs = [
            ("guid", _guid(code.guid)),
            ("name", code.name),
            ("isCodable", code.is_codable),
            ("color", code.color),
        ]
        has_body = code.description is not None or code.children or (note_refs and code.note_refs)
        if not has_body:
            x.empty("Code", attrs)
            return
        x.open("Code", attrs)
        x.leaf("Description", code.description)
        if note_refs:
            x.refs("NoteRef", code.note_refs)
        for child in code.children:
            self.code(child, note_refs=note_refs)
        x.close("Code")

    def coding(self, coding: Coding) -> None:
        x = self.xml
        x.open(
            "Coding",
            [
                ("guid", _guid(coding.guid)),
                ("creatingUser", _opt_guid(coding.creating_user)),
                ("creationDateTime", coding.created),
            ],
        )
        x.empty("CodeRef", [("targetGUID", _guid(coding.code_guid))])
        x.refs("NoteRef", coding.note_refs)
        x.close("Coding")

    def values(self, values: Iterable[VariableValue]) -> None:
        x = self.xml
        for item in values:
            x.open("VariableValue")
            x.empty("VariableRef", [("targetGUID", _guid(item.variable_guid))])
            tag, text = _value(item.value)
            if tag is not None:
                x.leaf(tag, text)
            x.close("VariableValue")

    def text_selection(self, sel: PlainTextSelection, pmap: PositionMap | None) -> None:
        x = self.xml
        x.open(
            "PlainTextSelection",
            [
                ("guid", _guid(sel.guid)),
                ("name", sel.name),
                ("startPosition", self.position(pmap, sel.start)),
                ("endPosition", self.position(pmap, sel.end)),
                *_stamp(sel),
            ],
        )
        x.leaf("Description", sel.description)
        for coding in sel.codings:
            self.coding(coding)
        x.refs("NoteRef", sel.note_refs)
        x.close("PlainTextSelection")

    def text_source(self, source: TextSource, tag: str) -> None:
        x = self.xml
        owner = f"{tag} {source.name or source.guid}"
        guid = _guid(source.guid)
        for sel in source.selections:
            if not 0 <= sel.start <= sel.end <= len(source.text):
                raise RefiQdaError(
                    f"cannot export {owner}: selection {sel.guid} spans {sel.start}-{sel.end}, "
                    f"outside its text of {len(source.text)} characters"
                )
        # A note's text travels in the XML unless it has a file or XML cannot carry it.
        inline = (
            isinstance(source, Note) and source.plain_text_path is None and _xml_safe(source.text)
        )
        plain = None
        if not inline:
            plain = self.add_file(
                source.plain_text_path or f"internal://{guid}.txt",
                _encode_text(source.text, owner),
                owner,
            )
        x.open(
            tag,
            [
                ("guid", guid),
                ("name", source.name),
                ("richTextPath", self.file_attr(source.rich_text_path, source.rich_text, owner)),
                ("plainTextPath", plain),
                *_stamp(source),
            ],
        )
        x.leaf("Description", source.description)
        if inline:
            x.leaf("PlainTextContent", source.text)
        pmap = self.position_map(source.text)
        for sel in source.selections:
            self.text_selection(sel, pmap)
        for coding in source.codings:
            self.coding(coding)
        x.refs("NoteRef", source.note_refs)
        self.values(source.values)
        x.close(tag)

    def transcript(self, transcript: Transcript) -> None:
        x = self.xml
        owner = f"transcript {transcript.name or transcript.guid}"
        plain = None
        if transcript.plain_text_path is not None or not _xml_safe(transcript.text):
            plain = self.add_file(
                transcript.plain_text_path or f"internal://{_guid(transcript.guid)}.txt",
                _encode_text(transcript.text, owner),
                owner,
            )
        rich = self.file_attr(transcript.rich_text_path, transcript.rich_text, owner)
        x.open(
            "Transcript",
            [
                ("guid", _guid(transcript.guid)),
                ("name", transcript.name),
                ("richTextPath", rich),
                ("plainTextPath", plain),
                *_stamp(transcript),
            ],
        )
        x.leaf("Description", transcript.description)
        if plain is None:
            x.leaf("PlainTextContent", transcript.text)
        pmap = self.position_map(transcript.text)
        for sp in transcript.sync_points:
            position = sp.position
            if position is not None:
                position = self.position(pmap, position)
            x.empty(
                "SyncPoint",
                [("guid", _guid(sp.guid)), ("timeStamp", sp.time_stamp), ("position", position)],
            )
        for sel in transcript.selections:
            x.open(
                "TranscriptSelection",
                [
                    ("guid", _guid(sel.guid)),
                    ("name", sel.name),
                    ("fromSyncPoint", _opt_guid(sel.from_sync_point)),
                    ("toSyncPoint", _opt_guid(sel.to_sync_point)),
                    *_stamp(sel),
                ],
            )
            x.leaf("Description", sel.description)
            for coding in sel.codings:
                self.coding(coding)
            x.refs("NoteRef", sel.note_refs)
            x.close("TranscriptSelection")
        x.refs("NoteRef", transcript.note_refs)
        x.close("Transcript")

    def media_source(self, source: OtherSource) -> None:
        x = self.xml
        tag = f"{source.kind}Source"
        owner = f"{tag} {source.name or source.guid}"
        x.open(
            tag,
            [
                ("guid", _guid(source.guid)),
                ("name", source.name),
                ("path", self.file_attr(source.path, source.data, owner)),
                ("currentPath", source.current_path),
                *_stamp(source),
            ],
        )
        x.leaf("Description", source.description)
        if source.kind == "Picture" and source.text is not None:
            self.text_source(source.text, "TextDescription")
        for transcript in source.transcripts:
            self.transcript(transcript)
        attrs = MEDIA_POSITION_ATTRIBUTES[source.kind]
        for sel in source.selections:
            missing = [a for a in attrs if a not in sel.position]
            if missing:
                raise RefiQdaError(
                    f"cannot export {owner}: selection {sel.guid} has no {', '.join(missing)}"
                )
            x.open(
                f"{source.kind}Selection",
                [
                    ("guid", _guid(sel.guid)),
                    ("name", sel.name),
                    *((a, sel.position[a]) for a in attrs),
                    *_stamp(sel),
                ],
            )
            x.leaf("Description", sel.description)
            if source.kind == "PDF" and sel.representation is not None:
                self.text_source(sel.representation, "Representation")
            for coding in sel.codings:
                self.coding(coding)
            x.refs("NoteRef", sel.note_refs)
            x.close(f"{source.kind}Selection")
        if source.kind == "PDF" and source.text is not None:
            self.text_source(source.text, "Representation")
        for coding in source.codings:
            self.coding(coding)
        x.refs("NoteRef", source.note_refs)
        self.values(source.values)
        x.close(tag)

    def sets(self, sets: Iterable[Set]) -> None:
        x = self.xml
        for item in sets:
            x.open("Set", [("guid", _guid(item.guid)), ("name", item.name)])
            x.leaf("Description", item.description)
            x.refs("MemberCode", item.member_code_guids)
            x.refs("MemberSource", item.member_source_guids)
            x.refs("MemberNote", item.member_note_guids)
            x.close("Set")

    def project(self, project: Project, origin: str) -> bytes:
        x = self.xml
        x.open(
            "Project",
            [
                ("xmlns", PROJECT_NS),
                ("name", project.name),
                ("origin", origin),
                ("creatingUserGUID", _opt_guid(project.creating_user)),
                ("creationDateTime", project.created),
                ("modifyingUserGUID", _opt_guid(project.modifying_user)),
                ("modifiedDateTime", project.modified),
                ("basePath", project.base_path),
            ],
        )
        if project.users:
            x.open("Users")
            for user in project.users:
                x.empty("User", [("guid", _guid(user.guid)), ("name", user.name), ("id", user.id)])
            x.close("Users")
        if project.codes:
            x.open("CodeBook")
            x.open("Codes")
            for code in project.codes:
                self.code(code)
            x.close("Codes")
            x.close("CodeBook")
        if project.variables:
            x.open("Variables")
            for var in project.variables:
                attrs = [
                    ("guid", _guid(var.guid)),
                    ("name", var.name),
                    ("typeOfVariable", var.type_of_variable),
                ]
                if var.description is None:
                    x.empty("Variable", attrs)
                else:
                    x.open("Variable", attrs)
                    x.leaf("Description", var.description)
                    x.close("Variable")
            x.close("Variables")
        if project.cases:
            x.open("Cases")
            for case in project.cases:
                x.open("Case", [("guid", _guid(case.guid)), ("name", case.name)])
                x.leaf("Description", case.description)
                x.refs("CodeRef", case.code_refs)
                self.values(case.values)
                x.refs("SourceRef", case.source_refs)
                x.refs("SelectionRef", case.selection_refs)
                x.close("Case")
            x.close("Cases")
        if project.sources:
            x.open("Sources")
            for source in project.sources:
                if isinstance(source, TextSource):
                    self.text_source(source, "TextSource")
                else:
                    self.media_source(source)
            x.close("Sources")
        if project.notes:
            x.open("Notes")
            for note in project.notes:
                self.text_source(note, "Note")
            x.close("Notes")
        if project.links:
            x.open("Links")
            for link in project.links:
                x.open(
                    "Link",
                    [
                        ("guid", _guid(link.guid)),
                        ("name", link.name),
                        ("direction", link.direction),
                        ("color", link.color),
                        ("originGUID", _opt_guid(link.origin_guid)),
                        ("targetGUID", _opt_guid(link.target_guid)),
                    ],
                )
                x.refs("NoteRef", link.note_refs)
                x.close("Link")
            x.close("Links")
        if project.sets:
            x.open("Sets")
            self.sets(project.sets)
            x.close("Sets")
        if project.graphs:
            x.open("Graphs")
            for graph in project.graphs:
                x.open("Graph", [("guid", _guid(graph.guid)), ("name", graph.name)])
                for v in graph.vertices:
                    x.empty(
                        "Vertex",
                        [
                            ("guid", _guid(v.guid)),
                            ("representedGUID", _opt_guid(v.represented_guid)),
                            ("name", v.name),
                            ("firstX", v.first_x),
                            ("firstY", v.first_y),
                            ("secondX", v.second_x),
                            ("secondY", v.second_y),
                            ("shape", v.shape),
                            ("color", v.color),
                        ],
                    )
                for e in graph.edges:
                    x.empty(
                        "Edge",
                        [
                            ("guid", _guid(e.guid)),
                            ("representedGUID", _opt_guid(e.represented_guid)),
                            ("name", e.name),
                            ("sourceVertex", _guid(e.source_vertex)),
                            ("targetVertex", _guid(e.target_vertex)),
                            ("color", e.color),
                            ("direction", e.direction),
                            ("lineStyle", e.line_style),
                        ],
                    )
                x.close("Graph")
            x.close("Graphs")
        x.leaf("Description", project.description)
        x.refs("NoteRef", project.note_refs)
        x.close("Project")
        return x.bytes()


def _value(value: Value) -> tuple[str | None, str]:
    if value is None:
        return None, ""
    if isinstance(value, bool):
        return "BooleanValue", "true" if value else "false"
    if isinstance(value, int):
        return "IntegerValue", str(value)
    if isinstance(value, Decimal):
        return "FloatValue", _decimal(value)
    if isinstance(value, float):
        return "FloatValue", _decimal(Decimal(repr(value)))
    if isinstance(value, dt.datetime):
        return "DateTimeValue", _datetime(value)
    if isinstance(value, dt.date):
        return "DateValue", value.isoformat()
    return "TextValue", str(value)


def project_xml(
    project: Project, *, origin: str = EXPORT_ORIGIN, positions: PositionsOption = "auto"
) -> tuple[bytes, dict[str, bytes]]:
    """The ``project.qde`` document and the internal files (name in ``Sources/`` -> bytes)."""
    writer = _ProjectWriter(resolve_unit(positions, origin))
    xml = writer.project(project, origin)
    return xml, writer.files


def write_qdpx(
    project: Project, *, origin: str = EXPORT_ORIGIN, positions: PositionsOption = "auto"
) -> bytes:
    """The project as a ``.qdpx`` archive (section 8.1).

    ``origin`` is written as the project's origin: the file is this program's export, whoever
    made the project first (:attr:`Project.origin` says who wrote the file last read).
    Positions are written as Unicode code points (section 10.2), or as UTF-16 code units with
    ``positions="utf16"``; ``"auto"`` picks UTF-16 only when ``origin`` names NVivo, the
    rule :func:`~.reader.read_qdpx` reads by, so any export reads back as it was meant.

    Raises :class:`RefiQdaError` for what the format cannot carry (a control character in a
    name, a selection outside its text, a malformed GUID, two different files under one
    name).
    """
    xml, files = project_xml(project, origin=origin, positions=positions)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in [("project.qde", xml)] + [
            (f"{SOURCES_FOLDER}/{n}", files[n]) for n in sorted(files)
        ]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_qdc(codebook: Codebook, *, origin: str = EXPORT_ORIGIN) -> bytes:
    """The codebook as a ``.qdc`` document (Codebook.xsd). Codes' note references are not
    part of Codebook.xsd and are left out."""
    if not codebook.codes:
        raise RefiQdaError("cannot export a codebook without codes (Codebook.xsd needs one)")
    writer = _ProjectWriter("codepoints")
    x = writer.xml
    x.open("CodeBook", [("xmlns", CODEBOOK_NS), ("origin", origin)])
    x.open("Codes")
    for code in codebook.codes:
        writer.code(code, note_refs=False)
    x.close("Codes")
    if codebook.sets:
        x.open("Sets")
        for item in codebook.sets:
            x.open("Set", [("guid", _guid(item.guid)), ("name", item.name)])
            x.leaf("Description", item.description)
            x.refs("MemberCode", item.member_code_guids, attr="guid")
            x.close("Set")
        x.close("Sets")
    x.close("CodeBook")
    return x.bytes()
