"""Server-side SVG charts: no JavaScript, readable by screen readers (title, description and the
same figures in a table beside them), a few kilobytes each."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 40
SERIES = (("fentanyl", "#b3261e"), ("benzodiazepines", "#1a5fb4"))


def monthly_shares(months: Sequence[Any]) -> SafeString:
    """Grouped bars: per month, the share of samples bought as opioids that held fentanyl and
    benzodiazepines. Suppressed shares (too few samples) get no bar and a dash."""
    if not months:
        return mark_safe("")
    months = list(months)[-12:]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / len(months)
    bar = min(28.0, group * 0.35)
    title = _("Samples bought as opioids that held fentanyl or benzodiazepines, by month")
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for pct in (0, 25, 50, 75, 100):
        y = TOP + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
        )
    for index, month in enumerate(months):
        x0 = LEFT + group * index + (group - 2 * bar) / 2
        for offset, (name, colour) in enumerate(SERIES):
            share = getattr(month, name).fraction
            x = x0 + offset * bar
            if share is None:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h - 4:.1f}" '
                    f'text-anchor="middle">–</text>'
                )
                continue
            height = plot_h * share
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar - 2:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>'
                f"{escape(date_format(month.month, 'YEAR_MONTH_FORMAT'))}: {round(share * 100)}%"
                "</title></rect>"
            )
        parts.append(
            f'<text x="{LEFT + group * index + group / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(month.month.strftime("%Y-%m"))}</text>'
        )
    legend_x = LEFT
    for name, colour in SERIES:
        label = _("fentanyl") if name == "fentanyl" else _("benzodiazepines")
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{HEIGHT - 4}">{escape(label)}</text>'
        )
        legend_x += 150
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric
