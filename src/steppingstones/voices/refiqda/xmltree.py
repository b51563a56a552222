"""A hardened XML parser giving a small element tree with line numbers.

REFI-QDA files never need a document type declaration, so any ``<!DOCTYPE``, and with it every
entity declaration (the "billion laughs" expansion attack) and every external entity or DTD
(file disclosure, network access), is refused before anything is expanded or fetched. This is
what ``defusedxml`` does, done on expat directly so that each element keeps the line it starts
on for error messages ("project.qde line 12: ...").

Names are matched on their local part: the namespace is ignored, since exporters disagree on
it (the standard's ``urn:QDA-XML:project:1.0`` is the usual one, some write none).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

MAX_DEPTH = 256
"""Elements nested deeper than this are refused (real code hierarchies are a few levels)."""
MAX_ELEMENTS = 1_000_000
"""Default limit on the number of elements in one document (about 100,000 codings)."""


class RefiQdaError(ValueError):
    """A REFI-QDA file that cannot be read (or a project that cannot be written), with a
    message fit to show the person who gave the file."""


@dataclass(slots=True)
class Element:
    """One element: local name, attributes (local names), text and children."""

    tag: str
    attrib: dict[str, str]
    line: int
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def get(self, name: str) -> str | None:
        return self.attrib.get(name)

    def iter_children(self, *tags: str) -> Iterator[Element]:
        for child in self.children:
            if not tags or child.tag in tags:
                yield child

    def child(self, tag: str) -> Element | None:
        return next(self.iter_children(tag), None)


def _local(name: str) -> str:
    return name.rsplit("\x1f", 1)[-1]


def parse(data: bytes, *, label: str, max_elements: int = MAX_ELEMENTS) -> Element:
    """Parse XML bytes (any BOM and encoding declaration honoured) into a tree.

    Raises :class:`RefiQdaError` naming ``label`` and the line for malformed XML, for any
    DTD, entity declaration or external entity reference, for elements nested more than
    :data:`MAX_DEPTH` deep and for more than ``max_elements`` elements.
    """
    parser = expat.ParserCreate(namespace_separator="\x1f")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    root: list[Element] = []
    count = 0

    def refuse(what: str) -> None:
        raise RefiQdaError(
            f"{label} line {parser.CurrentLineNumber}: {what} is not allowed in a REFI-QDA "
            "file (entity expansion and external entities are refused)"
        )

    def start_doctype(name: str, sysid: str | None, pubid: str | None, internal: int) -> None:
        refuse("a document type declaration (<!DOCTYPE>)")

    def entity_decl(name: str, *args: object) -> None:
        refuse(f"an entity declaration ({name})")

    def external_ref(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
        refuse(f"an external entity reference ({sysid or pubid})")
        return 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > max_elements:
            raise RefiQdaError(
                f"{label} line {parser.CurrentLineNumber}: more than {max_elements:,} elements"
            )
        if len(stack) >= MAX_DEPTH:
            raise RefiQdaError(
                f"{label} line {parser.CurrentLineNumber}: elements nested more than "
                f"{MAX_DEPTH} deep"
            )
        element = Element(
            _local(name),
            {_local(k): v for k, v in attrs.items()},
            parser.CurrentLineNumber,
        )
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(name: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text_parts.append(data)

    parser.StartDoctypeDeclHandler = start_doctype
    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = entity_decl
    parser.ExternalEntityRefHandler = external_ref
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages[exc.code]
        raise RefiQdaError(f"{label} line {exc.lineno}: not well-formed XML ({message})") from None
    if not root:
        raise RefiQdaError(f"{label}: no XML element")
    return root[0]
