"""Reads of check-ins for other apps (the staff home): scoped to the actor."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from harbour.checkins import watchdog
from harbour.checkins.models import OPEN_STATES, TIMED_STATES, Session, State
from harbour.core.permissions import scope
from harbour.core.roles import Role


def needing_dispatcher(
    actor: Any, *, organization: Any, now: datetime | None = None
) -> QuerySet[Session]:
    """Open sessions of the organization that need a person: handed to the dispatcher, or a
    timed step overdue (the clock is late). Staff who can work the board only."""
    now = now or timezone.now()
    late = now - timedelta(seconds=watchdog.threshold())
    return (
        scope(Session.objects.all(), actor, field="program__organization", minimum=Role.PEER_WORKER)
        .filter(program__organization=organization, state__in=OPEN_STATES)
        .filter(Q(state=State.DISPATCH) | Q(state__in=TIMED_STATES, due_at__lt=late))
        .only("id", "state", "started_at", "due_at", "program_id")
        .order_by("started_at")
    )
