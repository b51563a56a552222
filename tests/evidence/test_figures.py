"""Figures: the forest plot with subgroups and weights, the funnel plot, SVG/PNG/PDF files."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from steppingstones.evidence.figures import FigureError, figure_format, svg_to, write_figure
from steppingstones.evidence.funnel import funnel_svg
from steppingstones.evidence.meta import rma, subgroup_analysis
from steppingstones.evidence.plots import forest_svg
from tests.evidence.test_meta import ALLOC, bcg

SVG = "{http://www.w3.org/2000/svg}"
LABELS = [f"trial {n}" for n in range(1, 14)]


def bcg_forest(**extra: object) -> str:
    es = bcg()
    res = rma(es)
    return forest_svg(
        LABELS,
        list(es.yi),
        list(es.vi),
        estimate=res.estimate,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        tau2=res.tau2,
        pi_low=res.pi_low,
        pi_high=res.pi_high,
        ratio=True,
        measure="RR",
        model="REML model",
        **extra,  # type: ignore[arg-type]
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 -- our own generated SVG, not untrusted input


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(SVG + "text")]


def test_forest_is_accessible_with_a_weight_column() -> None:
    root = parse(bcg_forest())
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    title, desc = root.find(SVG + "title"), root.find(SVG + "desc")
    assert title is not None and (title.text or "").startswith("Forest plot of RR: trial 1 0.41")
    assert desc is not None and "percent of the total weight" in (desc.text or "")
    shown = texts(root)
    assert "Weight" in shown and "100%" in shown
    weights = [float(t[:-1]) for t in shown if re.fullmatch(r"\d+\.\d%", t)]
    assert len(weights) == 13 and sum(weights) == pytest.approx(100, abs=0.1)
    # Weights are 1/(vi + tau2) of the REML model: trial 8 (vi 0.0040) weighs most.
    assert weights.index(max(weights)) == 7
    assert len(root.findall(SVG + "polygon")) == 1  # one diamond


def test_forest_with_subgroups_headings_diamonds_and_test() -> None:
    es = bcg()
    split = subgroup_analysis(es, groups=ALLOC)
    svg = bcg_forest(
        groups=ALLOC,
        subgroups=split.results,
        subgroup_test=(split.q_between, split.q_between_df, split.q_between_p),
    )
    root = parse(svg)
    shown = texts(root)
    for name in ("random", "alternate", "systematic"):
        assert name in shown
    assert "Subgroup random (k = 7)" in shown and "Subgroup systematic (k = 4)" in shown
    assert len(root.findall(SVG + "polygon")) == 4  # 3 subgroup diamonds + overall
    assert "Test for subgroup differences: Q = 1.86, df = 2, p = 0.394" in shown
    desc = root.find(SVG + "desc")
    assert desc is not None and "random (k = 7) 0.38 [0.22, 0.65]" in (desc.text or "")
    # Studies are listed under their heading, in order of first appearance.
    order = [t for t in shown if t.startswith("trial ") or t in ("alternate", "systematic")]
    assert order[:8] == ["trial 1", "trial 2", "trial 3", "trial 4", "trial 7", "trial 8",
                         "trial 9", "alternate"]  # fmt: skip
    # Subgroup weight shares add up to 100%.
    shares = [float(shown[i + 2][:-1]) for i, t in enumerate(shown) if t.startswith("Subgroup ")]
    assert len(shares) == 3 and sum(shares) == pytest.approx(100, abs=0.15)


def test_forest_escapes_labels_and_refuses_bad_input() -> None:
    es = bcg()
    res = rma(es)
    labels = ["<b>&'\"", *LABELS[1:]]
    svg = forest_svg(
        labels, list(es.yi), list(es.vi), estimate=res.estimate, ci_low=res.ci_low,
        ci_high=res.ci_high,
    )  # fmt: skip
    assert "<b>&'\"" in texts(parse(svg))
    with pytest.raises(ValueError, match="different lengths"):
        forest_svg(["a"], [0.1, 0.2], [0.1, 0.1], estimate=0, ci_low=0, ci_high=0)
    with pytest.raises(ValueError, match="row 2"):
        forest_svg(["a", "b"], [0.1, 0.2], [0.1, 0.0], estimate=0, ci_low=0, ci_high=0)
    with pytest.raises(ValueError, match="no pooled result for subgroup 'random'"):
        bcg_forest(groups=ALLOC, subgroups={})
    with pytest.raises(ValueError, match="weights"):
        bcg_forest(weights=[1.0])


def test_funnel_ratio_axis_uses_round_ratios() -> None:
    es = bcg()
    root = parse(funnel_svg(list(es.yi), list(es.vi), -0.7145, contours=True, ratio=True))
    assert {"0.1", "0.2", "0.5", "1", "2", "5"} <= set(texts(root))


def test_svg_to_svg_png_pdf() -> None:
    svg = bcg_forest()
    assert svg_to(svg, "svg") == svg.encode("utf-8")
    png = svg_to(svg, "PNG")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    root = parse(svg)
    assert (width, height) == (2 * int(root.get("width", "0")), 2 * int(root.get("height", "0")))
    pdf = svg_to(svg, ".pdf")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    es = bcg()
    funnel = funnel_svg(list(es.yi), list(es.vi), -0.7145, contours=True)
    assert svg_to(funnel, "png").startswith(b"\x89PNG")
    with pytest.raises(FigureError, match="unknown figure format"):
        svg_to(svg, "gif")
    with pytest.raises(FigureError, match="could not be rendered"):
        svg_to("<svg", "png")


def test_figure_format_and_write_figure(tmp_path) -> None:
    assert [figure_format(f"a.{s}") for s in ("svg", "PNG", "pdf")] == ["svg", "png", "pdf"]
    with pytest.raises(FigureError, match=r"plot\.jpg: a figure file must end in"):
        figure_format("out/plot.jpg")
    with pytest.raises(FigureError, match="no suffix"):
        figure_format("plot")
    svg = bcg_forest()
    assert write_figure(tmp_path / "f.pdf", svg) == "pdf"
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    write_figure(tmp_path / "f.svg", svg)
    assert (tmp_path / "f.svg").read_text(encoding="utf-8") == svg
