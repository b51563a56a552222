"""Journey maps drawn as SVG on the server, with the same journey as an ordered text list.

A map runs from conception to 18 months after the birth (and a little beyond, so that the
18-month interview shows). The birth always sits at the same place, so maps drawn one above
another line up at the birth. The first six weeks after the birth, when most neonatal,
discharge and safeguarding events happen, are drawn wider than the rest (the scale is
piecewise linear, and the ticks say so).

Each service present gets a lane. Milestones are symbols (booking a circle, birth a star,
discharge a square, separation a downward and reunification an upward triangle, any other a
diamond), contacts small rings, periods bars (an arrow where no end is recorded). Approximate
dates are drawn with a dashed, hollow symbol and whiskers across the uncertainty, ranges with
capped whiskers. Her experience of an event is a coloured mark above it whose shape also says
which experience it is (never colour alone); each mark carries her quote as its ``<title>`` and,
on the page, is a link to the same event in the text list, so it can be reached by keyboard.

Plain data only: :class:`Journey` in, SVG text out. :func:`composite` merges several journeys
into one anonymised illustrative path.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from html import escape

from steppingstones.journeys.timeline import days_label

AXIS_START = -294  # 42 weeks before the birth: conception of the longest pregnancies
AXIS_END = 609  # 87 weeks after the birth: the 18-month interview window closes at 86 weeks
EIGHTEEN_MONTHS = 548
_BREAKS = ((AXIS_START, 0.0), (0, 0.42), (42, 0.60), (AXIS_END, 1.0))

WIDTH = 1120
LEFT = 190
RIGHT = 20
PLOT = WIDTH - LEFT - RIGHT
TOP = 78
ROW = 20
INK = "#1b1f3b"
MUTED = "#55586b"

SERVICE_ORDER = (
    ("maternity", "Maternity"),
    ("drug-treatment", "Drug treatment"),
    ("mental-health", "Mental health"),
    ("social-care", "Social care"),
    ("legal", "Courts and legal"),
    ("neonatal", "Neonatal"),
    ("health-visiting", "Health visiting"),
    ("housing", "Housing"),
    ("third-sector", "Third sector and advocacy"),
    ("residential", "Residential treatment"),
)
SERVICE_NAMES = dict(SERVICE_ORDER)

# Experience: (label, colour, shape, glyph). Colours have at least 4.5:1 contrast on white.
EXPERIENCES: dict[str, tuple[str, str, str, str]] = {
    "helpful": ("Helpful", "#1a7f37", "circle", "+"),
    "unhelpful": ("Unhelpful", "#a34d00", "triangle", "−"),
    "stigmatising": ("Stigmatising", "#b3261e", "square", "!"),
    "distressing": ("Distressing", "#6f3fa0", "diamond", "×"),
    "mixed": ("Mixed", "#1f5fa8", "hexagon", "~"),
    "neutral": ("Neutral", "#55586b", "circle-open", "·"),
    "": ("Quote", "#55586b", "circle-open", "“"),
}

MILESTONE_SYMBOLS = {
    "booking": "circle",
    "birth": "star",
    "discharge-infant": "square",
    "discharge-mother": "square",
    "separation": "triangle-down",
    "reunification": "triangle-up",
}


@dataclass(frozen=True)
class MapEvent:
    """One event placed on a journey: ``day`` (from the birth) is where its mark goes, ``low``
    and ``high`` the uncertainty of an approximate or ranged date, ``end`` a period's end."""

    key: str
    code: str
    name: str
    service: str
    shape: str  # milestone, contact, period
    day: int
    when: str
    service_name: str = ""
    low: int | None = None
    high: int | None = None
    end: int | None = None
    precision: str = "exact"
    date_text: str = ""
    experience: str = ""
    quote: str = ""
    role: str = ""
    certainty: str = "certain"
    source: str = ""
    infant: str = ""
    note: str = ""
    women: int = 0  # composite journeys: how many women had it
    experiences: tuple[tuple[str, int], ...] = ()  # composite journeys: counts


@dataclass(frozen=True)
class WaveMark:
    label: str
    day: int
    name: str


@dataclass(frozen=True)
class Journey:
    title: str
    events: tuple[MapEvent, ...]
    waves: tuple[WaveMark, ...] = ()
    born: bool = True
    gestation_at_birth: int = 280
    subtitle: str = ""


