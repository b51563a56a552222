"""Text positions: Unicode code points (the standard) and UTF-16 code units (NVivo).

REFI-QDA 1.5, section 10.2 "Text selections": "Selections in a text file are defined by the
first and the last character (Unicode codepoint) in the file. The first codepoint in the file
has the number 0 (zero)." The end position is exclusive (``endPosition`` is the code point
after the last selected one), so in Python ``text[start:end]`` is the selection: in Annex A.2
(ATLAS.ti's example project) the selection named "Oh, that was great. See you tomorrow? Eleven
thirty. Mm." (56 characters) runs from 139 to 195, and "I did try the gluten free bread, but
it was always so soggy," (60) from 215 to 275. The standard gives no special rule for line
ends, so the characters of the plain-text file count as they are: a CRLF line end is two code
points. A byte-order mark is the UTF-8 encoding signature (section 9.1.2 requires UTF-8), not
a character of the text, and is not counted.

NVivo's dialect: NVivo (a .NET program) writes positions in UTF-16 code units. In both real
NVivo 12.6 exports the project tests use (``oltas0517.qdpx``, ``oltas_teszt.qdpx``, YouTube
comments with 892 emoji outside the Basic Multilingual Plane), reading the positions as UTF-16
units of the BOM-less text with CRLF kept puts 300 of 303 (and 327 of 330) selections on word
boundaries, the rest being mid-word selections a person made; reading them as code points puts
49 of 303 there, and counting the BOM or folding CRLF is worse still. Each emoji before a
selection shifts it by one more unit, so the difference grows along the text. The reader
converts such positions to code points (``positions="auto"`` does it when ``origin`` names
NVivo); the writer writes code points, or UTF-16 units on request.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Literal

PositionUnit = Literal["codepoints", "utf16"]
PositionsOption = Literal["auto", "codepoints", "utf16"]


def is_nvivo(origin: str | None) -> bool:
    """Whether a project's ``origin`` names NVivo (whose positions are UTF-16 code units)."""
    return origin is not None and "nvivo" in origin.casefold()


def resolve_unit(positions: PositionsOption, origin: str | None) -> PositionUnit:
    """The unit ``positions`` means for a file whose ``origin`` is given: ``"auto"`` is
    UTF-16 for NVivo, code points for everyone else."""
    if positions == "auto":
        return "utf16" if is_nvivo(origin) else "codepoints"
    return positions


class PositionMap:
    """Converts positions in one text between code points and UTF-16 code units."""

    def __init__(self, text: str) -> None:
        self._length = len(text)
        # Code point index of every character outside the BMP (two UTF-16 units each).
        self._astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
        # UTF-16 offset of each such character.
        self._astral_units = [i + n for n, i in enumerate(self._astral)]

    @property
    def utf16_length(self) -> int:
        return self._length + len(self._astral)

    def to_utf16(self, codepoint: int) -> int:
        """The UTF-16 offset of code point offset ``codepoint``."""
        return codepoint + bisect_left(self._astral, codepoint)

    def from_utf16(self, unit: int) -> int | None:
        """The code point offset of UTF-16 offset ``unit``; None inside a surrogate pair."""
        before = bisect_left(self._astral_units, unit)  # pairs starting before ``unit``
        if before and self._astral_units[before - 1] == unit - 1:
            return None  # ``unit`` is the second half of that pair
        return unit - before  # each whole pair before it is one code point in two units
