"""Figures as files: the SVG that ``plots`` and ``funnel`` draw, or PNG / PDF made from it.

``svg_to(svg, fmt)`` returns the bytes of the figure in ``"svg"``, ``"png"`` or ``"pdf"``;
PNG and PDF are rendered from the SVG by CairoSVG (which needs the cairo library), so the
three formats show the same figure.  ``figure_format(path)`` picks the format from a file
name's suffix and ``write_figure(path, svg)`` writes the file.  Only the SVG carries the
accessible ``<title>`` and ``<desc>`` (a text alternative); PNG and PDF are pictures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["FORMATS", "FigureError", "figure_format", "svg_to", "write_figure"]

FORMATS: Final = ("svg", "png", "pdf")
#: PNG pixels per SVG user unit: 2 gives a sharp image on high-density screens and in print.
PNG_SCALE: Final = 2.0


class FigureError(ValueError):
    """A figure that cannot be written in the format asked for (one line, for the user)."""


def figure_format(path: str | Path) -> str:
    """The format named by a file's suffix: ``"svg"``, ``"png"`` or ``"pdf"``."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise FigureError(
            f"{Path(path).name}: a figure file must end in .svg, .png or .pdf "
            f"(got {'.' + suffix if suffix else 'no suffix'})"
        )
    return suffix


def svg_to(svg: str, fmt: str, *, scale: float = PNG_SCALE) -> bytes:
    """The figure ``svg`` as bytes in ``fmt`` (``"svg"``, ``"png"`` or ``"pdf"``).

    SVG is returned as UTF-8 unchanged.  PNG (``scale`` pixels per SVG unit, on a white
    background as drawn) and PDF (vector, page the size of the figure) are rendered by
    CairoSVG with external resources disabled (its default ``unsafe=False``).  Raises
    :class:`FigureError` for an unknown format, an SVG that cannot be rendered, or when
    CairoSVG or the cairo library is missing.
    """
    key = str(fmt).lower().lstrip(".")
    if key not in FORMATS:
        raise FigureError(f"unknown figure format {fmt!r}: use svg, png or pdf")
    if key == "svg":
        return svg.encode("utf-8")
    try:
        import cairosvg
    except (ImportError, OSError) as error:  # OSError: libcairo itself is missing
        raise FigureError(
            f"{key.upper()} figures need CairoSVG and the cairo library "
            f"(pip install cairosvg): {error}"
        ) from error
    data = svg.encode("utf-8")
    try:
        if key == "png":
            out = cairosvg.svg2png(bytestring=data, scale=scale)
        else:
            out = cairosvg.svg2pdf(bytestring=data)
    except Exception as error:  # cairosvg raises parser and rendering errors of many types
        raise FigureError(f"the figure could not be rendered as {key.upper()}: {error}") from error
    if not isinstance(out, bytes):  # pragma: no cover - cairosvg returns bytes without write_to
        raise FigureError(f"the figure could not be rendered as {key.upper()}")
    return out


def write_figure(path: str | Path, svg: str) -> str:
    """Write ``svg`` to ``path`` in the format of its suffix; returns the format."""
    fmt = figure_format(path)
    Path(path).write_bytes(svg_to(svg, fmt))
    return fmt
