"""The program's settings and its mentors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.mentoring.models import (
    Identity,
    Mentor,
    Pathway,
    Program,
)
from harbour.mentoring.services._common import (
    COORDINATOR,
    LANGUAGE_CODES,
    _areas,
    _check,
    _contact,
    _lang,
    padded,
    program_of,
)
from harbour.notify.crypto import blind_index

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
