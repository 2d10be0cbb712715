"""Retention of core tables.

- Expired sign-in sessions are deleted hourly (``core.sessions-prune``).
- The audit trail: events are kept ``AUDIT_YEARS`` (7) years, then deleted by the
  ``core.audit-prune`` job (daily). The trail holds no personal details of the people
  organizations serve (``core.audit`` refuses emails and phone numbers in metadata): ids,
  codes, counts, and the acting staff member's label, which ``accounts.retention`` turns into
  a pseudonym a year after they leave.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

AUDIT_YEARS = 7


def audit_prune(*, now: datetime | None = None) -> int:
    """Delete audit events older than ``AUDIT_YEARS``; returns how many."""
    from harbour.core.models import AuditEvent

    now = now or timezone.now()
    cutoff = now - timedelta(days=AUDIT_YEARS * 365 + 2)  # leap days
    deleted, _rows = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@task()
def audit_prune_task() -> int:
    """The ``core.audit-prune`` job."""
    return audit_prune()


def sessions_prune() -> None:
    """Delete expired sign-in sessions (Django keeps them until ``clearsessions`` runs)."""
    from importlib import import_module

    from django.conf import settings

    engine = import_module(settings.SESSION_ENGINE)
    try:
        engine.SessionStore.clear_expired()
    except NotImplementedError:  # a backend that expires on its own (cache, cookies)
        return


@task()
def sessions_prune_task() -> None:
    """The ``core.sessions-prune`` job (hourly)."""
    sessions_prune()
