"""How events reach the store from apps below surveillance (which cannot import it).

An anonymous community report of an overdose counts only once a coordinator of the
organization serving its area has reviewed it (confirmed it, or made an alert draft of it);
until then it is no event at all, so neither spike detection nor any figure made from the
event store sees it. Twenty fake reports cost an attacker a minute; without review they would
be a "spike" and a public figure. A cap per area and day was the other choice, but any cap
high enough to keep real reports is enough to fake a small-area spike (three events in 24
hours raise a signal by default). A dismissed report never counts."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from harbour.surveillance.models import Source
from harbour.surveillance.services import EventIn, event_exclude, event_record


def community_report(report: Any) -> None:
    from harbour.alerts.models import REVIEWED, ReportKind

    if report.kind != ReportKind.OVERDOSE or not report.fsa:
        return
    ref = f"report:{report.pk}"
    if report.status not in REVIEWED:
        event_exclude(source=Source.ANONYMOUS_REPORT, source_ref=ref)
        return
    zone = ZoneInfo(settings.TIME_ZONE)
    # the hour it came in (alerts keeps no finer time); a texted report is never an overdose
    # report (its kind is "other"), so it never gets here
    when = report.created_at or timezone.now()
    if report.happened_on and report.happened_on < when.astimezone(zone).date():
        # a day in the past, without a time: noon that day, local time
        when = datetime.combine(report.happened_on, time(12), zone)
    event_record(
        organization=None,
        data=EventIn(
            occurred_at=when,
            source=Source.ANONYMOUS_REPORT,
            source_ref=ref,
            fsa=report.fsa,
            city=report.city,
            substances=[report.sold_as] if report.sold_as else [],
        ),
    )


def connect() -> None:
    from harbour.alerts.services import on_report_changed

    on_report_changed(community_report)
