"""The plain project model of a REFI-QDA exchange (no Django, no I/O).

Every element the REFI-QDA 1.5 Project schema (``Project.xsd``) carries has a field here, so
that import followed by export loses nothing the format carries. The classes are frozen
dataclasses compared by value: ``read_qdpx(write_qdpx(p)) == p`` for every project ``p`` read
from a ``.qdpx`` file.

Conventions (applied by the reader, assumed by the writer):

* GUIDs are canonical: 36 characters, upper case, no braces (the schema allows both cases
  and braces; ``{5215cc69-...}`` becomes ``5215CC69-...``).
* Date-times are :class:`datetime.datetime` (timezone-aware when the file said so); the
  writer emits ISO 8601 (``xsd:dateTime``) in UTC with ``Z``.
* Text positions (:attr:`PlainTextSelection.start`, :attr:`PlainTextSelection.end`,
  :attr:`SyncPoint.position`) are Unicode code points from the start of the plain text,
  the first code point being 0 (standard section 10.2, "Text selections"), with the end
  exclusive, so ``source.text[sel.start:sel.end]`` is the selected text. See
  :mod:`steppingstones.voices.refiqda.positions` for NVivo's UTF-16 dialect.
* Texts are kept exactly as the plain-text file holds them after UTF-8 decoding: a
  ``\\r\\n`` line end is two code points. Only a leading byte-order mark is dropped (it is the
  encoding signature, not text; section 9.1.2 says the file is UTF-8).
* Internal files are referenced as ``internal://<GUID>.<ext>`` and carried with their bytes,
  so rich text (``.docx``), PDFs, pictures, audio and video survive a
  round trip. External ones (``relative://``, ``absolute://``, section 8.3) keep their path
  and have no bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

VariableKind = Literal["Text", "Boolean", "Integer", "Float", "Date", "DateTime"]
"""``typeOfVariableType`` in Project.xsd."""

VARIABLE_KINDS: tuple[VariableKind, ...] = (
    "Text",
    "Boolean",
    "Integer",
    "Float",
    "Date",
    "DateTime",
)

Value = str | bool | int | Decimal | dt.date | dt.datetime | None
"""A variable value: ``TextValue`` str, ``BooleanValue`` bool, ``IntegerValue`` int,
``FloatValue`` Decimal (``xsd:decimal``), ``DateValue`` date, ``DateTimeValue`` datetime, or
None when the ``VariableValue`` carries no value element."""

MediaKind = Literal["Picture", "PDF", "Audio", "Video"]
"""The non-text source kinds: ``PictureSource``, ``PDFSource``, ``AudioSource``,
``VideoSource``."""

MEDIA_KINDS: tuple[MediaKind, ...] = ("Picture", "PDF", "Audio", "Video")

MEDIA_POSITION_ATTRIBUTES: dict[MediaKind, tuple[str, ...]] = {
    "Picture": ("firstX", "firstY", "secondX", "secondY"),
    "PDF": ("page", "firstX", "firstY", "secondX", "secondY"),
    "Audio": ("begin", "end"),
    "Video": ("begin", "end"),
}
"""The required integer attributes of each media selection (pixels, PDF points or ms)."""

Direction = Literal["Associative", "OneWay", "Bidirectional"]
Shape = Literal[
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
]
LineStyle = Literal["dotted", "dashed", "solid"]


@dataclass(frozen=True)
class User:
    guid: str
    name: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Code:
    guid: str
    name: str
    is_codable: bool = True
    color: str | None = None
    description: str | None = None
    note_refs: tuple[str, ...] = ()
    children: tuple[Code, ...] = ()

    def walk(self) -> Iterator[Code]:
        """This code and all its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Coding:
    """The application of a code to a selection or a whole source."""

    guid: str
    code_guid: str
    creating_user: str | None = None
    created: dt.datetime | None = None
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlainTextSelection:
    """A span of a plain text: code points ``start`` (inclusive) to ``end`` (exclusive)."""

    guid: str
    start: int
    end: int
    name: str | None = None
    description: str | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[str, ...] = ()
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None


@dataclass(frozen=True)
class VariableValue:
    variable_guid: str
    value: Value = None


@dataclass(frozen=True)
class TextSource:
    """A ``TextSource`` (also the type of notes, transcriptions' text descriptions and PDF
    representations): a plain text, optionally with its rich-text original (``.docx``)."""

    guid: str
    text: str
    name: str | None = None
    plain_text_path: str | None = None
    rich_text_path: str | None = None
    rich_text: bytes | None = field(default=None, repr=False)
    description: str | None = None
    selections: tuple[PlainTextSelection, ...] = ()
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[str, ...] = ()
    values: tuple[VariableValue, ...] = ()
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None


@dataclass(frozen=True)
class Note(TextSource):
    """A note (memo): a text source in the project's ``Notes``. ``plain_text_path`` is None
    when the text travels inside the XML (``PlainTextContent``)."""


@dataclass(frozen=True)
class MediaSelection:
    """A selection of a picture or PDF page (rectangle) or of audio or video (ms range).

    ``position`` holds the kind's integer attributes, :data:`MEDIA_POSITION_ATTRIBUTES`.
    """

    guid: str
    position: dict[str, int]
    name: str | None = None
    description: str | None = None
    representation: TextSource | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[str, ...] = ()
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None


@dataclass(frozen=True)
class SyncPoint:
    guid: str
    time_stamp: int | None = None
    position: int | None = None


@dataclass(frozen=True)
class TranscriptSelection:
    guid: str
    name: str | None = None
    from_sync_point: str | None = None
    to_sync_point: str | None = None
    description: str | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[str, ...] = ()
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None