@dataclass(frozen=True)
class TextItem:
    key: str
    when: str
    headline: str
    details: tuple[str, ...] = field(default_factory=tuple)


def x_at(day: float) -> float:
    """The x coordinate of a timeline day (clamped to the axis)."""
    day = max(AXIS_START, min(AXIS_END, day))
    for (d0, f0), (d1, f1) in itertools.pairwise(_BREAKS):
        if day <= d1:
            return round(LEFT + PLOT * (f0 + (f1 - f0) * (day - d0) / (d1 - d0)), 1)
    return float(LEFT + PLOT)  # pragma: no cover - the clamp keeps day on the axis


# --- the text alternative --------------------------------------------------------------------


def experience_label(code: str) -> str:
    return EXPERIENCES.get(code, EXPERIENCES[""])[0] if code else ""


def text_items(journey: Journey) -> list[TextItem]:
    """The journey as an ordered list: when, what, and everything the map shows about it."""
    items = []
    for event in journey.events:
        service = event.service_name or SERVICE_NAMES.get(event.service, event.service)
        headline = f"{event.name} ({service}"
        headline += f", {event.role})" if event.role else ")"
        details = []
        if event.date_text:
            details.append(f"Date: {event.date_text}")
        if event.end is not None:
            details.append(f"Until: {days_label(event.end, journey.gestation_at_birth)}")
        elif event.shape == "period" and not event.women:
            details.append("Until: no end recorded")
        if event.infant:
            details.append(f"Infant: {event.infant}")
        if event.women:
            details.append(f"Women with this event: {event.women}")
        if event.experiences:
            details.append(
                "Experiences: "
                + ", ".join(f"{experience_label(k).lower()} {n}" for k, n in event.experiences)
            )
        elif event.experience:
            details.append(f"Her experience: {experience_label(event.experience).lower()}")
        if event.quote:
            details.append(f"In her words: “{event.quote}”")
        if event.certainty and event.certainty != "certain":
            details.append(f"Certainty: {event.certainty}")
        if event.source:
            details.append(f"Source: {event.source}")
        if event.note:
            details.append(f"Note: {event.note}")
        items.append(TextItem(event.key, event.when, headline, tuple(details)))
    return items


def text_lines(journey: Journey) -> list[str]:
    """The text alternative as plain lines (for files and tests)."""
    return [
        f"{n}. {item.when}: {item.headline}"
        + (f". {'. '.join(item.details)}" if item.details else "")
        for n, item in enumerate(text_items(journey), start=1)
    ]


# --- drawing -------------------------------------------------------------------------------


def _symbol(kind: str, cx: float, cy: float, size: float, attrs: str) -> str:
    s = size
    if kind == "circle":
        return f'<circle cx="{cx}" cy="{cy}" r="{s}" {attrs}/>'
    if kind == "circle-open":
        return f'<circle cx="{cx}" cy="{cy}" r="{s}" {attrs}/>'
    if kind == "square":
        return f'<rect x="{cx - s}" y="{cy - s}" width="{2 * s}" height="{2 * s}" {attrs}/>'
    if kind == "diamond":
        pts = f"{cx},{cy - s * 1.3} {cx + s * 1.3},{cy} {cx},{cy + s * 1.3} {cx - s * 1.3},{cy}"
        return f'<polygon points="{pts}" {attrs}/>'
    if kind in ("triangle", "triangle-up"):
        pts = f"{cx},{cy - s * 1.3} {cx + s * 1.2},{cy + s} {cx - s * 1.2},{cy + s}"
        return f'<polygon points="{pts}" {attrs}/>'
    if kind == "triangle-down":
        pts = f"{cx},{cy + s * 1.3} {cx + s * 1.2},{cy - s} {cx - s * 1.2},{cy - s}"
        return f'<polygon points="{pts}" {attrs}/>'
    if kind == "hexagon":
        h = s * 0.87
        pts = (
            f"{cx - s},{cy} {cx - s / 2},{cy - h} {cx + s / 2},{cy - h} "
            f"{cx + s},{cy} {cx + s / 2},{cy + h} {cx - s / 2},{cy + h}"
        )
        return f'<polygon points="{pts}" {attrs}/>'
    if kind == "star":
        points = []
        for i in range(10):
            r = s * 1.5 if i % 2 == 0 else s * 0.65
            angle = math.pi / 2 + i * math.pi / 5
            points.append(f"{cx + r * math.cos(angle):.1f},{cy - r * math.sin(angle):.1f}")
        return f'<polygon points="{" ".join(points)}" {attrs}/>'
    raise ValueError(kind)


