"""The report's chart: encounters and naloxone kits given, week by week, as server-side SVG
(no JavaScript; a title for screen readers and the same figures in a table beside it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from harbour.core.suppression import Cell

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 44
SERIES = (("encounters", "#0b5394"), ("naloxone", "#b3261e"))


def _nice(top: int) -> int:
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 4:
            return step
    return max(1, top // 4)


def weekly(weeks: Sequence[tuple[date, Cell, Cell, Cell]]) -> SafeString:
    """Grouped bars per week. A suppressed count ("<5") gets no bar and a dash."""
    weeks = list(weeks)[-26:]
    if not weeks:
        return mark_safe("")
    values = [c.shown or 0 for _m, enc, _p, nal in weeks for c in (enc, nal)]
    step = _nice(max([*values, 1]))
    top = step * 4
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / len(weeks)
    bar = max(2.0, min(18.0, group * 0.38))
    title = _("Encounters and naloxone kits given, by week")
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="outreach-chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="outreach-chart-title">{escape(title)}</title>',
    ]
    for tick in range(5):
        value = step * tick
        y = TOP + plot_h * (1 - value / top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    label_every = max(1, len(weeks) // 8)
    for index, (monday, encounters, _people, naloxone) in enumerate(weeks):
        x0 = LEFT + group * index + (group - 2 * bar) / 2
        for offset, (cell, (_name, colour)) in enumerate(
            zip((encounters, naloxone), SERIES, strict=True)
        ):
            x = x0 + offset * bar
            if cell.shown is None:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h - 4:.1f}" '
                    f'text-anchor="middle">–</text>'
                )
                continue
            height = plot_h * cell.shown / top
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar - 1:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>'
                f"{escape(date_format(monday, 'SHORT_DATE_FORMAT'))}: {cell.shown}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{LEFT + group * index + group / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(monday.strftime("%m-%d"))}</text>'
            )
    legend_x = LEFT
    for name, colour in SERIES:
        label = _("encounters") if name == "encounters" else _("naloxone kits given")
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{HEIGHT - 4}">{escape(label)}</text>'
        )
        legend_x += 180
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric
