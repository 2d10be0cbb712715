"""Coordinators' dashboard (signals, time series, map, panels, settings, CSV, printable report)
and the public summary."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from harbour.accounts.selectors import organization_for
from harbour.core import csvsafe
from harbour.core.roles import Role
from harbour.surveillance import charts, selectors, services
from harbour.surveillance.forms import AreaForm, DismissForm, ReportForm, SettingsForm
from harbour.surveillance.models import Level, Signal, SignalStatus


def _today() -> date:
    return selectors.local_day(timezone.now())


def _timeline_title(line: selectors.Timeline) -> str:
    where = line.area or _("the whole community")
    return _("Overdose events a day, %(where)s, with the expected range") % {"where": where}


@login_required
@require_safe
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.VIEWER)
    today = _today()
    line = selectors.timeline(org, days=90, today=today)
    events = services.visible_events(org).filter(
        occurred_at__gte=timezone.now() - timedelta(days=28)
    )
    return render(
        request,
        "surveillance/staff/dashboard.html",
        {
            "org": org,
            "can_act": _can_act(request, org),
            "new_signals": selectors.signals_for(
                request.user, organization=org, status=SignalStatus.NEW
            )[:50],
            "recent_signals": selectors.signals_for(request.user, organization=org).exclude(
                status=SignalStatus.NEW
            )[:10],
            "line": line,
            "chart": charts.timeline(line.days, title=_timeline_title(line)),
            "areas": selectors.area_counts(org, days=28)[:30],
            "map": charts.hex_map(
                selectors.suppressed(selectors.cell_counts(events)),
                title=_("Events in the last 28 days, by area (counts under 5 hidden)"),
            ),
            "panels": selectors.panels(request.user, org, today - timedelta(days=27), today),
            "settings": services.settings_for(org),
        },
    )


def _can_act(request: HttpRequest, org: Any) -> bool:
    from harbour.core.permissions import role_in
    from harbour.core.roles import role_at_least

    role = role_in(request.user, org.pk)
    return bool(role and role_at_least(role, Role.COORDINATOR))


def _signal(request: HttpRequest, org: Any, signal_id: Any) -> Signal:
    found = selectors.signals_for(request.user, organization=org).filter(pk=signal_id).first()
    if found is None:
        raise Http404
    return found


@login_required
@require_safe
def signal_detail(request: HttpRequest, slug: str, signal_id: Any) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.VIEWER)
    signal = _signal(request, org, signal_id)
    level = signal.level if signal.level != Level.CLUSTER else Level.CLUSTER
    line = selectors.timeline(org, level=level, area=signal.area, days=60, today=_today())
    return render(
        request,
        "surveillance/staff/signal.html",
        {
            "org": org,
            "signal": signal,
            "can_act": _can_act(request, org),
            "form": DismissForm(),
            "line": line,
            "chart": charts.timeline(line.days, title=_timeline_title(line)),
        },
    )


@login_required
@require_POST
def signal_action(request: HttpRequest, slug: str, signal_id: Any, action: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    signal = _signal(request, org, signal_id)
    if action == "alert":
        try:
            alert = services.signal_to_alert(signal=signal, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("surveillance-staff:signal", slug=org.slug, signal_id=signal.pk)
        messages.success(request, _("Alert draft made. Check it, then send it for approval."))
        return redirect("alerts-staff:review", slug=org.slug, alert_id=alert.pk)
    if action != "dismiss":
        raise Http404
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.signal_dismiss(
                signal=signal, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Signal dismissed."))
            return redirect("surveillance-staff:dashboard", slug=org.slug)
    line = selectors.timeline(org, level=signal.level, area=signal.area, days=60, today=_today())
    return render(
        request,
        "surveillance/staff/signal.html",
        {
            "org": org,
            "signal": signal,
            "can_act": True,
            "form": form,
            "line": line,
            "chart": charts.timeline(line.days, title=_timeline_title(line)),
        },
        status=400,
    )


@login_required
@require_safe
def area(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.VIEWER)
    form = AreaForm(request.GET or None)
    level, name, days = Level.COMMUNITY, "", 90
    if form.is_valid():
        level = form.cleaned_data.get("level") or Level.COMMUNITY
        name = (form.cleaned_data.get("area") or "").strip()
        days = form.cleaned_data.get("days") or 90
        if level == Level.FSA:
            name = name.upper()[:3]
    if level == Level.COMMUNITY:
        name = ""
    line = selectors.timeline(org, level=level, area=name, days=days, today=_today())
    return render(
        request,
        "surveillance/staff/area.html",
        {
            "org": org,
            "form": form,
            "line": line,
            "chart": charts.timeline(line.days, title=_timeline_title(line)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    current = services.settings_for(org)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(organization=org, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Settings saved. They apply from the next run."))
            return redirect("surveillance-staff:dashboard", slug=org.slug)
    return render(request, "surveillance/staff/settings.html", {"org": org, "form": form})


def _period(request: HttpRequest) -> tuple[ReportForm, date, date]:
    form = ReportForm(request.GET or None)
    last = _today()
    first = last - timedelta(days=89)
    if form.is_valid():
        first = form.cleaned_data.get("date_from") or first
        last = form.cleaned_data.get("date_to") or last
    return form, first, last


@login_required
@require_safe
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """A printable page for funders and coalition meetings (the browser's "Save as PDF")."""
    org = organization_for(request.user, slug=slug, minimum=Role.VIEWER)
    form, first, last = _period(request)
    days = (last - first).days + 1
    line = selectors.timeline(org, days=days, today=last)
    signals = selectors.signals_for(request.user, organization=org).filter(
        period_end__date__gte=first, period_end__date__lte=last
    )
    return render(
        request,
        "surveillance/staff/report.html",
        {
            "org": org,
            "form": form,
            "first": first,
            "last": last,
            "line": line,
            "chart": charts.timeline(line.days, title=_timeline_title(line)),
            "signals": signals[:200],
            "signal_count": signals.count(),
            "panels": selectors.panels(request.user, org, first, last),
            "generated": timezone.now(),
        },
    )


@login_required
@require_safe
def export(request: HttpRequest, slug: str, what: str) -> HttpResponse:
    """CSV: daily counts of the period, or the signals."""
    org = organization_for(request.user, slug=slug, minimum=Role.VIEWER)
    _form, first, last = _period(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{org.slug}-{what}-{last}.csv"'
    writer = csvsafe.writer(response)
    if what == "counts":
        line = selectors.timeline(org, days=(last - first).days + 1, today=last)
        writer.writerow(["date", "events", "expected", "threshold", "flagged"])
        for day in line.days:
            writer.writerow([
                day.day.isoformat(), day.count,
                "" if day.expected is None else f"{day.expected:.3f}",
                "" if day.upperbound is None else f"{day.upperbound:.0f}", int(day.alarm),
            ])  # fmt: skip
    elif what == "signals":
        writer.writerow(["found", "method", "level", "area", "from", "to", "observed",
                         "expected", "threshold", "p_value", "status", "reason"])  # fmt: skip
        for s in selectors.signals_for(request.user, organization=org).filter(
            period_end__date__gte=first, period_end__date__lte=last
        ):
            writer.writerow([
                s.created_at.isoformat(timespec="seconds"), s.method, s.level, s.area,
                s.period_start.isoformat(timespec="minutes"),
                s.period_end.isoformat(timespec="minutes"), s.observed,
                "" if s.expected is None else f"{s.expected:.3f}",
                "" if s.upperbound is None else f"{s.upperbound:.0f}",
                "" if s.pvalue is None else f"{s.pvalue:.4f}", s.status, s.dismissed_reason,
            ])  # fmt: skip
    else:
        raise Http404
    return response


REGION_NAMES = {
    "Canada": gettext_lazy("Canada"),
    "Alberta": gettext_lazy("Alberta"),
    "British Columbia": gettext_lazy("British Columbia"),
    "Manitoba": gettext_lazy("Manitoba"),
    "New Brunswick": gettext_lazy("New Brunswick"),
    "Newfoundland and Labrador": gettext_lazy("Newfoundland and Labrador"),
    "Northwest Territories": gettext_lazy("Northwest Territories"),
    "Nova Scotia": gettext_lazy("Nova Scotia"),
    "Nunavut": gettext_lazy("Nunavut"),
    "Ontario": gettext_lazy("Ontario"),
    "Prince Edward Island": gettext_lazy("Prince Edward Island"),
    "Quebec": gettext_lazy("Quebec"),
    "Saskatchewan": gettext_lazy("Saskatchewan"),
    "Yukon": gettext_lazy("Yukon"),
    "Territories": gettext_lazy("Territories"),
    "Northern and rural Manitoba": gettext_lazy("Northern and rural Manitoba"),
    "Winnipeg, Manitoba": gettext_lazy("Winnipeg, Manitoba"),
    "Whitehorse, Yukon": gettext_lazy("Whitehorse, Yukon"),
    "Yellowknife, Northwest Territories": gettext_lazy("Yellowknife, Northwest Territories"),
}


def region_name(region: str) -> str:
    """A region as PHAC names it (the stored key), in the person's language."""
    return str(REGION_NAMES.get(region, region))


@require_safe
def public_summary(request: HttpRequest) -> HttpResponse:
    """The stored releases of public figures: whole closed weeks, never computed live."""
    trends = selectors.public_trends()
    region = request.GET.get("region") or "Canada"
    regions = selectors.published_regions()
    if region not in regions:
        region = "Canada"
    deaths = selectors.published_series(region=region)
    map_title = _("Overdose events in the newest block published, by area")
    weekly_title = _("Overdose events a week, all areas, in the weeks published")
    deaths_title = _("Apparent opioid toxicity deaths by quarter, %(region)s (PHAC)") % {
        "region": region_name(region)
    }
    return render(
        request,
        "surveillance/public.html",
        {
            "trends": trends,
            "map_title": map_title,
            "map": charts.hex_map(trends.cells, title=map_title),
            "weekly_title": weekly_title,
            "weekly_chart": charts.weekly(
                trends.weeks,
                trends.weekly,
                title=weekly_title,
                y_label=_("Overdose events"),
                x_label=_("Week starting (day/month)"),
            ),
            "region": region,
            "region_name": region_name(region),
            "regions": [(r, region_name(r)) for r in regions],
            "deaths": [
                {"period": charts.quarter_label(r.period), "value": r.value} for r in deaths[-20:]
            ],
            "deaths_title": deaths_title,
            "deaths_chart": charts.quarterly(
                deaths[-20:],
                title=deaths_title,
                y_label=_("Deaths"),
                x_label=_("Year (bars are quarters)"),
            ),
        },
    )
