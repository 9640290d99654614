"""A graph drawn as SVG on the server: Graphviz's `dot` lays it out (as JSON: positions and
edge splines), and the SVG is written here, so each node carries its `<title>` and `<desc>`, the
colours meet WCAG AA, and nothing from the manifest reaches the page unescaped.

`dot` is the Debian `graphviz` package, run through the `graphviz` Python binding with a time
limit. Where it is missing, or fails, `svg` returns None and pages show the text list alone.
Layouts are cached by their source (a page view never runs `dot` twice for one graph).
"""
from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable
from html import escape
from typing import Any

import graphviz

from .flow import MERMAID_COLOURS, Graph

log = logging.getLogger(__name__)
TIMEOUT = 5.0  # seconds for one layout
CACHE_ENTRIES = 256
FONT = 12.0  # points, as dot measures text
DPI = 72.0  # dot's coordinates are points; inches * 72
# fill, border, text: each text colour is >= 4.5:1 on its fill and on white
COLOURS = MERMAID_COLOURS
_cache: OrderedDict[str, str | None] = OrderedDict()
_lock = threading.Lock()


def svg(g: Graph, css_id: str) -> str | None:
    """The graph as an SVG element (a string of markup, every text escaped), or None when it
    cannot be drawn (empty, past `flow.MAX_NODES`, or no working `dot`). `css_id` names the
    element; the text list that describes it is `{css_id}-list`."""
    if not g.drawable:
        return None
    source = _dot_source(g)
    key = hashlib.sha256(f"{css_id}\0{source.source}".encode()).hexdigest()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    drawn = _draw(g, source, css_id)
    with _lock:
        _cache[key] = drawn
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return drawn


def _dot_source(g: Graph) -> graphviz.Digraph:
    d = graphviz.Digraph(graph_attr={"rankdir": "TB", "nodesep": "0.25", "ranksep": "0.4", "margin": "0"},
                         node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": str(FONT),
                                    "margin": "0.12,0.06", "height": "0.4"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for n in g.nodes:  # only the sizes of the labels matter to the layout: no dot escapes in them
        d.node(n.id, _plain(n.label))
    for e in g.edges:
        d.edge(e.source, e.target, **({"label": _plain(e.label)} if e.label else {}))
    return d


def _plain(text: str) -> str:
    return text.replace("\\", "/")


def _layout(source: graphviz.Digraph) -> dict[str, Any] | None:
    """dot's layout of `source` (the binding quotes it; dot runs here, under a time limit the
    binding's own `pipe` lacks)."""
    try:
        done = subprocess.run(["dot", "-Tjson0"], input=source.source.encode(), capture_output=True,
                              timeout=TIMEOUT, check=True)
        layout: dict[str, Any] = json.loads(done.stdout)
        return layout
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        log.warning("graph layout failed: %s", exc)
        return None


def _draw(g: Graph, source: graphviz.Digraph, css_id: str) -> str | None:
    layout = _layout(source)
    if layout is None:
        return None
    _, _, width, height = (float(v) for v in str(layout["bb"]).split(","))
    pad = 4.0
    by_name = {o["name"]: o for o in layout.get("objects", [])}
    gvid = {o["_gvid"]: o["name"] for o in layout.get("objects", [])}

    def flip(y: float) -> float:  # dot's y grows upwards
        return height - y + pad

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="{css_id}" class="diagram" role="img" '
             f'viewBox="0 0 {width + 2 * pad:.0f} {height + 2 * pad:.0f}" width="{width + 2 * pad:.0f}" '
             f'aria-labelledby="{css_id}-title" aria-describedby="{css_id}-list">',
             f'<title id="{css_id}-title">{escape(g.title)}</title>',
             '<defs><marker id="' + css_id + '-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>']
    labels = {n.id: n.label for n in g.nodes}
    for i, (edge, drawn) in enumerate(zip(g.edges, layout.get("edges", []), strict=False)):
        path = _spline(str(drawn.get("pos", "")), flip, pad)
        if not path:
            continue
        tail, head = gvid.get(drawn.get("tail")), gvid.get(drawn.get("head"))
        dash = ' stroke-dasharray="4 3"' if edge.dashed else ""
        parts.append(f'<g class="edge" id="{css_id}-e{i}"><title>{escape(labels.get(tail or "", ""))} → '
                     f'{escape(labels.get(head or "", ""))}{": " + escape(edge.label) if edge.label else ""}</title>'
                     f'<path d="{path}" fill="none" stroke="#57606a" stroke-width="1.2"{dash} '
                     f'marker-end="url(#{css_id}-arrow)"/>')
        if edge.label and drawn.get("lp"):
            x, y = (float(v) for v in str(drawn["lp"]).split(","))
            parts.append(f'<text x="{x + pad:.1f}" y="{flip(y) + 3:.1f}" text-anchor="middle" font-size="10" '
                         f'font-family="Helvetica, Arial, sans-serif" fill="#1f2328">{escape(edge.label)}</text>')
        parts.append("</g>")
    for n in g.nodes:
        o = by_name.get(n.id)
        if o is None:
            continue
        x, y = (float(v) for v in str(o["pos"]).split(","))
        w, h = float(o["width"]) * DPI, float(o["height"]) * DPI
        fill, stroke, ink = COLOURS.get(n.kind, COLOURS["step"])
        rx = h / 2 if n.kind == "parameter" else 4
        parts.append(f'<g class="node {n.kind}" id="{css_id}-{n.id}"><title>{escape(n.label)}</title>'
                     f'<desc>{escape(n.desc or n.kind)}</desc>'
                     f'<rect x="{x - w / 2 + pad:.1f}" y="{flip(y) - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'rx="{rx:.1f}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
                     f'<text x="{x + pad:.1f}" y="{flip(y) + FONT * 0.35:.1f}" text-anchor="middle" '
                     f'font-size="{FONT:.0f}" font-family="Helvetica, Arial, sans-serif" fill="{ink}">'
                     f'{escape(n.label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _spline(pos: str, flip: Callable[[float], float], pad: float) -> str:
    """dot's edge `pos` ("e,x,y x0,y0 x1,y1 ..."; cubic Bézier pieces) as an SVG path, ending
    at the arrowhead's point."""
    end: tuple[float, float] | None = None
    points: list[tuple[float, float]] = []
    for token in pos.split():
        fields = token.split(",")
        try:
            if fields[0] == "e" and len(fields) == 3:
                end = (float(fields[1]), float(fields[2]))
            elif fields[0] != "s" and len(fields) == 2:
                points.append((float(fields[0]), float(fields[1])))
        except ValueError:
            return ""
    if not points:
        return ""
    if end is not None:
        points[-1] = end
    xy = [f"{x + pad:.1f},{flip(y):.1f}" for x, y in points]
    if (len(xy) - 1) % 3 == 0 and len(xy) > 1:
        return f"M{xy[0]} C" + " ".join(xy[1:])
    return "M" + " L".join(xy)
