"""Requests for a mentor: made, closed, and a contact seen by a coordinator (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.views import absolute_url
from harbour.mentoring.models import (
    EndReason,
    Identity,
    Match,
    Mentor,
    MentorRequest,
    Pathway,
    RequestStatus,
)
from harbour.mentoring.services._common import (
    COORDINATOR,
    LANGUAGE_CODES,
    OPEN,
    _check,
    _contact,
    _lang,
    padded,
    program_of,
)
from harbour.mentoring.services.matches import _end
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index

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
