"""The process map drawn as accessible SVG, with a layered (Sugiyama-style) layout.

Activities are boxes showing how often they happened; arrows are directly-follows relations
labelled with their count and median time, thicker the more often they were taken. A start
node (▶) leads to the activities cases begin with and an end node (■) follows those they end
with, as in Disco and PM4Py's frequency DFG.

The layout is the classic layered one, in plain Python: cycles are broken by a depth-first
search from the start (most frequent edges first), nodes are layered by longest path, long
edges get a virtual node in each layer they cross, and the order inside layers is improved by
barycentre sweeps down and up. The SVG has ``role="img"``, a title and a description; the page
shows the same map as a table (:func:`edge_rows`), its text alternative.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from .analytics import ProcessMap

START, END = "\x00start", "\x00end"
NODE_HEIGHT = 46
LAYER_GAP = 96
NODE_GAP = 28
CHAR_WIDTH = 7.2
MAX_LINE = 26
FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'


def format_duration(seconds: float | None) -> str:
    """A duration for people: minutes, hours, days or weeks."""
    if seconds is None:
        return "—"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} h"
    days = hours / 24
    if days < 56:
        return f"{days:.1f} d"
    return f"{days / 7:.1f} wk"


@dataclass
class _Node:
    key: str
    label: list[str]
    count: int
    width: float
    layer: int = 0
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0
    virtual: bool = False


def _wrap(text: str) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > MAX_LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], (" ".join(lines[1:]))[: MAX_LINE - 1] + "…"]
    return lines or [text]


def _break_cycles(nodes: list[str], edges: dict[tuple[str, str], int]) -> set[tuple[str, str]]:
    """The back edges of a depth-first search from the start, heavier edges first."""
    out: dict[str, list[str]] = defaultdict(list)
    for (a, b), _n in sorted(edges.items(), key=lambda item: (-item[1], item[0])):
        if a != b:
            out[a].append(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    roots = [START, *sorted(nodes)]
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            if i < len(out[node]):
                stack[-1] = (node, i + 1)
                child = out[node][i]
                if state.get(child) == 1:
                    back.add((node, child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[node] = 2
                stack.pop()
    return back


Route = tuple[str, str, int, float | None, list[tuple[float, float]], bool]


def layout(
    process_map: ProcessMap, name: Callable[[str], str] = str
) -> tuple[
    dict[str, _Node],
    list[tuple[str, str, int, float | None, list[tuple[float, float]], bool]],
    float,
    float,
]:
    """Positions of nodes and the routes of edges; returns nodes, edges, width and height."""
    activities = dict(process_map.activities)
    edges: dict[tuple[str, str], int] = {
        (e.source, e.target): e.frequency for e in process_map.edges
    }
    medians = {(e.source, e.target): e.median_seconds for e in process_map.edges}
    for a, n in process_map.start_activities.items():
        if a in activities:
            edges[(START, a)] = n
    for a, n in process_map.end_activities.items():
        if a in activities:
            edges[(a, END)] = n
    nodes: dict[str, _Node] = {}
    for key, count in activities.items():
        label = _wrap(name(key))
        width = max(96.0, max(len(line) for line in label) * CHAR_WIDTH + 24)
        nodes[key] = _Node(key, label, count, width)
    nodes[START] = _Node(START, ["Start"], process_map.n_cases, 64)
    nodes[END] = _Node(END, ["End"], process_map.n_cases, 64)

    back = _break_cycles(list(activities), edges)
    dag = [(b, a) if (a, b) in back else (a, b) for (a, b) in edges if a != b and b != START]
    # Longest-path layering (Kahn's order over the acyclic edges).
    incoming: dict[str, list[str]] = defaultdict(list)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for a, b in dag:
        outgoing[a].append(b)
        incoming[b].append(a)
    indegree = {k: len(set(incoming[k])) for k in nodes}
    ready = sorted(k for k, d in indegree.items() if d == 0)
    order: list[str] = []
    seen_pairs: set[tuple[str, str]] = set()
    while ready:
        node = ready.pop(0)
        order.append(node)
        for child in sorted(set(outgoing[node])):
            if (node, child) in seen_pairs:
                continue
            seen_pairs.add((node, child))
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    for node in order:
        for child in outgoing[node]:
            nodes[child].layer = max(nodes[child].layer, nodes[node].layer + 1)
    nodes[START].layer = 0
    last = max((n.layer for k, n in nodes.items() if k != END), default=0)
    nodes[END].layer = last + 1

    # Virtual nodes on long edges, then barycentre ordering.
    routes: dict[tuple[str, str], list[str]] = {}
    layers: dict[int, list[str]] = defaultdict(list)
    for key in sorted(nodes, key=lambda k: (nodes[k].layer, -nodes[k].count, k)):
        layers[nodes[key].layer].append(key)
    for a, b in sorted(edges):
        if a == b:
            continue
        top, bottom = (b, a) if (a, b) in back else (a, b)
        chain = [top]
        for layer in range(nodes[top].layer + 1, nodes[bottom].layer):
            v = f"\x01{a}\x02{b}\x03{layer}"
            nodes[v] = _Node(v, [], 0, 8, layer=layer, virtual=True)
            layers[layer].append(v)
            chain.append(v)
        chain.append(bottom)
        routes[(a, b)] = chain
    ups: dict[str, list[str]] = defaultdict(list)
    downs: dict[str, list[str]] = defaultdict(list)
    for chain in routes.values():
        for u, v in itertools.pairwise(chain):
            downs[u].append(v)
            ups[v].append(u)
    for members in layers.values():
        for i, key in enumerate(members):
            nodes[key].order = i
    depth = max(layers) if layers else 0
    down_sweep = [(i, ups) for i in range(1, depth + 1)]
    up_sweep = [(i, downs) for i in range(depth - 1, -1, -1)]
    for _sweep in range(4):
        for index, links in [*down_sweep, *up_sweep]:
            row = layers[index]
            centres = {key: _barycentre(key, links, nodes) for key in row}
            row.sort(key=lambda k: (centres[k], nodes[k].order))
            for i, key in enumerate(row):
                nodes[key].order = i

    # Coordinates: each layer centred.
    widths = {
        i: sum(nodes[k].width for k in keys) + NODE_GAP * (len(keys) - 1)
        for i, keys in layers.items()
    }
    total_width = max(widths.values(), default=200) + 80
    for i, keys in layers.items():
        x = (total_width - widths[i]) / 2
        for key in keys:
            placed = nodes[key]
            placed.x = x + placed.width / 2
            placed.y = 30 + i * LAYER_GAP + NODE_HEIGHT / 2
            x += placed.width + NODE_GAP
    height = 30 + (depth + 1) * LAYER_GAP
    drawn: list[Route] = []
    for (a, b), n in sorted(edges.items(), key=lambda item: item[1]):
        if a == b:
            drawn.append((a, b, n, medians.get((a, b)), [], False))
            continue
        chain = routes[(a, b)]
        points = [(nodes[k].x, nodes[k].y) for k in chain]
        reverse = (a, b) in back
        if reverse:
            points.reverse()
        drawn.append((a, b, n, medians.get((a, b)), points, reverse))
    return nodes, drawn, total_width, height


def _barycentre(key: str, links: dict[str, list[str]], nodes: dict[str, _Node]) -> float:
    near = links.get(key) or []
    if not near:
        return nodes[key].order
    return sum(nodes[n].order for n in near) / len(near)


def _path(points: Sequence[tuple[float, float]], reverse: bool) -> str:
    (x0, y0), (x1, y1) = points[0], points[-1]
    half = NODE_HEIGHT / 2
    if reverse:  # back edge: leave from the side and come back round
        start = (x0 + 6, y0 - half)
        end = (x1 + 6, y1 + half)
        bulge = 60 + abs(y0 - y1) * 0.15
        return (
            f"M{start[0]:.1f},{start[1]:.1f} C{start[0] + bulge:.1f},{start[1] - 40:.1f} "
            f"{end[0] + bulge:.1f},{end[1] + 40:.1f} {end[0]:.1f},{end[1]:.1f}"
        )
    pts = [(x0, y0 + half), *points[1:-1], (x1, y1 - half)]
    d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"
    for (ax, ay), (bx, by) in itertools.pairwise(pts):
        my = (ay + by) / 2
        d += f" C{ax:.1f},{my:.1f} {bx:.1f},{my:.1f} {bx:.1f},{by:.1f}"
    return d


def process_map_svg(
    process_map: ProcessMap, *, title: str, name: Callable[[str], str] = str
) -> str:
    """The map as an SVG document (a string)."""
    nodes, edges, width, height = layout(process_map, name)
    most = max((n for _a, _b, n, _m, _p, _r in edges), default=1) or 1
    most_node = max((n.count for k, n in nodes.items() if k not in (START, END)), default=1) or 1
    desc = (
        f"{len(process_map.activities)} activities and {len(process_map.edges)} transitions "
        f"from {process_map.n_cases} cases. Boxes show how often each activity happened; "
        "arrows show how often one activity came straight after another, with the median "
        "time between them. The table below the map lists the same numbers."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart process-map" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="pm-title pm-desc" {FONT} font-size="12">',
        f'<title id="pm-title">{escape(title)}</title><desc id="pm-desc">{escape(desc)}</desc>',
        '<defs><marker id="pm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" '
        'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" '
        'fill="#44546a"/></marker></defs>',
    ]
    labels = []
    for a, b, n, median, points, reverse in edges:
        stroke = 1 + 7 * n / most
        label = f"{n}" if a == START or b == END else f"{n} · {format_duration(median)}"
        who = f"{name(a) if a != START else 'Start'} to {name(b) if b != END else 'End'}"
        if not points:  # self-loop
            node = nodes[a]
            x, y = node.x + node.width / 2, node.y
            d = (
                f"M{x:.1f},{y - 8:.1f} C{x + 40:.1f},{y - 30:.1f} "
                f"{x + 40:.1f},{y + 30:.1f} {x:.1f},{y + 8:.1f}"
            )
            lx, ly = x + 34, y
        else:
            d = _path(points, reverse)
            mid = (
                points[len(points) // 2]
                if len(points) > 2
                else (
                    (points[0][0] + points[-1][0]) / 2,
                    (points[0][1] + points[-1][1]) / 2,
                )
            )
            lx, ly = mid
            if reverse:
                lx += 58
        colour = "#8a97a8" if a == START or b == END else "#44546a"
        parts.append(
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{stroke:.1f}" '
            f'stroke-opacity="0.85" marker-end="url(#pm-arrow)">'
            f"<title>{escape(who)}: {escape(label)}</title></path>"
        )
        labels.append(
            f'<text x="{lx + 4:.1f}" y="{ly:.1f}" fill="#1f2933" paint-order="stroke" '
            f'stroke="#ffffff" stroke-width="3" dominant-baseline="middle">{escape(label)}</text>'
        )
    parts.extend(labels)
    for key, node in nodes.items():
        if node.virtual:
            continue
        left, top = node.x - node.width / 2, node.y - NODE_HEIGHT / 2
        if key in (START, END):
            text = "▶ Start" if key == START else "■ End"
            parts.append(
                f'<rect x="{left:.1f}" y="{top + 8:.1f}" width="{node.width:.1f}" '
                f'height="{NODE_HEIGHT - 16}" rx="15" fill="#1f2933"/>'
                f'<text x="{node.x:.1f}" y="{node.y:.1f}" fill="#ffffff" text-anchor="middle" '
                f'dominant-baseline="middle">{text}</text>'
            )
            continue
        share = node.count / most_node
        fill = _blend("#eef4fb", "#9dbfe8", share)
        parts.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{node.width:.1f}" '
            f'height="{NODE_HEIGHT}" rx="6" fill="{fill}" stroke="#2b5d9b" stroke-width="1.2"/>'
        )
        lines = [*node.label, str(node.count)]
        first = node.y - (len(lines) - 1) * 7
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if i == len(lines) - 1 else ""
            parts.append(
                f'<text x="{node.x:.1f}" y="{first + i * 14:.1f}" fill="#111111" '
                f'text-anchor="middle" dominant-baseline="middle"{weight}>{escape(line)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _blend(low: str, high: str, share: float) -> str:
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(x + (y - x) * max(0.0, min(1.0, share))) for x, y in zip(a, b, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def edge_rows(
    process_map: ProcessMap, name: Callable[[str], str] = str
) -> list[tuple[str, str, int, str]]:
    """The map as rows (from, to, count, median time), most frequent first: its text
    alternative, start and end included."""
    rows = [("Start", name(a), n, "") for a, n in process_map.start_activities.items()]
    rows += [
        (name(e.source), name(e.target), e.frequency, format_duration(e.median_seconds))
        for e in process_map.edges
    ]
    rows += [(name(a), "End", n, "") for a, n in process_map.end_activities.items()]
    rows.sort(key=lambda r: -r[2])
    return rows