def _event_symbol(event: MapEvent) -> str:
    if event.shape == "milestone":
        return MILESTONE_SYMBOLS.get(event.code, "diamond")
    return "circle-open"


def _lanes(journey: Journey) -> list[str]:
    present = {e.service for e in journey.events}
    ordered = [code for code, _ in SERVICE_ORDER if code in present]
    return ordered + sorted(present - set(ordered))


def _stack(events: Sequence[MapEvent]) -> dict[str, int]:
    """A sub-row for each event of a lane so that marks (and bars) do not overlap."""
    rows: list[float] = []
    placed = {}
    for event in sorted(events, key=lambda e: (e.low if e.low is not None else e.day, e.key)):
        left = x_at(event.low if event.low is not None else event.day) - 9
        right_day = max(d for d in (event.day, event.high, event.end) if d is not None)
        right = x_at(right_day) + 9
        if event.shape == "period" and event.end is None and not event.women:
            right = LEFT + PLOT
        for index, edge in enumerate(rows):
            if left > edge:
                rows[index] = right
                placed[event.key] = index
                break
        else:
            rows.append(right)
            placed[event.key] = len(rows) - 1
    return placed


def _quote_title(event: MapEvent) -> str:
    label = experience_label(event.experience)
    text = f"{event.name}, {event.when}"
    if event.experiences:
        text += ": " + ", ".join(f"{experience_label(k).lower()} {n}" for k, n in event.experiences)
    elif label:
        text += f": {label.lower()}"
    if event.quote:
        text += f". “{event.quote}”"
    return text


def _render(journey: Journey, prefix: str, interactive: bool) -> tuple[str, int]:
    lanes = _lanes(journey)
    by_lane: dict[str, list[MapEvent]] = {lane: [] for lane in lanes}
    for event in journey.events:
        by_lane[event.service].append(event)
    stacks = {lane: _stack(events) for lane, events in by_lane.items()}
    heights = {lane: 34 + ROW * (max(stacks[lane].values(), default=0) + 1) for lane in lanes}
    lanes_height = sum(heights.values()) or 40
    legend_top = TOP + lanes_height + 34
    height = legend_top + 112
    parts: list[str] = []
    add = parts.append
    add(f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>')
    title = f"Journey of {journey.title}"
    add(
        f'<text x="{LEFT}" y="22" font-size="17" font-weight="700" fill="{INK}">'
        f"{escape(title)}</text>"
    )
    if journey.subtitle:
        add(
            f'<text x="{LEFT}" y="40" font-size="12" fill="{MUTED}">'
            f"{escape(journey.subtitle)}</text>"
        )
    top, bottom = TOP, TOP + lanes_height
    conception = -journey.gestation_at_birth
    # Pregnancy shading and the axis ticks.
    add(
        f'<rect x="{x_at(conception)}" y="{top}" width="{x_at(0) - x_at(conception)}" '
        f'height="{lanes_height}" fill="#f3eef8"/>'
    )
    add(
        f'<rect x="{x_at(EIGHTEEN_MONTHS)}" y="{top}" '
        f'width="{x_at(AXIS_END) - x_at(EIGHTEEN_MONTHS)}" height="{lanes_height}" fill="#f2f2f2"/>'
    )
    ticks: list[tuple[int, str]] = [(conception, "Conception")]
    for weeks in range(8, 44, 8):
        day = weeks * 7 - journey.gestation_at_birth
        if conception < day < -10:
            ticks.append((day, f"{weeks} wk"))
    ticks.append((0, "Birth" if journey.born else "Due date"))
    ticks += [(14, "2 wk"), (42, "6 wk")]
    ticks += [(round(m * 30.44), f"{m} m") for m in (3, 6, 9, 12, 15, 18)]
    for day, label in ticks:
        x = x_at(day)
        add(f'<line x1="{x}" y1="{top - 8}" x2="{x}" y2="{bottom}" stroke="#c9c9d3"/>')
        add(
            f'<text x="{x}" y="{top - 12}" font-size="11" text-anchor="middle" fill="{MUTED}">'
            f"{escape(label)}</text>"
        )
    add(
        f'<text x="{(x_at(conception) + x_at(0)) / 2}" y="{top - 30}" font-size="12" '
        f'text-anchor="middle" fill="{INK}">Pregnancy (weeks of gestation)</text>'
    )
    add(
        f'<text x="{(x_at(0) + x_at(AXIS_END)) / 2}" y="{top - 30}" font-size="12" '
        f'text-anchor="middle" fill="{INK}">After the birth (age; first 6 weeks drawn wider)'
        "</text>"
    )
    # Lanes.
    y = top
    lane_top = {}
    for index, lane in enumerate(lanes):
        lane_top[lane] = y
        fill = "#ffffff" if index % 2 == 0 else "#f7f8fb"
        add(
            f'<rect x="{LEFT}" y="{y}" width="{PLOT}" height="{heights[lane]}" fill="{fill}" '
            f'fill-opacity="0.55" stroke="#d7d9e2"/>'
        )
        add(
            f'<text x="{LEFT - 10}" y="{y + heights[lane] / 2 + 4}" font-size="13" '
            f'text-anchor="end" fill="{INK}">{escape(SERVICE_NAMES.get(lane, lane))}</text>'
        )
        y += heights[lane]
    # Birth line and interview waves.
    add(
        f'<line x1="{x_at(0)}" y1="{top - 8}" x2="{x_at(0)}" y2="{bottom}" stroke="{INK}" '
        'stroke-width="2"/>'
    )
    for wave in journey.waves:
        x = x_at(wave.day)
        add(
            f'<g class="wave"><title>{escape(wave.name)}</title>'
            f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom + 6}" stroke="#1f5fa8" '
            'stroke-width="1.5" stroke-dasharray="5 3"/>'
            f'<text x="{x}" y="{bottom + 19}" font-size="11" text-anchor="middle" '
            f'fill="#1f5fa8">{escape(wave.label)}</text></g>'
        )
    # Events.
    for lane in lanes:
        for event in sorted(by_lane[lane], key=lambda e: (e.day, e.key)):
            cy = lane_top[lane] + 24 + ROW * stacks[lane][event.key]
            add(_draw_event(event, cy, prefix, interactive))
    add(_legend(legend_top))
    return "".join(parts), height


