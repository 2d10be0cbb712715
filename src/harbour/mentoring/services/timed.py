"""The timed work: reminders, missed check-ins, proposals not answered in time, erasing closed
requests' contact details."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.views import absolute_url
from harbour.mentoring.models import (
    CheckIn,
    CheckInState,
    EndReason,
    Match,
    MatchStatus,
    MentorRequest,
    Program,
    RequestStatus,
)
from harbour.mentoring.services._common import Conflict
from harbour.mentoring.services.matches import _cas, _link, _program, _schedule, _send
from harbour.mentoring.services.requests import _tell_coordinators
from harbour.notify import services as notify

# --- timed work -------------------------------------------------------------------------------


def advance_due(now: datetime | None = None, *, limit: int = 500) -> int:
    """Every step that is due: proposals not answered in time, check-in reminders, missed
    check-ins (and "gone quiet" notices), erasing old requests. Each step in its own
    transaction, compare-and-set, so running twice (or in two workers) does each once."""
    now = now or timezone.now()
    moved = 0
    for match in Match.objects.filter(status=MatchStatus.PROPOSED, expires_at__lte=now)[:limit]:
        moved += _step(_expire, match, now)
    due = CheckIn.objects.filter(
        state__in=[CheckInState.SCHEDULED, CheckInState.REMINDED], due_at__lte=now
    ).order_by("due_at")[:limit]
    for checkin in due:
        moved += _step(_remind if checkin.state == CheckInState.SCHEDULED else _miss, checkin, now)
    moved += purge(now)
    return moved


def _step(action: Any, row: Any, now: datetime) -> int:
    try:
        with transaction.atomic():
            action(row, now)
        return 1
    except Conflict:
        return 0


def _expire(match: Match, now: datetime) -> None:
    _cas(Match, match, status=MatchStatus.EXPIRED, ended_at=now, end_reason=EndReason.EXPIRED,
         ended_by="clock")  # fmt: skip
    MentorRequest.objects.filter(pk=match.request_id, status=RequestStatus.PROPOSED).update(
        status=RequestStatus.WAITING, updated_at=now
    )
    audit.record(
        action=AuditAction.MENTOR_MATCH_END, organization_id=match.organization_id, obj=match,
        label="clock", metadata={"by": "clock", "reason": EndReason.EXPIRED},
    )  # fmt: skip


def _remind(checkin: CheckIn, now: datetime) -> None:
    match = Match.objects.select_related("mentor", "request", "organization").get(
        pk=checkin.match_id
    )
    program = _program(match)
    _cas(CheckIn, checkin, state=CheckInState.REMINDED, reminded_at=now,
         due_at=checkin.scheduled_for + timedelta(days=program.answer_days))  # fmt: skip
    if match.status != MatchStatus.ACTIVE:
        return
    request, mentor = match.request, match.mentor
    for side, person, alias in (
        ("mentor", mentor, request.alias),
        ("mentee", request, mentor.alias),
    ):
        with translation.override(person.lang):
            _send(
                f"mentoring:checkin:{checkin.pk}:remind:{side}", person.channel, person.contact,
                _("Harbour peer mentoring: time to check in with %(alias)s. When you have talked, "
                  "tell us here: %(link)s") % {"alias": alias, "link": _link(match, side)},
                person.lang, subject=_("Harbour: time to check in"),
            )  # fmt: skip


def _miss(checkin: CheckIn, now: datetime) -> None:
    match = Match.objects.select_related("organization").get(pk=checkin.match_id)
    _cas(CheckIn, checkin, state=CheckInState.MISSED, due_at=None)
    if match.status != MatchStatus.ACTIVE:
        return
    program = _program(match)
    missed = match.missed_in_row + 1
    quiet = missed >= program.quiet_after_missed and match.quiet_since is None
    _cas(Match, match, missed_in_row=missed, quiet_since=now if quiet else match.quiet_since)
    _schedule(match, number=checkin.number + 1,
              at=checkin.scheduled_for + timedelta(days=program.checkin_every_days))  # fmt: skip
    if quiet:
        told = _tell_coordinators(
            match.organization,
            key=f"mentoring:match:{match.pk}:quiet:{checkin.number}",
            subject="Harbour: a mentoring match has gone quiet / un jumelage est silencieux",
            body=(
                f"A mentoring match missed {missed} check-ins in a row. Please reach out:\n"
                "{link}\n\n"
                f"Un jumelage de mentorat a manqué {missed} suivis de suite. Prenez contact :\n"
                "{link}\n"
            ),
            link=absolute_url(
                "mentoring-staff:match", slug=match.organization.slug, match_id=match.pk
            ),
        )
        audit.record(
            action=AuditAction.MENTOR_MATCH_QUIET, organization_id=match.organization_id,
            obj=match, label="system", metadata={"missed": missed, "coordinators": told},
        )  # fmt: skip


def purge(now: datetime | None = None) -> int:
    """Erase contact details and notes of requests closed ``purge_days`` ago, and every message
    sent about them (the request's, its matches' and their check-ins': they carry the contact
    details both sides were given), through ``notify.messages_erase``."""
    now = now or timezone.now()
    erased = 0
    for program in Program.objects.all():
        before = now - timedelta(days=program.purge_days)
        ids = list(
            MentorRequest.objects.filter(
                organization_id=program.organization_id,
                status=RequestStatus.CLOSED,
                closed_at__lte=before,
                purged_at__isnull=True,
            ).values_list("pk", flat=True)
        )
        for request_id in ids:
            with transaction.atomic():
                matches = [
                    str(pk)
                    for pk in Match.objects.filter(request_id=request_id).values_list(
                        "pk", flat=True
                    )
                ]
                checkins = [
                    str(pk)
                    for pk in CheckIn.objects.filter(match_id__in=matches).values_list(
                        "pk", flat=True
                    )
                ]
                notify.messages_erase(
                    key_prefixes=[
                        f"mentoring:request:{request_id}:",
                        *(f"mentoring:match:{pk}:" for pk in matches),
                        *(f"mentoring:checkin:{pk}:" for pk in checkins),
                    ],
                    now=now,
                )
                erased += MentorRequest.objects.filter(
                    pk=request_id, purged_at__isnull=True
                ).update(contact="", notes="", purged_at=now, updated_at=now)
    return erased