@dataclass(frozen=True)
class Transcript:
    guid: str
    text: str
    name: str | None = None
    plain_text_path: str | None = None
    rich_text_path: str | None = None
    rich_text: bytes | None = field(default=None, repr=False)
    description: str | None = None
    sync_points: tuple[SyncPoint, ...] = ()
    selections: tuple[TranscriptSelection, ...] = ()
    note_refs: tuple[str, ...] = ()
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None


@dataclass(frozen=True)
class OtherSource:
    """A picture, PDF, audio or video source, with its file when internal.

    ``path`` is the ``path`` attribute: ``internal://...`` with the file's bytes in ``data``,
    or an external ``relative://`` or ``absolute://`` path (``data`` None). ``text`` is the
    picture's ``TextDescription`` or the PDF's ``Representation`` (the text PDF selections
    count in).
    """

    kind: MediaKind
    guid: str
    name: str | None = None
    path: str | None = None
    current_path: str | None = None
    data: bytes | None = field(default=None, repr=False)
    description: str | None = None
    text: TextSource | None = None
    transcripts: tuple[Transcript, ...] = ()
    selections: tuple[MediaSelection, ...] = ()
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[str, ...] = ()
    values: tuple[VariableValue, ...] = ()
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None


Source = TextSource | OtherSource


@dataclass(frozen=True)
class Variable:
    guid: str
    name: str
    type_of_variable: VariableKind
    description: str | None = None


@dataclass(frozen=True)
class Case:
    """A case (a person, a site...) grouping sources and selections, with variable values.

    ``values`` refers to variables by GUID (names need not be unique); see
    :meth:`Project.case_values` for a name-keyed view.
    """

    guid: str
    name: str | None = None
    description: str | None = None
    code_refs: tuple[str, ...] = ()
    values: tuple[VariableValue, ...] = ()
    source_refs: tuple[str, ...] = ()
    selection_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Set:
    guid: str
    name: str
    description: str | None = None
    member_code_guids: tuple[str, ...] = ()
    member_source_guids: tuple[str, ...] = ()
    member_note_guids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    guid: str
    name: str | None = None
    direction: Direction | None = None
    color: str | None = None
    origin_guid: str | None = None
    target_guid: str | None = None
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vertex:
    guid: str
    first_x: int
    first_y: int
    represented_guid: str | None = None
    name: str | None = None
    second_x: int | None = None
    second_y: int | None = None
    shape: Shape | None = None
    color: str | None = None


@dataclass(frozen=True)
class Edge:
    guid: str
    source_vertex: str
    target_vertex: str
    represented_guid: str | None = None
    name: str | None = None
    color: str | None = None
    direction: Direction | None = None
    line_style: LineStyle | None = None


@dataclass(frozen=True)
class Graph:
    guid: str
    name: str | None = None
    vertices: tuple[Vertex, ...] = ()
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True)
class Project:
    """A whole REFI-QDA project (``Project`` element of Project.xsd).

    ``origin`` is the software that wrote the file that was read (``NVivo for Windows 12.6``);
    the writer states its own origin instead, see :func:`~.writer.write_qdpx`.
    """

    name: str
    origin: str | None = None
    users: tuple[User, ...] = ()
    codes: tuple[Code, ...] = ()
    variables: tuple[Variable, ...] = ()
    cases: tuple[Case, ...] = ()
    sources: tuple[Source, ...] = ()
    notes: tuple[Note, ...] = ()
    links: tuple[Link, ...] = ()
    sets: tuple[Set, ...] = ()
    graphs: tuple[Graph, ...] = ()
    description: str | None = None
    note_refs: tuple[str, ...] = ()
    base_path: str | None = None
    creating_user: str | None = None
    created: dt.datetime | None = None
    modifying_user: str | None = None
    modified: dt.datetime | None = None

    def all_codes(self) -> Iterator[Code]:
        """Every code of the codebook, depth first."""
        for code in self.codes:
            yield from code.walk()

    @property
    def text_sources(self) -> tuple[TextSource, ...]:
        return tuple(s for s in self.sources if isinstance(s, TextSource))

    def codings(self) -> Iterator[tuple[TextSource, PlainTextSelection, Coding]]:
        """Every coding of a plain-text selection, with its source and selection."""
        for source in self.text_sources:
            for selection in source.selections:
                for coding in selection.codings:
                    yield source, selection, coding

    def case_values(self, case: Case) -> dict[str, Value]:
        """The case's values keyed by variable name (the GUID when the variable is unknown)."""
        names = {v.guid: v.name for v in self.variables}
        return {names.get(v.variable_guid, v.variable_guid): v.value for v in case.values}

    def codebook(self) -> Codebook:
        """The codebook part (codes, and the sets that have member codes, codes only)."""
        sets = tuple(
            Set(
                guid=s.guid,
                name=s.name,
                description=s.description,
                member_code_guids=s.member_code_guids,
            )
            for s in self.sets
            if s.member_code_guids
        )
        return Codebook(codes=self.codes, sets=sets, origin=self.origin)


@dataclass(frozen=True)
class Codebook:
    """A codebook exchanged on its own as ``.qdc`` (``CodeBook`` element of Codebook.xsd).

    Its sets carry only member codes; a code's note references are not part of Codebook.xsd.
    """

    codes: tuple[Code, ...] = ()
    sets: tuple[Set, ...] = ()
    origin: str | None = None

    def all_codes(self) -> Iterator[Code]:
        for code in self.codes:
            yield from code.walk()
