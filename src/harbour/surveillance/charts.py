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


def _y_label(text: str, plot_top: float, plot_bottom: float) -> str:
    """The measure, written up the left edge (visible, not only in the title)."""
    middle = (plot_top + plot_bottom) / 2
    return (
        f'<text class="axis-label" x="{-middle:.1f}" y="13" transform="rotate(-90)" '
        f'text-anchor="middle">{escape(text)}</text>'
    )


def _x_label(text: str, x: float, y: float) -> str:
    return (
        f'<text class="axis-label" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">'
        f"{escape(text)}</text>"
    )


def _left(labels: Sequence[str]) -> int:
    """Room for the longest tick label and the axis label beside it (12px text)."""
    return 26 + 7 * max([len(label) for label in labels] + [1])


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


def _area_name(cell: str) -> str:
    """The postal area nearest the hexagon's centre (the areas it counts are around it)."""
    from harbour.core import geo

    lat, lng = h3.cell_to_latlng(cell)
    return geo.nearest_fsa(lat, lng) or ""


def _beside(text: str, cx: float, cy: float, size: float, width: int) -> str:
    """A label next to a hexagon too small to hold it, on the side with room."""
    if cx > width * 0.6:
        return (
            f'<text x="{cx - size / 2 - 3:.1f}" y="{cy + 4:.1f}" text-anchor="end">'
            f"{escape(text)}</text>"
        )
    return f'<text x="{cx + size / 2 + 3:.1f}" y="{cy + 4:.1f}">{escape(text)}</text>'


def _map_legend(top: int, width: int) -> list[str]:
    """What the colours mean, under the map."""
    items = [
        ("rgba(179,38,30,0.25)", _("fewer")),
        ("rgba(179,38,30,1.00)", _("more")),
        ("#d9d9d9", _("1 to 4 (“<5”), hidden")),
    ]
    parts = []
    x = 8.0
    for colour, label in items:
        parts.append(
            f'<rect x="{x:.0f}" y="{top + 14}" width="14" height="14" fill="{colour}" '
            f'stroke="{INK}" stroke-width="0.5"/>'
            f'<text x="{x + 18:.0f}" y="{top + 26}">{escape(label)}</text>'
        )
        x += 18 + 7 * len(label) + 14
    caption = _("Overdose events in each area")
    parts.append(f'<text x="8" y="{top + 42}">{escape(caption)}</text>')
    return parts


# Areas further apart than this are drawn as separate maps (one per town or city): one map of
# Kingston and Montréal together is two specks in the corners of an empty box.
MAP_GROUP_KM = 60.0


def _groups(cells: Mapping[str, int | suppression.Cell]) -> list[list[str]]:
    """Cells joined when their centres are within ``MAP_GROUP_KM`` (single linkage), largest
    group first."""
    from harbour.core import geo

    centres = {cell: h3.cell_to_latlng(cell) for cell in cells}
    parent = {cell: cell for cell in cells}

    def root(cell: str) -> str:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    names = sorted(cells)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if geo.haversine_km(*centres[a], *centres[b]) <= MAP_GROUP_KM:
                parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for cell in names:
        groups.setdefault(root(cell), []).append(cell)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _group_name(group: Sequence[str]) -> str:
    """Where a group of cells is: the town of the postal area nearest its middle."""
    from harbour.core import geo

    points = [h3.cell_to_latlng(cell) for cell in group]
    lat = sum(p[0] for p in points) / len(points)
    lng = sum(p[1] for p in points) / len(points)
    fsa = geo.nearest_fsa(lat, lng, within_km=MAP_GROUP_KM)
    place = geo.fsa_centroid(fsa) if fsa else None
    if place is None:
        return ""
    import re

    return re.sub(r"\s*\([^)]*\)", "", place.label.split(" · ", 1)[1])  # "Kingston, ON"


def hex_map(
    cells: Mapping[str, int | suppression.Cell], *, title: str, chart_id: str = "map",
    width: int = 360, height: int = 260, largest_hex_px: float = 56,
) -> SafeString:  # fmt: skip
    """H3 cells as hexagons with their counts, darker for more events; a suppressed count
    (public pages) is a plain grey hexagon labelled "<5", so no small count is readable from
    the colour. The scale fits every cell but never draws a hexagon wider than
    ``largest_hex_px``, so one busy area does not fill the page. Areas far apart (several
    towns) are drawn as one map per town, each titled with its place."""
    if not cells:
        return mark_safe("")
    groups = _groups(cells) if len(cells) <= 300 else [list(cells)]
    if len(groups) > 1:
        return mark_safe(  # noqa: S308 -- each part is a SafeString built below
            "".join(
                _hex_map(
                    {cell: cells[cell] for cell in group},
                    title=f"{title} · {_group_name(group)}".rstrip(" ·"),
                    place=_group_name(group),
                    chart_id=f"{chart_id}-{n}",
                    width=width,
                    height=height,
                    largest_hex_px=largest_hex_px,
                )
                for n, group in enumerate(groups, start=1)
            )
        )
    return _hex_map(cells, title=title, chart_id=chart_id, width=width, height=height,
                    largest_hex_px=largest_hex_px)  # fmt: skip


def _hex_map(
    cells: Mapping[str, int | suppression.Cell], *, title: str, chart_id: str,
    width: int, height: int, largest_hex_px: float, place: str = "",
) -> SafeString:  # fmt: skip
    """One map; ``place`` (one of several towns) is written above it."""
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
    height = max(height, 60)
    off_x = (width - span_x * k) / 2
    head = 20 if place else 0  # room for the town's name above its map
    off_y = (height - span_y * k) / 2 + head
    values = [c.value if isinstance(c, suppression.Cell) else c for c in cells.values()]
    top = max([*values, 1])
    legend_h = 52
    parts = _open(title, chart_id, height=height + head + legend_h, width=width)
    if place:
        parts.append(f'<text class="axis-label" x="8" y="14">{escape(place)}</text>')
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
        name = _area_name(cell)
        label = f"{name}: {shown}" if name else shown
        parts.append(
            f'<polygon points="{points}" fill="{fill}" stroke="{INK}" stroke-width="0.5">'
            f"<title>{escape(label)}</title></polygon>"
        )
        size = k * hex_span
        if size >= 44 and name:  # the area and its count inside the hexagon
            parts.append(
                f'<text x="{cx:.1f}" y="{cy - 3:.1f}" text-anchor="middle" fill="{ink}">'
                f'{escape(name)}</text><text x="{cx:.1f}" y="{cy + 12:.1f}" '
                f'text-anchor="middle" fill="{ink}">{escape(shown)}</text>'
            )
        else:  # a small hexagon: its label beside it
            parts.append(_beside(label, cx, cy, size, width))
    parts += _map_legend(height + head, width)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric


def weekly(
    weeks: Sequence[Any], cells: Sequence[suppression.Cell], *, title: str,
    chart_id: str = "weeks", y_label: str = "", x_label: str = "",
) -> SafeString:  # fmt: skip
    """Bars of published weekly counts; a hidden week is its mark ("<5" or "x") without a
    bar. ``y_label`` and ``x_label`` are written along the axes."""
    if not weeks:
        return mark_safe("")
    top = _ticks(max([c.value for c in cells if not c.suppressed] + [4]))[-1]
    ticks = _ticks(top)
    left = _left([str(tick) for tick in ticks])
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM + 20
    step = plot_w / len(weeks)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = _open(title, chart_id, height=HEIGHT)
    if y_label:
        parts.append(_y_label(y_label, TOP, y(0)))
    if x_label:
        parts.append(_x_label(x_label, left + plot_w / 2, y(0) + 36))
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick}</text>"
        )
    for i, (week, cell) in enumerate(zip(weeks, cells, strict=True)):
        x = left + step * i
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


def quarter_label(period: str) -> str:
    """ "2024 Q4" as the person reads it: "Q4 2024", or "T4 2024" (trimestre) in French."""
    year, _sep, quarter = period.partition(" Q")
    if not quarter:
        return period
    return _("Q%(quarter)s %(year)s") % {"quarter": quarter, "year": year}


def quarterly(
    rows: Sequence[Any], *, title: str, chart_id: str = "quarters", y_label: str = "",
    x_label: str = "",
) -> SafeString:  # fmt: skip
    """Bars of a published quarterly series; a suppressed or missing quarter is a gap with a
    dash. ``y_label`` (the measure) and ``x_label`` are written along the axes."""
    if not rows:
        return mark_safe("")
    top = max([r.value or 0 for r in rows] + [1])
    ticks = _ticks(top)
    top = ticks[-1]
    labels = [f"{tick:,}".replace(",", "\u202f") for tick in ticks]
    left = _left(labels)
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / len(rows)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = _open(title, chart_id)
    if y_label:
        parts.append(_y_label(y_label, TOP, y(0)))
    if x_label:
        parts.append(_x_label(x_label, left + plot_w / 2, HEIGHT - BOTTOM + 36))
    for tick, label in zip(ticks, labels, strict=True):
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{label}</text>"
        )
    for i, row in enumerate(rows):
        x = left + step * i
        if row.value is None:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{y(0) - 4:.1f}" text-anchor="middle">–</text>'
            )
            continue
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{y(row.value):.1f}" '
            f'width="{max(step * 0.7, 1):.1f}" height="{y(0) - y(row.value):.1f}" fill="{LINE}">'
            f"<title>{escape(quarter_label(row.period))}: {row.value:g}</title></rect>"
        )
        if row.period.endswith("Q1"):
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(row.period[:4])}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric
