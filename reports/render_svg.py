"""Charts as inline SVG: no script, no CDN, readable without a network."""

from __future__ import annotations

import math
from html import escape

from reports.document import Chart

PALETTE = ("#2f6db5", "#e07b28", "#3a9a5b", "#b23b3b", "#7a5cb5")
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 260, 56, 48, 16


def chart_svg(chart: Chart) -> str:
    values = [v for series in chart.series.values() for v in series]
    top = max(values, default=0.0) or 1.0
    plot_w = WIDTH - PAD_LEFT - 10
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    n = max(len(chart.labels), 1)
    step = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(chart.title)}" font-size="11">',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 10}" '
        f'y2="{PAD_TOP + plot_h}" stroke="#888"/>',
        f'<text x="4" y="{PAD_TOP + 8}">{_fmt(top)}{escape(chart.unit)}</text>',
        f'<text x="4" y="{PAD_TOP + plot_h}">0</text>',
    ]
    # Skip labels so that they do not overlap (about 7 px per character at this size).
    widest = max((len(label) for label in chart.labels), default=1)
    label_every = max(1, math.ceil(n * (widest * 7 + 6) / plot_w))
    for i, label in enumerate(chart.labels):
        if i % label_every == 0:
            x = PAD_LEFT + i * step + step / 2
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    count = max(len(chart.series), 1)
    for s_index, (name, series) in enumerate(chart.series.items()):
        colour = PALETTE[s_index % len(PALETTE)]
        if chart.kind == "bar":
            bar_w = step * 0.8 / count
            for i, value in enumerate(series):
                h = plot_h * value / top
                x = PAD_LEFT + i * step + step * 0.1 + s_index * bar_w
                parts.append(
                    f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                    f'height="{h:.1f}" fill="{colour}"><title>{escape(chart.labels[i])} '
                    f"{escape(name)}: {_fmt(value)}</title></rect>"
                )
        else:
            points = " ".join(
                f"{PAD_LEFT + i * step + step / 2:.1f},{PAD_TOP + plot_h - plot_h * v / top:.1f}"
                for i, v in enumerate(series)
            )
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        parts.append(
            f'<rect x="{PAD_LEFT + 10 + s_index * 140}" y="{HEIGHT - 18}" width="10" height="10" '
            f'fill="{colour}"/><text x="{PAD_LEFT + 24 + s_index * 140}" y="{HEIGHT - 9}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"
