"""Matching: proposals, both sides' answers, check-ins, the end of a match (no fault)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.views import absolute_url
from harbour.mentoring import matching
from harbour.mentoring.models import (
    Channel,
    CheckIn,
    CheckInState,
    EndReason,
    Match,
    MatchStatus,
    Mentor,
    MentorRequest,
    Pathway,
    Program,
    RequestStatus,
)
from harbour.mentoring.services._common import (
    COORDINATOR,
    LINK_SALT,
    OPEN,
    Conflict,
    codes,
    program_of,
    retrying,
)
from harbour.notify import services as notify

# --- matching ---------------------------------------------------------------------------------


def seeker_of(request: MentorRequest) -> matching.Seeker:
    tried = Match.objects.filter(request=request).values_list("mentor_id", flat=True)
    return matching.Seeker(
        id=str(request.pk),
        languages=codes(request.languages),
        pathways=codes(request.pathways),
        identities=codes(request.identities),
        fsa=request.fsa,
        online=request.online,
        in_person=request.in_person,
        excluded=frozenset(str(m) for m in tried),
        waiting_since=request.created_at.timestamp(),
    )


def mentor_profiles(organization: Any) -> dict[str, matching.MentorProfile]:
    rows = Mentor.objects.filter(organization=organization, active=True).annotate(
        load=Count("matches", filter=Q(matches__status__in=OPEN))
    )
    return {
        str(m.pk): matching.MentorProfile(
            id=str(m.pk),
            languages=codes(m.languages),
            pathways=codes(m.pathways),
            identities=codes(m.identities),
            areas=codes(m.areas),
            online=m.online,
            in_person=m.in_person,
            capacity=m.capacity,
            load=m.load,
            last_matched=m.last_matched_at.timestamp() if m.last_matched_at else None,
        )
        for m in rows
    }


def link_token(match: Match, side: str) -> str:
    """The private link of one side of a match: signed with the site's key (unguessable,
    nothing stored), the same in every message; the page it opens answers only for that
    side, and shows nothing personal once the match has ended."""
    return signing.Signer(salt=LINK_SALT).sign_object({"m": str(match.pk), "s": side})


def _link(match: Match, side: str) -> str:
    return absolute_url("mentoring:link", token=link_token(match, side))


def _send(key: str, channel: str, to: str, body: str, lang: str, subject: str = "") -> None:
    if to:
        notify.enqueue(key=key, channel=channel, to=to, body=body, subject=subject, lang=lang)


def _pathway_words(text: str) -> str:
    labels = dict(Pathway.choices)
    return ", ".join(str(labels[c]) for c in codes(text) if c in labels) or _("any pathway")


@transaction.atomic
def match_propose(
    *, actor: Any, request: MentorRequest, mentor: Mentor, now: datetime | None = None
) -> Match:
    """Propose ``mentor`` to the person. Each gets a private link to accept or decline; neither
    sees the other's contact details until both accept."""
    require_role(actor, request.organization_id, COORDINATOR)
    now = now or timezone.now()
    request = MentorRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RequestStatus.WAITING:
        raise ValidationError(_("This request is not waiting for a mentor."))
    if mentor.organization_id != request.organization_id or not mentor.active:
        raise ValidationError(_("This mentor is not available."))
    Mentor.objects.select_for_update().filter(pk=mentor.pk).first()  # one proposal at a time
    profile = mentor_profiles(request.organization).get(str(mentor.pk))
    found = matching.score(seeker_of(request), profile) if profile else None
    if found is None:
        reason = matching.why_not(seeker_of(request), profile) if profile else "full"
        raise ValidationError(
            _("This mentor cannot be proposed to this person (%(reason)s).")
            % {"reason": reason_text(reason or "")}
        )
    program = program_of(request.organization)
    days = program.proposal_days if program else 7
    match = Match.objects.create(
        organization_id=request.organization_id,
        request=request,
        mentor=mentor,
        score=found.total,
        breakdown=found.parts() | {"mode": found.mode},
        proposed_by=actor if getattr(actor, "is_user", False) else None,
        expires_at=now + timedelta(days=days),
    )
    request.status = RequestStatus.PROPOSED
    request.save(update_fields=["status", "updated_at"])
    with translation.override(mentor.lang):
        _send(
            f"mentoring:match:{match.pk}:ask:mentor", mentor.channel, mentor.contact,
            _("Harbour peer mentoring: %(alias)s is looking for a mentor (%(pathways)s). Will you "
              "be their mentor? Answer within %(days)s days: %(link)s")
            % {"alias": request.alias, "pathways": _pathway_words(request.pathways),
               "days": days, "link": _link(match, "mentor")},
            mentor.lang, subject=_("Harbour: will you mentor someone?"),
        )  # fmt: skip
    with translation.override(request.lang):
        _send(
            f"mentoring:match:{match.pk}:ask:mentee", request.channel, request.contact,
            _("Harbour peer mentoring: we found a possible mentor for you, %(alias)s. If you "
              "would like to connect, say yes here within %(days)s days: %(link)s Need to talk "
              "now? Call or text 9-8-8.")
            % {"alias": mentor.alias, "days": days, "link": _link(match, "mentee")},
            request.lang, subject=_("Harbour: a possible peer mentor for you"),
        )  # fmt: skip
    audit.record(
        action=AuditAction.MENTOR_MATCH_PROPOSE, actor=actor,
        organization_id=request.organization_id, obj=match,
        metadata={"score": found.total, "mentor": str(mentor.pk)},
    )  # fmt: skip
    return match


def reason_text(reason: str) -> str:
    return {
        "full": _("they have no room for another person"),
        "language": _("no shared language"),
        "pathway": _("not a pathway the person asked for"),
        "place": _("no way to meet: online or the person's area"),
        "excluded": _("already proposed to this person"),
    }.get(reason, reason)


def propose_all(*, actor: Any, organization: Any) -> list[Match]:
    """A proposal for every waiting request the mentors can take, oldest first, balancing
    mentors' load (``matching.assign``)."""
    require_role(actor, organization.pk, COORDINATOR)
    waiting = list(MentorRequest.objects.filter(organization=organization,
                                                status=RequestStatus.WAITING))  # fmt: skip
    profiles = mentor_profiles(organization)
    seekers = {str(r.pk): r for r in waiting}
    plan = matching.assign([seeker_of(r) for r in waiting], list(profiles.values()))
    chosen = [uuid.UUID(s.mentor_id) for _r, s in plan if s is not None]
    mentors = Mentor.objects.in_bulk(chosen)
    made = []
    for request_id, found in plan:
        if found is not None:
            mentor = mentors[uuid.UUID(found.mentor_id)]
            made.append(match_propose(actor=actor, request=seekers[request_id], mentor=mentor))
    return made


def match_by_token(token: str) -> tuple[Match, str] | None:
    """The match and the side ("mentor" or "mentee") a private link belongs to."""
    try:
        data = signing.Signer(salt=LINK_SALT).unsign_object(token or "")
        match_id, side = uuid.UUID(str(data["m"])), str(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return match_side(match_id, side)


def match_side(match_id: Any, side: str) -> tuple[Match, str] | None:
    """The match and side a private link opened (kept in the session, never the token)."""
    if side not in ("mentor", "mentee"):
        return None
    try:
        found = Match.objects.select_related("mentor", "request", "organization").filter(
            pk=uuid.UUID(str(match_id))
        )
    except (TypeError, ValueError):
        return None
    match = found.first()
    return (match, side) if match is not None else None


def _cas(model: Any, row: Any, **changes: Any) -> None:
    changes["version"] = row.version + 1
    changes["updated_at"] = timezone.now()
    if not model.objects.filter(pk=row.pk, version=row.version).update(**changes):
        raise Conflict
    for name, value in changes.items():
        setattr(row, name, value)


@retrying
def answer(*, match: Match, side: str, accept: bool, now: datetime | None = None) -> Match:
    """One side accepts or declines a proposal. Declining needs no reason; the request waits
    for someone new. When both have accepted, the match starts: each side is sent the other's
    contact details, and the first check-in is scheduled."""
    now = now or timezone.now()
    match = Match.objects.select_related("mentor", "request").get(pk=match.pk)
    if match.status != MatchStatus.PROPOSED:
        raise ValidationError(_("This proposal is no longer open."))
    if match.expires_at <= now:
        raise ValidationError(_("This proposal has expired."))
    if not accept:
        _cas(Match, match, status=MatchStatus.DECLINED, ended_at=now,
             end_reason=EndReason.DECLINED, ended_by=side)  # fmt: skip
        MentorRequest.objects.filter(pk=match.request_id).update(
            status=RequestStatus.WAITING, updated_at=now
        )
        audit.record(
            action=AuditAction.MENTOR_MATCH_DECLINE, organization_id=match.organization_id,
            obj=match, label=side, metadata={"by": side},
        )  # fmt: skip
        _tell_declined(match, side)
        return match
    field = "mentor_consent_at" if side == "mentor" else "mentee_consent_at"
    if getattr(match, field) is not None:
        return match  # said yes already: nothing new
    changes: dict[str, Any] = {field: now}
    other = match.mentee_consent_at if side == "mentor" else match.mentor_consent_at
    if other is not None:
        changes |= {"status": MatchStatus.ACTIVE, "started_at": now}
    _cas(Match, match, **changes)
    audit.record(
        action=AuditAction.MENTOR_MATCH_CONSENT, organization_id=match.organization_id,
        obj=match, label=side, metadata={"by": side, "both": other is not None},
    )  # fmt: skip
    if other is not None:
        _start(match, now)
    return match


def _tell_declined(match: Match, side: str) -> None:
    """The other side learns the match will not go ahead (no reason, no blame)."""
    if side == "mentor":
        request = match.request
        with translation.override(request.lang):
            _send(f"mentoring:match:{match.pk}:declined:mentee", request.channel, request.contact,
                  _("Harbour peer mentoring: this match will not go ahead, and that is nobody's "
                    "fault. We will look for another mentor for you."), request.lang,
                  subject=_("Harbour: peer mentoring"))  # fmt: skip
    else:
        mentor = match.mentor
        with translation.override(mentor.lang):
            _send(f"mentoring:match:{match.pk}:declined:mentor", mentor.channel, mentor.contact,
                  _("Harbour peer mentoring: the person chose not to go ahead this time. Thank "
                    "you for being ready."), mentor.lang,
                  subject=_("Harbour: peer mentoring"))  # fmt: skip


def _start(match: Match, now: datetime) -> None:
    request, mentor = match.request, match.mentor
    MentorRequest.objects.filter(pk=request.pk).update(status=RequestStatus.MATCHED, updated_at=now)
    Mentor.objects.filter(pk=mentor.pk).update(last_matched_at=now)
    _schedule(match, number=1, at=now + timedelta(days=_every(match)))
    channel_words = dict(Channel.choices)
    with translation.override(request.lang):
        _send(
            f"mentoring:match:{match.pk}:contact:mentee", request.channel, request.contact,
            _("Harbour peer mentoring: %(alias)s is your peer mentor. Reach them by %(channel)s: "
              "%(contact)s. Need to talk now? Call or text 9-8-8.")
            % {"alias": mentor.alias, "channel": str(channel_words[mentor.channel]).lower(),
               "contact": mentor.contact},
            request.lang, subject=_("Harbour: your peer mentor"),
        )  # fmt: skip
    with translation.override(mentor.lang):
        _send(
            f"mentoring:match:{match.pk}:contact:mentor", mentor.channel, mentor.contact,
            _("Harbour peer mentoring: %(alias)s said yes. Reach them by %(channel)s: "
              "%(contact)s. We will remind you both to check in every %(days)s days.")
            % {"alias": request.alias, "channel": str(channel_words[request.channel]).lower(),
               "contact": request.contact, "days": _every(match)},
            mentor.lang, subject=_("Harbour: you are matched"),
        )  # fmt: skip


def _program(match: Match) -> Program:
    return Program.objects.filter(organization_id=match.organization_id).first() or Program()


def _every(match: Match) -> int:
    return _program(match).checkin_every_days


def _schedule(match: Match, *, number: int, at: datetime) -> CheckIn:
    return CheckIn.objects.create(
        match=match, number=number, scheduled_for=at, due_at=at, state=CheckInState.SCHEDULED
    )


@retrying
def checkin_done(
    *, match: Match, by: str, actor: Any = None, now: datetime | None = None
) -> CheckIn | None:
    """They connected: the open check-in is done (early is fine), the next is scheduled, and a
    match that had gone quiet is no longer."""
    now = now or timezone.now()
    if actor is not None:
        require_role(actor, match.organization_id, COORDINATOR)
    match = Match.objects.get(pk=match.pk)
    if match.status != MatchStatus.ACTIVE:
        raise ValidationError(_("This match is not active."))
    checkin = (
        CheckIn.objects.filter(
            match=match, state__in=[CheckInState.SCHEDULED, CheckInState.REMINDED]
        )
        .order_by("number")
        .first()
    )
    if checkin is None:
        return None
    _cas(CheckIn, checkin, state=CheckInState.DONE, done_at=now, done_by=by, due_at=None)
    _cas(Match, match, missed_in_row=0, quiet_since=None)
    _schedule(match, number=checkin.number + 1, at=now + timedelta(days=_every(match)))
    audit.record(
        action=AuditAction.MENTOR_CHECKIN_DONE, actor=actor, organization_id=match.organization_id,
        obj=checkin, label="" if actor is not None else by, metadata={"by": by},
    )  # fmt: skip
    return checkin


@retrying
def match_end(
    *, match: Match, by: str, reason: str, actor: Any = None, now: datetime | None = None
) -> Match:
    """End a match. ``rematch`` is no-fault: no reason is asked, the person waits for someone
    new (never the same mentor again), and nobody is told why. ``completed`` closes the
    request."""
    if actor is not None:
        require_role(actor, match.organization_id, COORDINATOR)
    if reason not in (EndReason.REMATCH, EndReason.COMPLETED):
        raise ValidationError(_("Choose how the match ends."))
    match = Match.objects.select_related("mentor", "request").get(pk=match.pk)
    if match.status not in OPEN:
        raise ValidationError(_("This match has already ended."))
    _end(match, reason=reason, by=by, now=now or timezone.now(), tell=True)
    audit.record(
        action=AuditAction.MENTOR_MATCH_END, actor=actor, organization_id=match.organization_id,
        obj=match, label="" if actor is not None else by, metadata={"by": by, "reason": reason},
    )  # fmt: skip
    return match


def _end(match: Match, *, reason: str, by: str, now: datetime, tell: bool) -> None:
    _cas(Match, match, status=MatchStatus.ENDED, ended_at=now, end_reason=reason, ended_by=by)
    CheckIn.objects.filter(
        match=match, state__in=[CheckInState.SCHEDULED, CheckInState.REMINDED]
    ).update(state=CheckInState.CANCELLED, due_at=None, updated_at=now)
    if reason == EndReason.REMATCH:
        MentorRequest.objects.filter(pk=match.request_id).update(
            status=RequestStatus.WAITING, updated_at=now
        )
    elif reason == EndReason.COMPLETED:
        MentorRequest.objects.filter(pk=match.request_id).update(
            status=RequestStatus.CLOSED, closed_at=now, updated_at=now
        )
    if not tell:
        return
    request, mentor = match.request, match.mentor
    with translation.override(request.lang):
        text = (
            _("Harbour peer mentoring: your match with %(alias)s has ended. Nobody is at fault. "
              "We will look for someone new for you.")
            if reason == EndReason.REMATCH
            else _("Harbour peer mentoring: your match with %(alias)s has ended. You can ask "
                   "for a mentor again any time.")
        ) % {"alias": mentor.alias}  # fmt: skip
        _send(f"mentoring:match:{match.pk}:ended:mentee", request.channel, request.contact,
              text, request.lang, subject=_("Harbour: peer mentoring"))  # fmt: skip
    with translation.override(mentor.lang):
        _send(
            f"mentoring:match:{match.pk}:ended:mentor", mentor.channel, mentor.contact,
            _("Harbour peer mentoring: your match with %(alias)s has ended. Thank you.")
            % {"alias": request.alias}, mentor.lang, subject=_("Harbour: peer mentoring"),
        )  # fmt: skip
