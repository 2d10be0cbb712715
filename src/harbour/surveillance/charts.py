"""SVG for the surveillance pages: a daily time series with the expected band and the days
flagged, a hexagon map of counts, and published quarterly series. Written on the server (no
JavaScript), each with a title for screen readers; the pages show the same figures in tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import h3
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from harbour.core import suppression

WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 36, 10, 16, 58
INK, BAND, LINE, ALARM = "#1b1b1b", "#cfe0f5", "#1a5fb4", "#b3261e"


def _ticks(top: float) -> list[int]:
    step = max(1, int(top // 4) or 1)
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if nice >= top / 4:
            step = nice
            break
    return list(range(0, int(top) + step, step))


def _open(title: str, chart_id: str, height: int = HEIGHT, width: int = WIDTH) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]


def _legend(items: Sequence[tuple[str, str]]) -> list[str]:
    """Two items a row under the plot."""
    parts = []
    for n, (colour, label) in enumerate(items):
        x = LEFT + (n % 2) * (WIDTH - LEFT) / 2
        y = HEIGHT - 26 + (n // 2) * 18
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16:.0f}" y="{y}">{escape(label)}</text>'
        )
    return parts


def timeline(days: Sequence[Any], *, title: str, chart_id: str = "timeline") -> SafeString:
    """Bars of daily counts, the band from 0 to the detector's threshold shaded behind them,
    the expected count as a line, and the days flagged marked in red."""
    if not days:
        return mark_safe("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([d.count for d in days] + [d.upperbound or 0 for d in days] + [4])
    ticks = _ticks(top)
    top = ticks[-1]
    step = plot_w / len(days)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = _open(title, chart_id)
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick}</text>"
        )
    band = [
        f"{LEFT + step * i:.1f},{y(d.upperbound):.1f} {LEFT + step * (i + 1):.1f},"
        f"{y(d.upperbound):.1f}"
        for i, d in enumerate(days)
        if d.upperbound is not None
    ]
    if band:
        first = next(i for i, d in enumerate(days) if d.upperbound is not None)
        last = max(i for i, d in enumerate(days) if d.upperbound is not None)
        parts.append(
            f'<polygon fill="{BAND}" points="{LEFT + step * first:.1f},{y(0):.1f} '
            f'{" ".join(band)} {LEFT + step * (last + 1):.1f},{y(0):.1f}"/>'
        )
    for i, d in enumerate(days):
        if d.count:
            colour = ALARM if d.alarm else INK
            parts.append(
                f'<rect x="{LEFT + step * i + step * 0.15:.1f}" y="{y(d.count):.1f}" '
                f'width="{max(step * 0.7, 1):.1f}" height="{y(0) - y(d.count):.1f}" '
                f'fill="{colour}"><title>{d.day:%Y-%m-%d}: {d.count}</title></rect>'
            )
        if d.alarm:
            parts.append(
                f'<path d="M{LEFT + step * (i + 0.5):.1f},{y(d.count) - 4:.1f} l-5,-9 h10 z" '
                f'fill="{ALARM}"/>'
            )
    expected = [
        f"{LEFT + step * (i + 0.5):.1f},{y(d.expected):.1f}"
        for i, d in enumerate(days)
        if d.expected is not None
    ]
    if len(expected) > 1:
        parts.append(
            f'<polyline fill="none" stroke="{LINE}" stroke-width="2" '
            f'points="{" ".join(expected)}"/>'
        )
    for i in range(0, len(days), max(1, len(days) // 6)):
        parts.append(
            f'<text x="{LEFT + step * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{days[i].day:%m-%d}</text>'
        )
    legend = [
        (INK, _("events a day")),
        (BAND, _("up to the threshold")),
        (LINE, _("expected")),
        (ALARM, _("flagged")),
    ]
    parts += _legend(legend)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric


def hex_map(
    cells: Mapping[str, int | suppression.Cell], *, title: str, chart_id: str = "map",
    width: int = 360, height: int = 260, largest_hex_px: float = 56,
) -> SafeString:  # fmt: skip
    """H3 cells as hexagons with their counts, darker for more events; a suppressed count
    (public pages) is a plain grey hexagon labelled "<5", so no small count is readable from
    the colour. The scale fits every cell but never draws a hexagon wider than
    ``largest_hex_px``, so one busy area does not fill the page."""
    if not cells:
        return mark_safe("")
    import math

    shapes = {cell: h3.cell_to_boundary(cell) for cell in cells}
    lats = [lat for ring in shapes.values() for lat, _lng in ring]
    lngs = [lng for ring in shapes.values() for _lat, lng in ring]
    min_lat, max_lat, min_lng, max_lng = min(lats), max(lats), min(lngs), max(lngs)
    scale_x = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lng - min_lng) * scale_x, 1e-6)
    span_y = max(max_lat - min_lat, 1e-6)
    one = next(iter(shapes.values()))
    hex_span = max((max(g for _a, g in one) - min(g for _a, g in one)) * scale_x, 1e-6)
    pad = 8
    k = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y, largest_hex_px / hex_span)
    height = int(min(height, span_y * k + 2 * pad + 1))  # no empty band under a small map
    off_x = (width - span_x * k) / 2
    off_y = (height - span_y * k) / 2
    values = [c.value if isinstance(c, suppression.Cell) else c for c in cells.values()]
    top = max([*values, 1])
    parts = _open(title, chart_id, height=height, width=width)
    for cell, count in cells.items():
        hidden = isinstance(count, suppression.Cell) and count.suppressed
        value = count.value if isinstance(count, suppression.Cell) else count
        shown = str(count)
        ring = shapes[cell]
        xy = [(off_x + (lng - min_lng) * scale_x * k, off_y + (max_lat - lat) * k)
              for lat, lng in ring]  # fmt: skip
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        cx = sum(x for x, _y in xy) / len(xy)
        cy = sum(y for _x, y in xy) / len(xy)
        if hidden:
            fill, ink = "#d9d9d9", INK
        else:
            strength = 0.2 + 0.8 * value / top
            fill, ink = f"rgba(179,38,30,{strength:.2f})", "#ffffff" if strength > 0.55 else INK
        parts.append(
            f'<polygon points="{points}" fill="{fill}" stroke="#ffffff" stroke-width="1">'
            f"<title>{escape(shown)}</title></polygon>"
        )
        if k * hex_span >= 22:
            parts.append(
                f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" fill="{ink}">'
                f"{escape(shown)}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric


def weekly(
    weeks: Sequence[Any], cells: Sequence[suppression.Cell], *, title: str,
    chart_id: str = "weeks",
) -> SafeString:  # fmt: skip
    """Bars of published weekly counts; a hidden week is its mark ("<5" or "x") without a
    bar."""
    if not weeks:
        return mark_safe("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM + 20
    top = _ticks(max([c.value for c in cells if not c.suppressed] + [4]))[-1]
    step = plot_w / len(weeks)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = _open(title, chart_id, height=HEIGHT - 20)
    for tick in _ticks(top):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick}</text>"
        )
    for i, (week, cell) in enumerate(zip(weeks, cells, strict=True)):
        x = LEFT + step * i
        if cell.suppressed:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{y(0) - 4:.1f}" text-anchor="middle">'
                f"{escape(str(cell))}</text>"
            )
        elif cell.value:
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{y(cell.value):.1f}" '
                f'width="{step * 0.7:.1f}" height="{y(0) - y(cell.value):.1f}" fill="{ALARM}">'
                f"<title>{week:%Y-%m-%d}: {cell.value}</title></rect>"
            )
        if i % 2 == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{y(0) + 16:.1f}" text-anchor="middle">'
                f"{escape(date_format(week, 'j M'))}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric


def quarterly(rows: Sequence[Any], *, title: str, chart_id: str = "quarters") -> SafeString:
    """Bars of a published quarterly series; a suppressed or missing quarter is a gap with a
    dash."""
    if not rows:
        return mark_safe("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([r.value or 0 for r in rows] + [1])
    ticks = _ticks(top)
    top = ticks[-1]
    step = plot_w / len(rows)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = _open(title, chart_id)
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick:,}</text>".replace(",", " ")
        )
    for i, row in enumerate(rows):
        x = LEFT + step * i
        if row.value is None:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{y(0) - 4:.1f}" text-anchor="middle">–</text>'
            )
            continue
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{y(row.value):.1f}" '
            f'width="{max(step * 0.7, 1):.1f}" height="{y(0) - y(row.value):.1f}" fill="{LINE}">'
            f"<title>{escape(row.period)}: {row.value:g}</title></rect>"
        )
        if row.period.endswith("Q1"):
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(row.period[:4])}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric
