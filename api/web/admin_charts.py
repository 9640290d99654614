"""The admin dashboard's charts: server-rendered SVG, no script. Each carries its figures in a
`<title>` per bar and a summary in its label (screen readers), and the dashboard puts a table
beside each. Site-wide usage reuses the template page's stacked usage chart (chart.usage_svg)."""
from __future__ import annotations

from markupsafe import Markup, escape

from registry.meta.records_events import UsageDay
from registry.services.admin_stats import Day, Latency

from .chart import spend_svg, usage_svg

WIDTH, HEIGHT = 300, 80


def pushes_svg(days: list[Day]) -> Markup:
    """One bar per day: ref updates pushed."""
    top = max([d.pushes for d in days] + [1])
    step = WIDTH / max(len(days), 1)
    bars = "".join(
        f'<rect x="{i * step + 1:.1f}" y="{HEIGHT - d.pushes / top * (HEIGHT - 2):.1f}" width="{max(step - 2, 1):.1f}" '
        f'height="{d.pushes / top * (HEIGHT - 2):.1f}" fill="#2f6db5"><title>{escape(d.day)}: {d.pushes} pushes'
        f'</title></rect>' for i, d in enumerate(days) if d.pushes)
    total = sum(d.pushes for d in days)
    label = f"pushes per day, {escape(days[0].day)} to {escape(days[-1].day)}: {total} in all, at most {top} a day" \
        if days else "pushes per day: none"
    return Markup(f'<svg class="usage" role="img" viewBox="0 0 {WIDTH} {HEIGHT + 4}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg" aria-label="{label}"><title>{label}</title>'
                  f'<line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#999" stroke-width="0.5"/>'
                  f'{bars}</svg>')


def site_usage_svg(days: list[Day]) -> Markup:
    """Every template's usage summed per day (page views, API reads, clones, fetches)."""
    return usage_svg([UsageDay(d.day, d.counts) for d in days])


def site_spend_svg(days: list[Day]) -> Markup:
    """What models cost every template, per day."""
    return spend_svg([(d.day, d.cost_usd) for d in days], "model spend")


def latency_svg(latencies: list[Latency]) -> Markup:
    """Per check, a bar to its 95th percentile with the median marked, on one seconds axis."""
    if not latencies:
        return Markup("")
    top = max(lat.p95_seconds for lat in latencies) or 1.0
    row, left, width = 18, 70, WIDTH - 80
    parts = []
    for i, lat in enumerate(latencies):
        y = i * row + 4
        p95 = lat.p95_seconds / top * width
        p50 = lat.p50_seconds / top * width
        parts.append(
            f'<text x="0" y="{y + 10}" font-size="10">{escape(lat.context)}</text>'
            f'<rect x="{left}" y="{y}" width="{max(p95, 1):.1f}" height="12" fill="#c4d7ee">'
            f'<title>{escape(lat.context)}: 95% within {lat.p95_seconds:g} s</title></rect>'
            f'<rect x="{left}" y="{y}" width="{max(p50, 1):.1f}" height="12" fill="#2f6db5">'
            f'<title>{escape(lat.context)}: median {lat.p50_seconds:g} s</title></rect>')
    summary = "; ".join(f"{lat.context}: median {lat.p50_seconds:g} s, 95% {lat.p95_seconds:g} s" for lat in latencies)
    height = len(latencies) * row + 6
    return Markup(f'<svg class="latency" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg" aria-label="check latency, push to final status: '
                  f'{escape(summary)}"><title>Check latency: {escape(summary)}</title>{"".join(parts)}</svg>')


def human_bytes(n: int | None) -> str:
    if n is None:
        return "not measured yet"
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"