def _draw_event(event: MapEvent, cy: float, prefix: str, interactive: bool) -> str:
    x = x_at(event.day)
    fuzzy = event.precision in ("approximate", "range") or event.certainty == "uncertain"
    out = [f'<g class="event" data-event="{escape(event.key)}">']
    label = f"{event.name}, {event.when}"
    out.append(f"<title>{escape(label)}</title>")
    if event.shape == "period":
        start = x_at(event.day if event.low is None else event.low)
        if event.end is not None:
            end = x_at(event.end)
            open_ended = False
        else:
            end = LEFT + PLOT if not event.women else x_at(event.day + 7)
            open_ended = not event.women
        width = max(end - start, 4)
        out.append(
            f'<rect x="{start}" y="{cy - 5}" width="{width}" height="10" rx="2" fill="{INK}" '
            f'fill-opacity="0.35" stroke="{INK}"'
            + (' stroke-dasharray="4 2"' if fuzzy or open_ended else "")
            + "/>"
        )
        if open_ended:
            out.append(
                f'<polygon points="{end},{cy - 8} {end + 8},{cy} {end},{cy + 8}" fill="{INK}"/>'
            )
    if event.low is not None and event.high is not None and event.high > event.low:
        x0, x1 = x_at(event.low), x_at(event.high)
        out.append(
            f'<line x1="{x0}" y1="{cy}" x2="{x1}" y2="{cy}" stroke="{INK}" stroke-width="1.5"/>'
        )
        cap = 6 if event.precision == "range" else 3
        for edge in (x0, x1):
            out.append(
                f'<line x1="{edge}" y1="{cy - cap}" x2="{edge}" y2="{cy + cap}" stroke="{INK}" '
                'stroke-width="1.5"/>'
            )
    if event.shape != "period":
        symbol = _event_symbol(event)
        size = 3.5 if symbol == "circle-open" else 6
        fill = "#ffffff" if fuzzy or symbol == "circle-open" else INK
        attrs = f'fill="{fill}" stroke="{INK}" stroke-width="2"'
        if fuzzy:
            attrs += ' stroke-dasharray="3 2"'
        out.append(_symbol(symbol, x, cy, size, attrs))
    out.append("</g>")
    if event.experience or event.quote or event.experiences:
        out.append(_experience_mark(event, x, cy - 13, prefix, interactive))
    return "".join(out)


