"""The template page's 30-day usage chart: server-rendered SVG (no JavaScript), one stacked bar
per day (page views and API reads, clones, fetches), with a text summary for screen readers."""
from __future__ import annotations

from markupsafe import Markup, escape

from registry.meta.records_events import UsageDay

SERIES = (("views", "#8fb3de", "page views"), ("api_reads", "#c4d7ee", "API reads"),
          ("clones", "#2f6db5", "clones"), ("fetches", "#5b9a68", "fetches"))
WIDTH, HEIGHT, PAD = 300, 80, 14


def usage_svg(days: list[UsageDay]) -> Markup:
    totals = {key: sum(d.counts.get(key, 0) for d in days) for key, _, _ in SERIES}
    summary = ", ".join(f"{totals[key]} {label}" for key, _, label in SERIES)
    top = max([sum(d.counts.get(key, 0) for key, _, _ in SERIES) for d in days] + [1])
    step = WIDTH / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        y = float(HEIGHT)
        parts = []
        for key, colour, label in SERIES:
            n = day.counts.get(key, 0)
            if n:
                h = n / top * (HEIGHT - 2)
                y -= h
                parts.append(f'<rect x="{i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                             f'height="{h:.1f}" fill="{colour}"><title>{escape(day.day)}: {n} {label}</title></rect>')
        bars.append("".join(parts))
    legend = "".join(f'<rect x="{i * 75}" y="{HEIGHT + 4}" width="8" height="8" fill="{colour}"/>'
                     f'<text x="{i * 75 + 11}" y="{HEIGHT + 12}" font-size="9">{label}</text>'
                     for i, (_, colour, label) in enumerate(SERIES))
    first, last = (escape(days[0].day), escape(days[-1].day)) if days else ("", "")
    return Markup(
        f'<svg class="usage" role="img" viewBox="0 0 {WIDTH} {HEIGHT + PAD + 4}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="usage {first} to {last}: {escape(summary)}">'
        f'<title>Usage {first} to {last}: {escape(summary)}</title>'
        f'<line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#999" stroke-width="0.5"/>'
        f'{"".join(bars)}{legend}</svg>')


def usd(value: float) -> str:
    """A model spend as shown: with cents from a dollar on, else to the 8 places the API gives."""
    return f"${value:,.2f}" if value >= 1 else "$" + (f"{value:.8f}".rstrip("0").rstrip(".") or "0")


def spend_svg(days: list[tuple[str, float]], what: str = "model spend") -> Markup:
    """One bar per day: what models cost (USD), with the range's total in its label and a <title>
    per bar; a line of text instead when nothing was spent."""
    total = round(sum(v for _, v in days), 8)
    first, last = (days[0][0], days[-1][0]) if days else ("", "")
    if total <= 0:
        return Markup(f'<p class="muted spend">{escape(f"No {what} from {first} to {last}.")}</p>')
    top = max(v for _, v in days)
    step = WIDTH / max(len(days), 1)
    bars = "".join(
        f'<rect x="{i * step + 1:.1f}" y="{HEIGHT - v / top * (HEIGHT - 2):.1f}" width="{max(step - 2, 1):.1f}" '
        f'height="{v / top * (HEIGHT - 2):.1f}" fill="#b5712f"><title>{escape(day)}: {usd(v)}</title></rect>'
        for i, (day, v) in enumerate(days) if v > 0)
    label = escape(f"{what} per day, {first} to {last}: {usd(total)} in all, at most {usd(top)} a day")
    return Markup(f'<svg class="usage spend" role="img" viewBox="0 0 {WIDTH} {HEIGHT + 4}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg" aria-label="{label}"><title>{label}</title>'
                  f'<line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#999" stroke-width="0.5"/>'
                  f'{bars}</svg><p class="spend-total">{usd(total)} in all</p>')
