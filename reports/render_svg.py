"""Charts as inline SVG: no script, no CDN, readable without a network.

Read at a glance: a y axis with round ticks and grid lines, the value on each bar when the
bars are few enough to carry it, dots on a line's points, a legend, and every figure in a
tooltip. Presentation attributes only (no ``style``), so a strict CSP keeps them.
"""

from __future__ import annotations

import math
from html import escape

from reports.document import Chart

PALETTE = ("#2f6db5", "#e07b28", "#3a9a5b", "#b23b3b", "#7a5cb5")
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 760, 280, 56, 48, 20, 10
MAX_VALUE_LABELS = 31  # bars (per series) that still have room for their value on top


def nice_top(value: float) -> float:
    """The axis top: the smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def chart_svg(chart: Chart) -> str:
    values = [v for series in chart.series.values() for v in series]
    top = nice_top(max(values, default=0.0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(chart.labels), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(chart.title)}" font-size="11">',
        *_axis(top, plot_h, chart.unit),
        *_x_labels(chart.labels, step, plot_w),
    ]
    count = max(len(chart.series), 1)
    for s_index, (name, series) in enumerate(chart.series.items()):
        colour = PALETTE[s_index % len(PALETTE)]
        geometry = (top, plot_h, step)
        if chart.kind == "bar":
            parts.extend(_bars(chart, name, series, colour, s_index, count, geometry))
        else:
            parts.extend(_line(chart, name, series, colour, geometry))
        parts.append(
            f'<rect x="{PAD_LEFT + 10 + s_index * 140}" y="{HEIGHT - 16}" width="10" height="10" '
            f'fill="{colour}"/><text x="{PAD_LEFT + 24 + s_index * 140}" y="{HEIGHT - 7}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _axis(top: float, plot_h: float, unit: str) -> list[str]:
    parts = []
    for tick in range(5):
        value = top * tick / 4
        y = PAD_TOP + plot_h - plot_h * tick / 4
        grid = "#888" if tick == 0 else "#e3e6ea"
        parts.append(
            f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" '
            f'stroke="{grid}"/><text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(value)}{escape(unit) if tick == 4 else ''}</text>"
        )
    return parts


def _x_labels(labels: list[str], step: float, plot_w: float) -> list[str]:
    # Skip labels so that they do not overlap (about 7 px per character at this size).
    widest = max((len(label) for label in labels), default=1)
    every = max(1, math.ceil(len(labels) * (widest * 7 + 6) / plot_w))
    return [
        f'<text x="{PAD_LEFT + i * step + step / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" '
        f'text-anchor="middle">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def _bars(
    chart: Chart,
    name: str,
    series: list[float],
    colour: str,
    s_index: int,
    count: int,
    geometry: tuple[float, float, float],
) -> list[str]:
    top, plot_h, step = geometry
    bar_w = step * 0.8 / count
    with_values = len(series) <= MAX_VALUE_LABELS and bar_w >= 14
    parts = []
    for i, value in enumerate(series):
        h = plot_h * value / top
        x = PAD_LEFT + i * step + step * 0.1 + s_index * bar_w
        y = PAD_TOP + plot_h - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(chart.labels[i])} {escape(name)}: '
            f"{_fmt(value)}{escape(chart.unit)}</title></rect>"
        )
        if with_values and value:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="9" fill="#444">{_fmt(value)}</text>'
            )
    return parts


def _line(
    chart: Chart, name: str, series: list[float], colour: str, geometry: tuple[float, float, float]
) -> list[str]:
    top, plot_h, step = geometry
    points = [
        (PAD_LEFT + i * step + step / 2, PAD_TOP + plot_h - plot_h * v / top)
        for i, v in enumerate(series)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts = [f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>']
    parts.extend(
        f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>'
        f"{escape(chart.labels[i])} {escape(name)}: {_fmt(series[i])}{escape(chart.unit)}"
        "</title></circle>"
        for i, (x, y) in enumerate(points)
    )
    return parts


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