def _experience_mark(event: MapEvent, x: float, y: float, prefix: str, interactive: bool) -> str:
    code = event.experience if event.experience in EXPERIENCES else ""
    if event.experiences:
        code = event.experiences[0][0]
    _label, colour, shape, glyph = EXPERIENCES[code]
    title = _quote_title(event)
    fill = "#ffffff" if shape == "circle-open" else colour
    glyph_fill = colour if shape == "circle-open" else "#ffffff"
    body = (
        f"<title>{escape(title)}</title>"
        + _symbol(shape, x, y, 6.5, f'fill="{fill}" stroke="{colour}" stroke-width="2"')
        + f'<text x="{x}" y="{y + 4}" font-size="11" font-weight="700" text-anchor="middle" '
        f'fill="{glyph_fill}" aria-hidden="true">{escape(glyph)}</text>'
    )
    attrs = f'class="experience experience-{escape(code or "quote")}" data-quote="{escape(title)}"'
    if interactive:
        return f'<a href="#{escape(event.key)}" {attrs} aria-label="{escape(title)}">{body}</a>'
    return f"<g {attrs}>{body}</g>"


def _legend(top: int) -> str:
    out = [f'<text x="{LEFT}" y="{top}" font-size="13" font-weight="700" fill="{INK}">Key</text>']
    marks = [
        ("circle", "Booking", INK, INK),
        ("star", "Birth", INK, INK),
        ("square", "Discharge", INK, INK),
        ("triangle-down", "Separation", INK, INK),
        ("triangle-up", "Reunification", INK, INK),
        ("diamond", "Other milestone", INK, INK),
        ("circle-open", "Contact", "#ffffff", INK),
    ]
    x = LEFT
    y = top + 22
    for shape, label, fill, stroke in marks:
        size = 3.5 if shape == "circle-open" else 6
        out.append(
            _symbol(shape, x + 6, y - 4, size, f'fill="{fill}" stroke="{stroke}" stroke-width="2"')
        )
        out.append(f'<text x="{x + 18}" y="{y}" font-size="12" fill="{INK}">{label}</text>')
        x += 24 + 7 * len(label) + 14
    y += 24
    x = LEFT
    out.append(
        f'<rect x="{x}" y="{y - 9}" width="28" height="10" rx="2" fill="{INK}" '
        f'fill-opacity="0.35" stroke="{INK}"/>'
    )
    out.append(f'<text x="{x + 34}" y="{y}" font-size="12" fill="{INK}">Period</text>')
    x += 100
    out.append(
        f'<polygon points="{x + 22},{y - 12} {x + 30},{y - 4} {x + 22},{y + 4}" fill="{INK}"/>'
        f'<rect x="{x}" y="{y - 9}" width="22" height="10" rx="2" fill="{INK}" '
        f'fill-opacity="0.35" stroke="{INK}" stroke-dasharray="4 2"/>'
    )
    out.append(f'<text x="{x + 36}" y="{y}" font-size="12" fill="{INK}">No end recorded</text>')
    x += 170
    out.append(
        f'<line x1="{x}" y1="{y - 4}" x2="{x + 30}" y2="{y - 4}" stroke="{INK}" '
        'stroke-width="1.5"/>'
        + _symbol(
            "diamond",
            x + 15,
            y - 4,
            5,
            f'fill="#ffffff" stroke="{INK}" stroke-width="2" stroke-dasharray="3 2"',
        )
    )
    out.append(
        f'<text x="{x + 38}" y="{y}" font-size="12" fill="{INK}">Approximate date or range</text>'
    )
    x += 230
    out.append(
        f'<line x1="{x}" y1="{y - 12}" x2="{x}" y2="{y + 4}" stroke="#1f5fa8" stroke-width="1.5" '
        'stroke-dasharray="5 3"/>'
    )
    out.append(f'<text x="{x + 8}" y="{y}" font-size="12" fill="#1f5fa8">Interview (wave)</text>')
    y += 26
    x = LEFT
    out.append(f'<text x="{x}" y="{y}" font-size="12" fill="{INK}">Her experience:</text>')
    x += 108
    for code in ("helpful", "unhelpful", "stigmatising", "distressing", "mixed", "neutral"):
        label, colour, shape, glyph = EXPERIENCES[code]
        fill = "#ffffff" if shape == "circle-open" else colour
        out.append(
            _symbol(shape, x + 7, y - 4, 6.5, f'fill="{fill}" stroke="{colour}" stroke-width="2"')
        )
        out.append(
            f'<text x="{x + 7}" y="{y}" font-size="11" font-weight="700" text-anchor="middle" '
            f'fill="{colour if shape == "circle-open" else "#ffffff"}">{escape(glyph)}</text>'
        )
        out.append(f'<text x="{x + 19}" y="{y}" font-size="12" fill="{INK}">{label}</text>')
        x += 30 + 7 * len(label) + 8
    return "".join(out)


