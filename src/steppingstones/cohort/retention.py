"""Retention through the waves: who was interviewed, missed, withdrew or was lost, by site.

Plain data in, plain data (and an SVG flow diagram) out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

Outcome = Literal["interviewed", "missed", "withdrawn", "lost", "pending", "not applicable"]
OUTCOMES: tuple[Outcome, ...] = (
    "interviewed",
    "missed",
    "withdrawn",
    "lost",
    "pending",
    "not applicable",
)
_FROM_INTERVIEW: dict[str, Outcome] = {
    "done": "interviewed",
    "missed": "missed",
    "declined": "missed",
    "withdrawn": "withdrawn",
    "lost": "lost",
    "booked": "pending",
}


@dataclass(frozen=True)
class WomanRecord:
    site_code: str
    status: str  # active, withdrawn, lost, completed
    interviews: Mapping[int, str] = field(default_factory=dict)  # wave number -> status
    # Waves she could never do: closed before she was recruited, or overtaken by an early birth.
    not_applicable: frozenset[int] = frozenset()


def wave_outcome(woman: WomanRecord, wave: int) -> Outcome:
    """One woman at one wave. With no interview row, her own status decides."""
    if wave in woman.interviews:
        return _FROM_INTERVIEW.get(woman.interviews[wave], "pending")
    if wave in woman.not_applicable:
        return "not applicable"
    if woman.status == "withdrawn":
        return "withdrawn"
    if woman.status == "lost":
        return "lost"
    return "pending"


@dataclass(frozen=True)
class RetentionRow:
    site_code: str  # "" for all sites
    wave: int
    recruited: int
    counts: Mapping[Outcome, int]

    @property
    def not_applicable(self) -> int:
        return self.counts["not applicable"]


def retention_table(
    women: Iterable[WomanRecord], waves: Sequence[int], sites: Sequence[str]
) -> list[RetentionRow]:
    """Rows per site and wave, then the all-sites total for each wave."""
    everyone = list(women)
    rows = []
    for site in [*sites, ""]:
        group = [w for w in everyone if not site or w.site_code == site]
        for wave in waves:
            counts = Counter(wave_outcome(w, wave) for w in group)
            rows.append(
                RetentionRow(site, wave, len(group), {o: counts.get(o, 0) for o in OUTCOMES})
            )
    return rows


def interviews_done(women: Iterable[WomanRecord]) -> int:
    return sum(1 for w in women for status in w.interviews.values() if status == "done")


COLOURS = {
    "interviewed": "#1b6b3a",
    "missed": "#b35c00",
    "withdrawn": "#8a1c1c",
    "lost": "#555560",
    "pending": "#9db4c8",
    "not applicable": "#e2e2e6",
}


def stacked_bars_svg(rows: Sequence[RetentionRow], wave_names: Mapping[int, str]) -> str:
    """One bar per wave (all sites), split by outcome; with a title and legend as text."""
    totals = [row for row in rows if row.site_code == ""]
    width, left, bar_height, gap = 900, 240, 26, 12
    height = len(totals) * (bar_height + gap) + 50
    plot = width - left - 20
    summary = "; ".join(
        f"wave {row.wave}: " + ", ".join(f"{o} {row.counts[o]}" for o in OUTCOMES) for row in totals
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>Outcome at each wave, all sites — {escape(summary)}</title>",
    ]
    for index, row in enumerate(totals):
        y = 10 + index * (bar_height + gap)
        label = escape(f"{row.wave}. {wave_names.get(row.wave, '')}")
        parts.append(
            f'<text x="{left - 8}" y="{y + bar_height / 2}" text-anchor="end" '
            f'dominant-baseline="middle">{label}</text>'
        )
        x = float(left)
        for outcome in OUTCOMES:
            share = row.counts[outcome] / row.recruited if row.recruited else 0
            segment = plot * share
            if segment > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{segment:.1f}" height="{bar_height}" '
                    f'fill="{COLOURS[outcome]}"/>'
                )
                if segment > 22:
                    colour = "#111" if outcome in ("pending", "not applicable") else "#fff"
                    parts.append(
                        f'<text x="{x + segment / 2:.1f}" y="{y + bar_height / 2}" '
                        f'fill="{colour}" text-anchor="middle" dominant-baseline="middle">'
                        f"{row.counts[outcome]}</text>"
                    )
            x += segment
    legend_y = height - 22
    x = float(left)
    for outcome in OUTCOMES:
        parts.append(
            f'<rect x="{x:.0f}" y="{legend_y}" width="14" height="14" fill="{COLOURS[outcome]}"/>'
            f'<text x="{x + 18:.0f}" y="{legend_y + 11}">{outcome}</text>'
        )
        x += {"interviewed": 110, "not applicable": 120}.get(outcome, 100)
    parts.append("</svg>")
    return "".join(parts)


def flow_svg(rows: Sequence[RetentionRow], wave_names: Mapping[int, str]) -> str:
    """A CONSORT-style flow: recruited, then per wave the women still taking part and those who
    left (withdrew or were lost) by then."""
    totals = [row for row in rows if row.site_code == ""]
    if not totals:
        return ""
    box_w, box_h, step = 360, 54, 84
    width, height = 640, 30 + step * (len(totals) + 1)
    recruited = totals[0].recruited
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart flow" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        "<title>Flow of women through the waves: "
        + escape(
            f"recruited {recruited}; "
            + "; ".join(
                f"wave {r.wave} interviewed {r.counts['interviewed']}, "
                f"left so far {r.counts['withdrawn'] + r.counts['lost']}"
                for r in totals
            )
        )
        + "</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
    ]

    def box(x: int, y: int, lines: list[str], fill: str) -> None:
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{fill}" '
            f'stroke="#333"/>'
        )
        for i, line in enumerate(lines):
            parts.append(
                f'<text x="{x + box_w / 2}" y="{y + 22 + i * 18}" text-anchor="middle">'
                f"{escape(line)}</text>"
            )

    box(20, 10, ["Recruited in pregnancy", f"{recruited} women"], "#e8f1f7")
    for index, row in enumerate(totals, start=1):
        y = 10 + index * step
        parts.append(
            f'<line x1="170" y1="{y - step + box_h}" x2="170" y2="{y}" stroke="#333" '
            f'marker-end="url(#arrow)"/>'
        )
        gone = row.counts["withdrawn"] + row.counts["lost"]
        box(
            20,
            y,
            [
                f"Wave {row.wave}: {wave_names.get(row.wave, '')}",
                f"interviewed {row.counts['interviewed']} · missed {row.counts['missed']}"
                f" · pending {row.counts['pending']} · n/a {row.counts['not applicable']}",
            ],
            "#ffffff",
        )
        if gone:
            parts.append(
                f'<line x1="{20 + box_w}" y1="{y + box_h / 2}" x2="418" '
                f'y2="{y + box_h / 2}" stroke="#333" marker-end="url(#arrow)"/>'
            )
            parts.append(
                f'<rect x="420" y="{y + 8}" width="200" height="38" rx="6" fill="#fbeaea" '
                f'stroke="#8a1c1c"/><text x="520" y="{y + 32}" text-anchor="middle">'
                f"withdrawn {row.counts['withdrawn']} · lost {row.counts['lost']}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
