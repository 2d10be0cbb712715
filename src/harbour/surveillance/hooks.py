"""How events reach the store from apps below surveillance (which cannot import it): an
anonymous community report of an overdose counts from the moment it is sent (spikes are seen
early) and stops counting when a coordinator dismisses it as spam."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from harbour.surveillance.models import Source
from harbour.surveillance.services import EventIn, event_exclude, event_record


def community_report(report: Any) -> None:
    from harbour.alerts.models import ReportKind, ReportStatus

    if report.kind != ReportKind.OVERDOSE or not report.fsa:
        return
    ref = f"report:{report.pk}"
    if report.status == ReportStatus.DISMISSED:
        event_exclude(source=Source.ANONYMOUS_REPORT, source_ref=ref)
        return
    when = report.created_at or timezone.now()
    if report.happened_on and report.happened_on < when.date():
        # a day in the past, without a time: noon that day, local time
        when = datetime.combine(report.happened_on, time(12), ZoneInfo(settings.TIME_ZONE))
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
