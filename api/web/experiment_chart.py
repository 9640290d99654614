"""The experiment page's chart: server-rendered SVG, no script. Per variant, a bar to its pass
rate with its Wilson interval drawn across it (the winner's bar in the darker colour), on one 0-100 %
axis; each bar carries its figures in a `<title>` and the whole a summary in its label, and the
page puts the same figures in a table beside it."""
from __future__ import annotations

from markupsafe import Markup, escape

from registry.views_experiments import VariantSummary

WIDTH, ROW, LEFT = 320, 22, 96
AXIS = WIDTH - LEFT - 8


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def pass_rates_svg(variants: list[VariantSummary], winner: str | None) -> Markup:
    parts, said = [], []
    for i, v in enumerate(variants):
        y = i * ROW + 4
        label = v.ref if len(v.ref) <= 14 else v.ref[:13] + "…"
        parts.append(f'<text x="0" y="{y + 12}" font-size="10">{escape(label)}</text>')
        if v.pass_rate is None:
            parts.append(f'<text x="{LEFT}" y="{y + 12}" font-size="10">no trials yet</text>')
            said.append(f"{v.ref}: no trials yet")
            continue
        lo, hi = v.interval or (v.pass_rate, v.pass_rate)
        words = f"{v.ref}: {_pct(v.pass_rate)} of {v.trials} trials passed (95% interval {_pct(lo)} to {_pct(hi)})"
        said.append(words)
        colour = "#2f6db5" if v.ref == winner else "#8fb3de"
        parts.append(f'<rect x="{LEFT}" y="{y + 2}" width="{max(v.pass_rate * AXIS, 1):.1f}" height="12" '
                     f'fill="{colour}"><title>{escape(words)}</title></rect>'
                     f'<line x1="{LEFT + lo * AXIS:.1f}" y1="{y + 8}" x2="{LEFT + hi * AXIS:.1f}" y2="{y + 8}" '
                     f'stroke="#1b1b1b" stroke-width="1.5"/>'
                     f'<line x1="{LEFT + lo * AXIS:.1f}" y1="{y + 3}" x2="{LEFT + lo * AXIS:.1f}" y2="{y + 13}" '
                     f'stroke="#1b1b1b"/><line x1="{LEFT + hi * AXIS:.1f}" y1="{y + 3}" x2="{LEFT + hi * AXIS:.1f}" '
                     f'y2="{y + 13}" stroke="#1b1b1b"/>')
    height = len(variants) * ROW + 18
    ticks = "".join(f'<line x1="{LEFT + t * AXIS:.1f}" y1="2" x2="{LEFT + t * AXIS:.1f}" y2="{height - 14}" '
                    f'stroke="#ddd" stroke-width="0.5"/><text x="{LEFT + t * AXIS:.1f}" y="{height - 3}" '
                    f'font-size="9" text-anchor="{"end" if t == 1 else "middle"}">{int(t * 100)}%</text>'
                    for t in (0, 0.25, 0.5, 0.75, 1))  # 100 % ends at the axis' end, inside the picture
    summary = escape("pass rate per variant: " + "; ".join(said))
    return Markup(f'<svg class="experiment" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg" aria-label="{summary}"><title>{summary}</title>'
                  f'{ticks}{"".join(parts)}</svg>')