def _document(body: str, height: int, title: str, desc: str, prefix: str, interactive: bool) -> str:
    role = 'role="group"' if interactive else 'role="img"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="journey-map" viewBox="0 0 {WIDTH} '
        f'{height}" width="{WIDTH}" height="{height}" {role} '
        f'aria-labelledby="{prefix}-title {prefix}-desc" '
        'font-family="DejaVu Sans, Arial, sans-serif">'
        f'<title id="{prefix}-title">{escape(title)}</title>'
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def _describe(journey: Journey) -> str:
    services = len(_lanes(journey))
    return (
        f"A timeline from conception to 18 months after the birth with {len(journey.events)} "
        f"event{'s' if len(journey.events) != 1 else ''} in {services} service"
        f"{'s' if services != 1 else ''} and {len(journey.waves)} interview"
        f"{'s' if len(journey.waves) != 1 else ''}. The same journey is given as an ordered "
        "list of events."
    )


def journey_svg(journey: Journey, *, prefix: str = "map", interactive: bool = False) -> str:
    """One journey as a standalone SVG document. ``interactive`` makes each experience mark a
    link to the text list's entry (``#<event key>``), for the page; files leave it off."""
    body, height = _render(journey, prefix, interactive)
    return _document(
        body, height, f"Journey map: {journey.title}", _describe(journey), prefix, interactive
    )


MAX_COMPARED = 4


def compare_svg(journeys: Sequence[Journey]) -> str:
    """Up to four journeys one above another in one figure, aligned at the birth."""
    if not 1 <= len(journeys) <= MAX_COMPARED:
        raise ValueError(f"compare 1 to {MAX_COMPARED} journeys, not {len(journeys)}")
    panels = []
    y = 0
    for index, journey in enumerate(journeys):
        body, height = _render(journey, f"cmp{index}", False)
        panels.append(f'<svg x="0" y="{y}" width="{WIDTH}" height="{height}">{body}</svg>')
        y += height + 10
    names = ", ".join(j.title for j in journeys)
    return _document(
        "".join(panels),
        y,
        f"Journeys side by side: {names}",
        f"{len(journeys)} journeys from conception to 18 months, aligned at the birth.",
        "cmp",
        False,
    )


# --- composite journeys ----------------------------------------------------------------------

MIN_COMPOSITE_WOMEN = 3
"""A composite needs at least this many women, so that no one woman's path is shown."""
MIN_EVENT_WOMEN = 2
"""An event type shared by fewer women than this is left out of a composite."""


@dataclass(frozen=True)
class CompositeStep:
    code: str
    name: str
    service: str
    shape: str
    women: int
    median_day: int
    low_day: int | None
    high_day: int | None
    median_end: int | None
    experiences: tuple[tuple[str, int], ...]
    quote: str


def _quartiles(values: Sequence[int]) -> tuple[int, int] | None:
    if len(values) < 4:
        return None
    q1, _q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return round(q1), round(q3)


