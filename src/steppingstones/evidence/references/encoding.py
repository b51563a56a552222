"""Decide how the bytes of an export are encoded, and decode them.

Databases write their exports in whatever their platform prefers: UTF-8 (PubMed, Scopus),
UTF-8 with a byte-order mark (Embase, Web of Science), UTF-16 with a byte-order mark
(EndNote on Windows, some Ovid exports), and Windows-1252 / Latin-1 from older tools.
Nothing in the file states which, so the detector looks at the bytes, in this order:

1. A byte-order mark names the encoding outright: UTF-32 LE/BE (checked before UTF-16,
   whose little-endian mark is a prefix of UTF-32's), UTF-8 (``"utf-8-sig"``), UTF-16 LE/BE.
2. No mark, but a NUL byte in most even (or odd) positions of the first kilobytes: UTF-16
   BE (or LE) without a mark. Text in the other encodings here never holds NUL bytes.
3. The whole file decodes as strict UTF-8: ``"utf-8"`` (plain ASCII is reported as UTF-8,
   which it also is). Text in a legacy 8-bit encoding almost never forms valid UTF-8
   sequences by accident, so this test is a reliable one.
4. Otherwise Windows-1252 (``"cp1252"``), the superset of Latin-1 that Windows tools write;
   if the file uses one of the five bytes cp1252 leaves undefined, ISO-8859-1
   (``"latin-1"``), which maps every byte and so never fails.

The name returned is a Python codec name, so ``data.decode(name)`` gives the same text.
"""

from __future__ import annotations

import codecs

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_LENGTH = {"utf-32-le": 4, "utf-32-be": 4, "utf-8-sig": 3, "utf-16-le": 2, "utf-16-be": 2}
_SAMPLE = 4096


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:_SAMPLE]
    pairs = len(sample) // 2
    if pairs < 2 or b"\x00" not in sample:
        return None
    even_nuls = sample[0 : pairs * 2 : 2].count(0)
    odd_nuls = sample[1 : pairs * 2 : 2].count(0)
    if odd_nuls > 0.4 * pairs and even_nuls < 0.1 * pairs:
        return "utf-16-le"
    if even_nuls > 0.4 * pairs and odd_nuls < 0.1 * pairs:
        return "utf-16-be"
    return None


def detect_encoding(data: bytes) -> str:
    """The codec name of ``data``'s encoding (see the module docstring for the rules)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    utf16 = _utf16_without_bom(data)
    if utf16:
        return utf16
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    With ``encoding`` given, that codec is used strictly (a ``UnicodeDecodeError`` or
    ``LookupError`` propagates); otherwise :func:`detect_encoding` picks it. A byte-order
    mark never reaches the text.
    """
    name = encoding or detect_encoding(data)
    body, codec = data, name
    if encoding is None and name in _BOM_LENGTH and data.startswith(_bom_of(name)):
        body = data[_BOM_LENGTH[name] :]
        codec = "utf-8" if name == "utf-8-sig" else name
    text = body.decode(codec)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, name


def _bom_of(name: str) -> bytes:
    for bom, bom_name in _BOMS:
        if bom_name == name:
            return bom
    return b""
