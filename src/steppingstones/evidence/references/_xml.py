"""Safe, streaming XML reading for the PubMed and EndNote parsers.

The parser is ``defusedxml``'s expat parser with entity declarations and external
references forbidden, so "billion laughs" entity expansion, external entities (XXE) and
external DTD loading are refused. A ``<!DOCTYPE>`` is refused when it carries an internal
subset (``[...]``, where entities and attribute defaults live); a bare public/system
identifier, as on every PubMed export, is allowed, because expat never fetches it.

Records are cut out of the stream as they end: a target builds an element only for each
record (``<PubmedArticle>``, ``<record>``), hands it on with the line where it began and
forgets it, so memory stays flat however many records the file holds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import DefusedXMLParser

from ._context import ParseContext

_CHUNK = 1 << 20


class _SafeParser(DefusedXMLParser):  # type: ignore[misc]
    """Entities and external references forbidden; a DOCTYPE only without internal subset."""

    def __init__(self, target: Any) -> None:
        super().__init__(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)

    def defused_start_doctype_decl(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: int
    ) -> None:
        if has_internal_subset:
            raise DTDForbidden(name, sysid, pubid)


class _RecordTarget:
    """Builds elements only for record tags; records everything else's root tag."""

    def __init__(self, record_tags: frozenset[str], line: Callable[[], int]) -> None:
        self.record_tags = record_tags
        self.line = line
        self.root: str | None = None
        self.done: deque[tuple[Element, int]] = deque()
        self._builder: TreeBuilder | None = None
        self._depth = 0
        self._start_line = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.root is None:
            self.root = tag
        if self._builder is None:
            if tag not in self.record_tags:
                return
            self._builder = TreeBuilder()
            self._depth = 0
            self._start_line = self.line()
        self._depth += 1
        self._builder.start(tag, attrs)

    def end(self, tag: str) -> None:
        if self._builder is None:
            return
        self._builder.end(tag)
        self._depth -= 1
        if self._depth == 0:
            self.done.append((self._builder.close(), self._start_line))
            self._builder = None

    def data(self, text: str) -> None:
        if self._builder is not None:
            self._builder.data(text)

    def close(self) -> None:
        return None


def iter_elements(
    text: str,
    ctx: ParseContext,
    record_tags: frozenset[str],
    check_root: Callable[[str], None],
) -> Iterator[tuple[Element, int]]:
    """Yield ``(element, start_line)`` for each record element of the XML ``text``.

    ``check_root`` is called with the root element's tag as soon as it is seen and raises
    if the document is not of the expected kind. Malformed or hostile XML raises
    :class:`~steppingstones.evidence.references.records.ReferenceFormatError`.
    """
    holder: list[_SafeParser] = []

    def current_line() -> int:
        return int(holder[0].parser.CurrentLineNumber)

    target = _RecordTarget(record_tags, current_line)
    parser = _SafeParser(target)
    holder.append(parser)
    root_checked = False
    try:
        for offset in range(0, max(len(text), 1), _CHUNK):
            parser.feed(text[offset : offset + _CHUNK])
            if not root_checked and target.root is not None:
                check_root(target.root)
                root_checked = True
            while target.done:
                yield target.done.popleft()
        parser.close()
    except ParseError as exc:
        line, column = exc.position
        message = str(exc).split(":")[0]
        raise ctx.error(f"malformed XML: {message} (column {column + 1})", line=line) from None
    except DefusedXmlException as exc:
        raise ctx.error(_hostile_message(exc), line=current_line()) from None
    if not root_checked:
        if target.root is None:
            raise ctx.error("no XML element found")
        check_root(target.root)
    while target.done:
        yield target.done.popleft()


def _hostile_message(exc: DefusedXmlException) -> str:
    kind = type(exc).__name__
    if kind == "DTDForbidden":
        return (
            "refused: the XML has a DOCTYPE with an internal subset ([...]); such "
            "declarations can define entities for entity-expansion ('billion laughs') or "
            "external-entity attacks, and no bibliographic export needs them"
        )
    if kind == "EntitiesForbidden":
        return (
            "refused: the XML declares entities; entity declarations can be used for "
            "entity-expansion ('billion laughs') or external-entity attacks"
        )
    return "refused: the XML refers to an external resource (external entity or DTD)"


def text_of(element: Element | None) -> str | None:
    """All text inside ``element`` (inline markup such as ``<i>`` flattened), stripped."""
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None
