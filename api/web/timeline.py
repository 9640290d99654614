"""Server-rendered SVG (no script) of how runs went: a run's test cases on a time axis, each
step (render, model call, assertions) a bar with its duration, the slowest one marked; and a
template's pass rate, duration and cost per version. Each comes with a text table beside it
(the templates), and every text in the SVG is escaped: case names come from the repository."""
from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

# step -> fill (each >= 3:1 against white: non-text contrast, WCAG 1.4.11)
STEPS = {"render": "#0969da", "model call": "#8250df", "assertions": "#1a7f37"}
SLOWEST = "#a40e26"
LABEL_W, BAR_W, ROW_H = 120.0, 230.0, 18.0
MAX_CASES = 60
FONT = 'font-family="Helvetica, Arial, sans-serif"'


def _steps(report: dict[str, Any] | None) -> list[tuple[dict[str, Any], dict[str, Any], float]]:
    """(case, step, start since the run began) for every step the report times."""
    out = []
    for case in (report or {}).get("cases", [])[:MAX_CASES]:
        if not isinstance(case, dict):
            continue
        for step in case.get("steps", []) if isinstance(case.get("steps"), list) else []:
            if isinstance(step, dict) and isinstance(step.get("duration_ms"), int | float):
                out.append((case, step, float(case.get("start_ms") or 0) + float(step.get("start_ms") or 0)))
    return out


def slowest(report: dict[str, Any] | None) -> tuple[str, str, float] | None:
    """(case name, step name, milliseconds) of the longest step."""
    timed = _steps(report)
    if not timed:
        return None
    case, step, _ = max(timed, key=lambda t: float(t[1]["duration_ms"]))
    return str(case.get("name", "?")), str(step.get("name", "?")), float(step["duration_ms"])


def run_timeline(report: dict[str, Any] | None) -> Markup | None:
    """The run's cases as rows on one time axis; None when the report times no step."""
    timed = _steps(report)
    if not timed:
        return None
    total = max(start + float(step["duration_ms"]) for _, step, start in timed) or 1.0
    top = max(timed, key=lambda t: float(t[1]["duration_ms"]))
    rows: dict[int, int] = {}
    parts: list[str] = []
    for case, step, start in timed:
        if id(case) not in rows:  # a case's first step: its row and its name
            rows[id(case)] = len(rows)
            parts.append(f'<text x="0" y="{14 + rows[id(case)] * ROW_H + 12:.1f}" font-size="10" {FONT} '
                         f'fill="#1f2328">{escape(_short(str(case.get("name", "?"))))}</text>')
        y = 14 + rows[id(case)] * ROW_H
        x = LABEL_W + start / total * BAR_W
        w = max(float(step["duration_ms"]) / total * BAR_W, 1.0)
        mark = step is top[1]
        name = str(step.get("name", "?"))
        outline = f' stroke="{SLOWEST}" stroke-width="2"' if mark else ""
        parts.append(f'<rect x="{x:.2f}" y="{y + 2:.1f}" width="{w:.2f}" height="{ROW_H - 6:.1f}" '
                     f'fill="{STEPS.get(name, "#57606a")}"{outline}><title>{escape(str(case.get("name", "?")))} · '
                     f'{escape(name)}: {float(step["duration_ms"]):.1f} ms{" (slowest)" if mark else ""}</title></rect>')
        if mark:
            parts.append(f'<text x="{min(x + w + 2, LABEL_W + BAR_W - 30):.1f}" y="{y + 1:.1f}" font-size="8" {FONT} '
                         f'fill="{SLOWEST}">slowest</text>')
    height = 14 + len(rows) * ROW_H + 22
    axis_y = 14 + len(rows) * ROW_H + 4
    legend = "".join(f'<rect x="{LABEL_W + i * 78:.0f}" y="{axis_y + 12}" width="8" height="8" fill="{colour}"/>'
                     f'<text x="{LABEL_W + i * 78 + 11:.0f}" y="{axis_y + 19}" font-size="9" {FONT} fill="#1f2328">'
                     f'{name}</text>' for i, (name, colour) in enumerate(STEPS.items()))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="run-timeline" role="img" '
        f'viewBox="0 0 {LABEL_W + BAR_W + 10:.0f} {height:.0f}" width="100%" aria-labelledby="run-timeline-title" '
        f'aria-describedby="run-steps"><title id="run-timeline-title">Steps of each test case over {total:.1f} ms'
        f'</title><text x="{LABEL_W}" y="10" font-size="9" {FONT} fill="#1f2328">0 ms</text>'
        f'<text x="{LABEL_W + BAR_W}" y="10" font-size="9" text-anchor="end" {FONT} fill="#1f2328">{total:.1f} ms</text>'
        f'<line x1="{LABEL_W}" y1="{axis_y}" x2="{LABEL_W + BAR_W}" y2="{axis_y}" stroke="#57606a" stroke-width="0.5"/>'
        f'{"".join(parts)}{legend}</svg>')


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


SERIES = (("pass_rate", "pass rate", "#1a7f37", lambda v: f"{v * 100:.0f}%"),
          ("duration_s", "duration", "#0969da", lambda v: f"{v:.2f} s"),
          ("cost_usd", "cost", "#8250df", lambda v: f"${v:.4f}"))


def versions_chart(rows: list[dict[str, Any]]) -> Markup | None:
    """Pass rate, duration and cost of the sandbox run of each version (oldest first): three bands
    of bars, one bar per version; None when no version has a finished run."""
    if not any(r.get(key) is not None for r in rows for key, *_ in SERIES):
        return None
    width, band, label_w = 300.0, 34.0, 64.0
    step = (width - label_w) / max(len(rows), 1)
    parts: list[str] = []
    for i, (key, label, colour, show) in enumerate(SERIES):
        y0 = i * band
        values = [r.get(key) for r in rows]
        top = max([v for v in values if v is not None] + [1e-9]) if key != "pass_rate" else 1.0
        parts.append(f'<text x="0" y="{y0 + 20:.0f}" font-size="10" {FONT} fill="#1f2328">{label}</text>')
        for j, (row, value) in enumerate(zip(rows, values, strict=True)):
            if value is None:
                continue
            h = max(float(value) / top * (band - 10), 1.0)
            parts.append(f'<rect x="{label_w + j * step + 1:.1f}" y="{y0 + band - 4 - h:.1f}" '
                         f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{escape(row["version"])}: {label} {show(float(value))}</title></rect>')
    ticks = "".join(f'<text x="{label_w + j * step + step / 2:.1f}" y="{3 * band + 10:.0f}" font-size="8" '
                    f'text-anchor="middle" {FONT} fill="#1f2328">{escape(_short(str(r["version"]), 8))}</text>'
                    for j, r in enumerate(rows))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="versions-chart" id="versions-chart" role="img" '
        f'viewBox="0 0 {width:.0f} {3 * band + 14:.0f}" width="100%" aria-labelledby="versions-chart-title" '
        f'aria-describedby="versions-table"><title id="versions-chart-title">Pass rate, duration and cost of the '
        f'last {len(rows)} versions</title>{"".join(parts)}{ticks}</svg>')
