"""Every write to mentoring: the program's settings, mentors, requests for a mentor, proposed
matches and both sides' answers, check-ins, no-fault rematching, and the timed work (reminders,
missed check-ins, "gone quiet" notices to the coordinator, proposals not answered in time,
erasing closed requests' contact details).

A match moves ``proposed`` -> ``active`` (both accepted; only now are contact details sent to
each side) or ``declined`` / ``expired``; ``active`` -> ``ended``. A check-in moves
``scheduled`` --(its time: reminders to both)--> ``reminded`` --(either says they connected)-->
``done``, or --(time to answer over)--> ``missed``; each done or missed check-in schedules the
next. Every step is a compare-and-set on ``version`` in one transaction with the messages it
queues (idempotency keys name the match or check-in and the step), so two workers, a retried
task or a double click never send twice.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.core.views import absolute_url
from harbour.mentoring import matching
from harbour.mentoring.models import (
    LANGUAGES,
    Channel,
    CheckIn,
    CheckInState,
    EndReason,
    Identity,
    Match,
    MatchStatus,
    Mentor,
    MentorRequest,
    Pathway,
    Program,
    RequestStatus,
)
from harbour.notify import addresses
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index

T = TypeVar("T")
COORDINATOR = Role.COORDINATOR
CRISIS = "9-8-8"
OPEN = [MatchStatus.PROPOSED, MatchStatus.ACTIVE]
LANGUAGE_CODES = {code for code, _name in LANGUAGES}


class Conflict(Exception):
    """Someone changed the row first; nothing was done."""


def retrying(action: Callable[..., T]) -> Callable[..., T]:
    """Run ``action`` in a transaction; when someone else changed the row first (both people
    answering at the same moment), read it again and retry, a few times."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> T:
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    return action(*args, **kwargs)
            except Conflict:
                continue
        raise ValidationError(_("Someone else answered at the same moment. Please try again."))

    return run


LINK_SALT = "mentoring-link"


def padded(codes: list[str] | tuple[str, ...]) -> str:
    return f" {' '.join(dict.fromkeys(codes))} " if codes else ""


def codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _lang(value: str) -> str:
    return "fr" if (value or "").startswith("fr") else "en"


def _contact(channel: str, raw: str) -> str:
    try:
        return addresses.normalize(channel, raw)
    except ValueError as exc:
        message = (
            _("This is not a mobile number we can text.")
            if channel == Channel.SMS
            else _("This is not an email address.")
        )
        raise ValidationError({"contact": message}) from exc


def _areas(raw: str) -> str:
    from harbour.alerts.services import parse_areas

    return padded(parse_areas(raw))


def _check(values: list[str], allowed: set[str], field: str) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationError({field: _("Unknown choice: %(value)s.") % {"value": bad[0]}})
    return values


def program_of(organization: Any) -> Program | None:
    return Program.objects.filter(organization=organization).first()


# --- program and mentors ----------------------------------------------------------------------


@transaction.atomic
def program_save(*, actor: Any, organization: Any, **fields: Any) -> Program:
    require_role(actor, organization.pk, COORDINATOR)
    program = program_of(organization) or Program(organization=organization)
    if "areas" in fields:
        fields["areas"] = _areas(fields["areas"])
    for name, value in fields.items():
        setattr(program, name, value)
    program.full_clean(exclude=["organization"])
    program.save()
    audit.record(
        action=AuditAction.MENTORING_PROGRAM_CHANGE, actor=actor, organization=organization,
        obj=program, metadata={"fields": sorted(fields)},
    )  # fmt: skip
    return program


@dataclass
class MentorData:
    alias: str
    channel: str
    contact: str
    languages: list[str]
    pathways: list[str]
    identities: list[str]
    areas: str = ""
    online: bool = True
    in_person: bool = True
    capacity: int = 2
    lang: str = "en"
    trained_on: Any = None
    lived_experience: bool = True
    active: bool = True


@transaction.atomic
def mentor_save(
    *, actor: Any, organization: Any, data: MentorData, mentor: Mentor | None = None
) -> Mentor:
    require_role(actor, organization.pk, COORDINATOR)
    if mentor is not None and mentor.organization_id != organization.pk:
        raise ValidationError(_("This mentor belongs to another organization."))
    if not data.languages:
        raise ValidationError({"languages": _("Choose at least one language.")})
    if not data.pathways:
        raise ValidationError({"pathways": _("Choose at least one pathway.")})
    if not (data.online or data.in_person):
        raise ValidationError(_("A mentor meets online, in person, or both."))
    contact = _contact(data.channel, data.contact)
    target = mentor or Mentor(organization=organization)
    target.alias = data.alias.strip()[:60]
    target.channel = data.channel
    target.contact = contact
    target.contact_index = blind_index(contact, kind=f"mentoring-{data.channel}")
    target.languages = padded(_check(data.languages, LANGUAGE_CODES, "languages"))
    target.pathways = padded(_check(data.pathways, set(Pathway.values), "pathways"))
    target.identities = padded(_check(data.identities, set(Identity.values), "identities"))
    target.areas = _areas(data.areas)
    target.online, target.in_person = data.online, data.in_person
    target.capacity = data.capacity
    target.lang = _lang(data.lang)
    target.trained_on = data.trained_on
    target.lived_experience = data.lived_experience
    target.active = data.active
    target.full_clean(exclude=["organization", "contact_index"])
    same = Mentor.objects.filter(organization=organization, contact_index=target.contact_index)
    if same.exclude(pk=target.pk).exists():
        raise ValidationError({"contact": _("Another mentor already has this contact.")})
    target.save()
    audit.record(
        action=AuditAction.MENTOR_CHANGE, actor=actor, organization=organization, obj=target,
        metadata={"created": mentor is None, "active": target.active, "capacity": target.capacity},
    )  # fmt: skip
    return target


