"""Charts as inline SVG, drawn on the server: no script, no external asset, readable without colour
(every mark has a <title> with its exact value).

Amounts come in as cents; pixel geometry is float, money never is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from reporting.entrypoints.formats import compact_usd, usd

WIDTH = 560
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#0ea5e9", "#84cc16", "#ec4899")
NEUTRAL = "#6b7280"


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    values: Sequence[int]


def nice_scale(smallest: int, largest: int, ticks: int = 4) -> tuple[int, int, int]:
    """(low, high, step) of a value axis holding [smallest, largest] and zero in about `ticks` steps of
    1, 2 or 5 times a power of ten cents (a dollar at least), so that the gridlines read $100, $200..."""
    span = max(largest, 0) - min(smallest, 0)
    step = 100
    while step * ticks < span:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return -_round_up(-min(smallest, 0), step), _round_up(max(largest, 0), step) or step, step


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def _n(value: float) -> str:
    return f"{value:.1f}"


def _open(chart_id: str, title: str, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
    )


def _empty(chart_id: str, title: str, text: str, height: int = 160) -> str:
    return (
        _open(chart_id, title, height)
        + f'<rect class="frame" x="0.5" y="0.5" width="{WIDTH - 1}" height="{height - 1}" rx="6"/>'
        + f'<text class="empty" x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle">{escape(text)}</text>'
        + "</svg>"
    )


def _value_axis(
    low: int, high: int, step: int, scale: Callable[[int], float], left: float, right: float
) -> str:
    parts = []
    for value in range(low, high + 1, step):
        y = scale(value)
        parts.append(f'<line class="grid" x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y)}" y2="{_n(y)}"/>')
        parts.append(
            f'<text class="tick" x="{_n(left - 6)}" y="{_n(y + 4)}" text-anchor="end">'
            f"{compact_usd(value)}</text>"
        )
    return "".join(parts)


def stacked_bars(
    chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series], empty: str
) -> str:
    """One bar per category, stacked by series (credits, being negative, are left out of the bars)."""
    totals = [sum(max(s.values[i], 0) for s in series) for i in range(len(categories))]
    if not any(totals):
        return _empty(chart_id, title, empty)
    height, left, right, top, bottom = 300, 64.0, WIDTH - 12.0, 14.0, 268.0
    _, high, step = nice_scale(0, max(totals))

    def y(value: int) -> float:
        return bottom - (bottom - top) * value / high

    band = (right - left) / len(categories)
    bar = band * 0.62
    parts = [_open(chart_id, title, height), _value_axis(0, high, step, y, left, right)]
    for i, category in enumerate(categories):
        x = left + band * i + (band - bar) / 2
        level = 0
        for s in series:
            value = max(s.values[i], 0)
            if not value:
                continue
            y_top, y_bottom = y(level + value), y(level)
            level += value
            parts.append(
                f'<rect class="bar" x="{_n(x)}" y="{_n(y_top)}" width="{_n(bar)}" '
                f'height="{_n(y_bottom - y_top)}" fill="{s.color}">'
                f"<title>{escape(s.label)}, {escape(category)} days: {usd(value)}</title></rect>"
            )
        parts.append(
            f'<text class="label" x="{_n(left + band * i + band / 2)}" y="{_n(bottom + 18)}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
        parts.append(
            f'<text class="total" x="{_n(left + band * i + band / 2)}" y="{_n(y(totals[i]) - 5)}" '
            f'text-anchor="middle">{compact_usd(totals[i])}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{_n(left)}" x2="{_n(right)}" y1="{_n(bottom)}" y2="{_n(bottom)}"/></svg>'
    )
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    detail: str


def horizontal_bars(chart_id: str, title: str, bars: Sequence[Bar], color: str, empty: str) -> str:
    if not bars or not any(b.value > 0 for b in bars):
        return _empty(chart_id, title, empty)
    row, top, left, right = 30.0, 12.0, 84.0, WIDTH - 96.0
    # At least as tall as an empty chart, so the cards of the dashboard line up.
    height = max(int(top * 2 + row * len(bars)), 160)
    high = max(b.value for b in bars)
    parts = [_open(chart_id, title, height)]
    for i, item in enumerate(bars):
        y = top + row * i
        width = max((right - left) * max(item.value, 0) / high, 1.0)
        parts.append(
            f'<text class="label" x="{_n(left - 8)}" y="{_n(y + row / 2 + 4)}" text-anchor="end">'
            f"{escape(item.label)}</text>"
        )
        parts.append(
            f'<rect class="bar" x="{_n(left)}" y="{_n(y + 5)}" width="{_n(width)}" height="{_n(row - 10)}" '
            f'fill="{color}"><title>{escape(item.label)}: {usd(item.value)}, {escape(item.detail)}</title>'
            "</rect>"
        )
        parts.append(
            f'<text class="value" x="{_n(left + width + 6)}" y="{_n(y + row / 2 + 4)}">'
            f"{usd(item.value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series], empty: str) -> str:
    values = [v for s in series for v in s.values]
    if not labels or not any(values):
        return _empty(chart_id, title, empty)
    height, left, right, top, bottom = 300, 64.0, WIDTH - 28.0, 14.0, 256.0
    low, high, step = nice_scale(min(values), max(values))

    def y(value: int) -> float:
        return bottom - (bottom - top) * (value - low) / (high - low)

    spacing = (right - left) / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + spacing * i if len(labels) > 1 else (left + right) / 2

    parts = [_open(chart_id, title, height), _value_axis(low, high, step, y, left, right)]
    every = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            # A label may have a second line ("Jan\n2025"), as a tspan below the first.
            first, _, second = label.partition("\n")
            below = f'<tspan x="{_n(x(i))}" dy="13">{escape(second)}</tspan>' if second else ""
            parts.append(
                f'<text class="label" x="{_n(x(i))}" y="{_n(bottom + 17)}" text-anchor="middle">'
                f"{escape(first)}{below}</text>"
            )
    for s in series:
        points = " ".join(f"{_n(x(i))},{_n(y(v))}" for i, v in enumerate(s.values))
        parts.append(
            f'<polyline class="line" points="{points}" fill="none" stroke="{s.color}" stroke-width="2.5"/>'
        )
        for i, v in enumerate(s.values):
            parts.append(
                f'<circle class="point" cx="{_n(x(i))}" cy="{_n(y(v))}" r="3.5" fill="{s.color}">'
                f"<title>{escape(s.label)}, {escape(labels[i])}: {usd(v)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def legend(series: Sequence[Series]) -> str:
    items = "".join(
        f'<li><svg width="12" height="12" aria-hidden="true">'
        f'<rect width="12" height="12" rx="2" fill="{s.color}"/></svg>{escape(s.label)}</li>'
        for s in series
    )
    return f'<ul class="legend">{items}</ul>'
