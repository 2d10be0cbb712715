"""The service-gap chart: server-side SVG, no JavaScript, a title for screen readers and the
same figures in the table beside it. Suppressed counts get no bar, only their mark ("<5" or
"x")."""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from harbour.referrals.report import Report

WIDTH = 360  # narrow, so that the text stays readable on a phone
RIGHT, TOP, ROW_H, BAR_H = 36, 4, 50, 12
SERIES = (("total", "#1a5fb4"), ("no_capacity", "#b3261e"))


def gaps(report: Report, labels: dict[str, str]) -> SafeString:
    """Per type of service: referrals made, and declines for lack of capacity (a name, then
    its two bars, one type under the other)."""
    if not report.lines:
        return mark_safe("")
    height = TOP + ROW_H * len(report.lines) + 24
    biggest = max((line.total.value for line in report.lines), default=0) or 1
    plot_w = WIDTH - RIGHT
    title = _("Referrals by type of service, and how many were declined for lack of capacity")
    parts = [
        f'<svg class="chart gap-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="gap-chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="gap-chart-title">{escape(title)}</title>',
    ]
    for index, line in enumerate(report.lines):
        y = TOP + ROW_H * index
        name = labels.get(line.service_type, line.service_type) or _("Not specified")
        parts.append(f'<text x="0" y="{y + 11}" font-weight="600">{escape(name[:48])}</text>')
        for offset, (series, colour) in enumerate(SERIES):
            figure = line.total if series == "total" else line.cell("no_capacity")
            top = y + 16 + offset * (BAR_H + 3)
            if figure.suppressed:
                parts.append(f'<text x="2" y="{top + BAR_H - 2}">{escape(str(figure))}</text>')
                continue
            width = max(plot_w * figure.value / biggest, 1 if figure.value else 0)
            parts.append(
                f'<rect x="0" y="{top}" width="{width:.1f}" height="{BAR_H}" '
                f'fill="{colour}"><title>{escape(name)}: {figure.value}</title></rect>'
                f'<text x="{width + 4:.1f}" y="{top + BAR_H - 2}">{figure.value}</text>'
            )
    legend_y = height - 6
    x = 0
    for series, colour in SERIES:
        label = _("referrals") if series == "total" else _("declined: no capacity")
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{legend_y}">{escape(label)}</text>'
        )
        x += 120
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value above is escaped or numeric