# --- requests ---------------------------------------------------------------------------------


@dataclass
class RequestData:
    alias: str
    channel: str
    contact: str
    languages: list[str]
    pathways: list[str] = ()  # type: ignore[assignment]
    identities: list[str] = ()  # type: ignore[assignment]
    fsa: str = ""
    online: bool = True
    in_person: bool = True
    notes: str = ""
    lang: str = "en"


@transaction.atomic
def request_create(
    *, organization: Any, data: RequestData, actor: Any = None, source: str = "web"
) -> MentorRequest:
    """Someone asks for a mentor (on the public page, or a coordinator for a caller). The
    coordinators are told there is a request, never what it says. A program that lists postal
    areas takes requests only from them (from the public page, only with one of them)."""
    if actor is not None:
        require_role(actor, organization.pk, COORDINATOR)
    program = program_of(organization)
    if program is None or not program.enabled:
        raise ValidationError(_("This organization is not taking requests for a mentor."))
    if not data.languages:
        raise ValidationError({"languages": _("Choose at least one language.")})
    if not (data.online or data.in_person):
        raise ValidationError(_("Choose online, in person, or both."))
    fsa = data.fsa.strip().upper()[:3]
    if fsa:
        from harbour.alerts.services import parse_areas

        try:
            fsa = parse_areas(fsa)[0]
        except ValidationError as exc:
            raise ValidationError(
                {"fsa": _("A postal area is a letter, a digit and a letter, e.g. K7L.")}
            ) from exc
    if data.in_person and not data.online and not fsa:
        raise ValidationError({"fsa": _("To meet in person, give your postal area (e.g. K7L).")})
    request = MentorRequest(
        organization=organization,
        alias=data.alias.strip()[:60] or _("Someone"),
        channel=data.channel,
        contact=_contact(data.channel, data.contact),
        lang=_lang(data.lang),
        languages=padded(_check(list(data.languages), LANGUAGE_CODES, "languages")),
        pathways=padded(_check(list(data.pathways), set(Pathway.values), "pathways")),
        identities=padded(_check(list(data.identities), set(Identity.values), "identities")),
        fsa=fsa,
        online=data.online,
        in_person=data.in_person,
        notes=" ".join(data.notes.split())[:1000],
        source=source,
        created_by=actor if getattr(actor, "is_user", False) else None,
    )
    served = program.areas.split()
    if served and fsa not in served and (fsa or source == "web"):
        # a request the program's coordinators do not serve would be read by no one who can
        # help: refused, never stored (the public page offers only programs serving the area)
        raise ValidationError(
            {"fsa": _("This program does not serve the postal area %(fsa)s.") % {"fsa": fsa or "?"}}
        )
    request.save()
    audit.record(
        action=AuditAction.MENTOR_REQUEST_CREATE, actor=actor, organization=organization,
        obj=request, metadata={"source": source}, label="" if actor is not None else "anonymous",
    )  # fmt: skip
    _tell_coordinators(
        organization,
        key=f"mentoring:request:{request.pk}",
        subject="Harbour: someone is asking for a peer mentor / demande de mentor",
        body=(
            "Someone asked for a peer mentor. Find them a match:\n{link}\n\n"
            "Une personne demande un ou une mentor pair. Trouvez-lui un jumelage :\n{link}\n"
        ),
        link=absolute_url("mentoring-staff:request", slug=organization.slug, request_id=request.pk),
    )
    return request


def _tell_coordinators(organization: Any, *, key: str, subject: str, body: str, link: str) -> int:
    """Email every coordinator of the organization (bilingual, no personal details)."""
    from harbour.accounts.selectors import member_emails

    emails = member_emails(organization.pk, minimum=COORDINATOR)
    for email in emails:
        notify.enqueue(
            key=f"{key}:{blind_index(email, kind='email')[:16]}",
            channel="email",
            to=email,
            subject=subject,
            body=body.format(link=link),
        )
    return len(emails)


@transaction.atomic
def request_close(*, actor: Any, request: MentorRequest) -> MentorRequest:
    require_role(actor, request.organization_id, COORDINATOR)
    now = timezone.now()
    for match in Match.objects.filter(request=request, status__in=OPEN):
        _end(match, reason=EndReason.CLOSED, by="coordinator", now=now, tell=True)
    MentorRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.CLOSED, closed_at=now, updated_at=now
    )
    request.status, request.closed_at = RequestStatus.CLOSED, now
    audit.record(
        action=AuditAction.MENTOR_REQUEST_CLOSE, actor=actor,
        organization_id=request.organization_id, obj=request,
    )  # fmt: skip
    return request


def contact_view(*, actor: Any, subject: MentorRequest | Mentor) -> str:
    """A coordinator reads a contact detail (to call someone back); audited."""
    require_role(actor, subject.organization_id, COORDINATOR)
    audit.record(
        action=AuditAction.MENTOR_CONTACT_VIEW, actor=actor,
        organization_id=subject.organization_id, obj=subject,
    )  # fmt: skip
    return str(subject.contact)


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
