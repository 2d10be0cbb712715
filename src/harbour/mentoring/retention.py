"""Peer mentors who stopped: a mentor not taking new people, with no proposal or match still
open, unchanged and unmatched for a year (``MENTOR_DAYS``), has their alias, contact, its blind
index and the identities they chose to share erased (the ``mentoring.mentors-purge`` job,
daily). The row stays, nameless, so past matches and their counts stay whole."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

MENTOR_DAYS = 365


def mentors_purge(*, now: datetime | None = None) -> int:
    """Erase the details of mentors gone for ``MENTOR_DAYS``; returns how many."""
    from harbour.mentoring.models import Match, MatchStatus, Mentor

    now = now or timezone.now()
    cutoff = now - timedelta(days=MENTOR_DAYS)
    busy = Match.objects.filter(status__in=[MatchStatus.PROPOSED, MatchStatus.ACTIVE]).values(
        "mentor_id"
    )
    return (
        Mentor.objects.filter(active=False, updated_at__lt=cutoff)
        .filter(Q(last_matched_at__isnull=True) | Q(last_matched_at__lt=cutoff))
        .exclude(pk__in=busy)
        .exclude(alias="", contact="", contact_index="", identities="")
        .update(alias="", contact="", contact_index="", identities="", updated_at=now)
    )


@task()
def mentors_purge_task() -> int:
    """The ``mentoring.mentors-purge`` job."""
    return mentors_purge()