def composite_steps(
    journeys: Sequence[Journey], *, quotes: bool = False, min_event_women: int = MIN_EVENT_WOMEN
) -> list[CompositeStep]:
    """Each event type shared by at least ``min_event_women`` of the journeys, at the median of
    the days the women first had it (whiskers: the interquartile range, given four or more),
    with how many had it and how they experienced it. A quote, if asked for, is the shortest
    given for its most common experience."""
    firsts: dict[str, dict[int, MapEvent]] = {}
    every: dict[str, list[MapEvent]] = {}
    for index, journey in enumerate(journeys):
        for event in journey.events:
            every.setdefault(event.code, []).append(event)
            known = firsts.setdefault(event.code, {})
            if index not in known or event.day < known[index].day:
                known[index] = event
    steps = []
    for code, per_woman in firsts.items():
        if len(per_woman) < min_event_women:
            continue
        sample = next(iter(per_woman.values()))
        days = sorted(e.day for e in per_woman.values())
        ends = [e.end for e in per_woman.values() if e.end is not None]
        spread = _quartiles(days)
        counts = Counter(e.experience for e in every[code] if e.experience)
        ordered = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        quote = ""
        if quotes and ordered:
            said = sorted(
                (e.quote for e in every[code] if e.quote and e.experience == ordered[0][0]),
                key=lambda q: (len(q), q),
            )
            quote = said[0] if said else ""
        steps.append(
            CompositeStep(
                code=code,
                name=sample.name,
                service=sample.service,
                shape=sample.shape,
                women=len(per_woman),
                median_day=round(statistics.median(days)),
                low_day=spread[0] if spread else None,
                high_day=spread[1] if spread else None,
                median_end=round(statistics.median(ends)) if ends else None,
                experiences=ordered,
                quote=quote,
            )
        )
    return sorted(steps, key=lambda s: (s.median_day, s.name))


def composite(journeys: Sequence[Journey], *, quotes: bool = False, label: str = "") -> Journey:
    """Several journeys merged into one anonymised illustrative path: no pseudonyms, no dates
    (positions only), interview waves at their median days, quotes only if asked for."""
    if len(journeys) < MIN_COMPOSITE_WOMEN:
        raise ValueError(
            f"a composite journey needs at least {MIN_COMPOSITE_WOMEN} women; "
            f"{len(journeys)} were chosen"
        )
    steps = composite_steps(journeys, quotes=quotes)
    events = tuple(
        MapEvent(
            key=f"step-{n}",
            code=step.code,
            name=step.name,
            service=step.service,
            shape=step.shape,
            day=step.median_day,
            when=f"median {days_label(step.median_day)}",
            low=step.low_day,
            high=step.high_day,
            end=step.median_end,
            precision="range" if step.low_day is not None else "exact",
            experience=step.experiences[0][0] if step.experiences else "",
            quote=step.quote,
            women=step.women,
            experiences=step.experiences,
        )
        for n, step in enumerate(steps, start=1)
    )
    wave_days: dict[str, list[int]] = {}
    for journey in journeys:
        for wave in journey.waves:
            wave_days.setdefault(wave.label, []).append(wave.day)
    waves = tuple(
        WaveMark(
            label,
            round(statistics.median(days)),
            f"{label}: median {days_label(round(statistics.median(days)))}",
        )
        for label, days in sorted(wave_days.items())
    )
    title = f"a composite of {len(journeys)} women" + (f" ({label})" if label else "")
    return Journey(
        title=title,
        events=events,
        waves=waves,
        subtitle="Illustrative: event positions are medians; whiskers span the middle half.",
    )


COMPOSITE_CSV_HEADER = (
    "step",
    "event_type",
    "event",
    "service",
    "women",
    "share_percent",
    "median_days_from_birth",
    "median_position",
    "lower_quartile_days",
    "upper_quartile_days",
    "median_end_days",
    "experiences",
    "quote",
)


def composite_rows(journeys: Sequence[Journey], *, quotes: bool = False) -> list[list[object]]:
    steps = composite_steps(journeys, quotes=quotes)
    total = len(journeys)
    return [
        [
            n,
            step.code,
            step.name,
            SERVICE_NAMES.get(step.service, step.service),
            step.women,
            round(100 * step.women / total),
            step.median_day,
            days_label(step.median_day),
            step.low_day,
            step.high_day,
            step.median_end,
            "; ".join(f"{code} {count}" for code, count in step.experiences),
            step.quote,
        ]
        for n, step in enumerate(steps, start=1)
    ]


def anonymised(journey: Journey, index: int) -> Journey:
    """A journey with its name and calendar dates removed (for composites)."""
    return replace(
        journey,
        title=f"journey {index}",
        events=tuple(
            replace(e, date_text="", infant="", note="", source="") for e in journey.events
        ),
    )
