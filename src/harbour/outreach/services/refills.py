"""Anonymous kit-use reports and their refills."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit, geo
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import ROLE_RANK, Role
from harbour.notify import addresses
from harbour.notify import services as notify
from harbour.outreach.models import (
    MAX_DOSES,
    EmsCame,
    KitKind,
    KitUseReport,
    Outcome,
    Program,
    RefillStatus,
)
from harbour.outreach.services.base import (
    CONTACT_DAYS,
    OLDEST,
    _tz,
)
from harbour.outreach.services.checks import (
    Errors,
    _fsa,
    _int,
)

# --- anonymous kit-use reports and refills ----------------------------------------------------


def route_refill(fsa: str) -> Any:
    """Which organization follows up a report from a postal area: the one whose outreach
    program lists that area (the most local one: fewest areas, then the oldest program); else
    the program whose nearest listed area is closest, within 100 km; else none (the report
    waits for any outreach coordinator to take it)."""
    if not fsa:
        return None
    programs = list(
        Program.objects.filter(organization__is_active=True)
        .exclude(areas="")
        .select_related("organization")
        .order_by("created_at")
    )
    serving = [p for p in programs if fsa in p.area_list()]
    if serving:
        return min(serving, key=lambda p: len(p.area_list())).organization
    here = geo.fsa_centroid(fsa)
    if here is None:
        return None
    best, best_km = None, 100.0
    for program in programs:
        for area in program.area_list():
            there = geo.fsa_centroid(area)
            if there is None:
                continue
            km = geo.haversine_km(here.lat, here.lng, there.lat, there.lng)
            if km < best_km:
                best, best_km = program.organization, km
    return best


def coordinators(organization: Any) -> list[Any]:
    from harbour.accounts.models import Membership

    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role.COORDINATOR]]
    return [
        m.user
        for m in Membership.objects.filter(
            organization=organization, role__in=roles, user__is_active=True
        ).select_related("user")
    ]


def _refill_notice(report: KitUseReport) -> int:
    from harbour.core.views import absolute_url

    if report.organization is None:
        return 0
    link = absolute_url("outreach-staff:refills", slug=report.organization.slug)
    sent = 0
    for user in coordinators(report.organization):
        lang = "fr" if user.preferred_language.startswith("fr") else "en"
        with translation.override(lang):
            body = _(
                "Someone used a naloxone kit%(area)s and asked for a refill. "
                "See the request and mark it done when a kit is given or offered: %(link)s"
            ) % {
                "area": (_(" in %(fsa)s") % {"fsa": report.fsa}) if report.fsa else "",
                "link": link,
            }
            notify.enqueue(
                key=f"outreach:refill:{report.pk}:user:{user.pk}",
                channel="email",
                to=user.email,
                subject=_("Harbour: a naloxone refill was asked for"),
                body=body,
                lang=lang,
            )
        sent += 1
    return sent


def _contact(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    if "@" in text:
        try:
            return addresses.normalize_email(text)
        except ValueError:
            pass
    else:
        try:
            return addresses.normalize_phone(text)
        except ValueError:
            pass
    raise ValidationError(
        {"contact": [_("Give a phone number or an email address, or leave it empty.")]}
    )


@transaction.atomic
def kit_use_report(
    *,
    report_id: Any = None,
    used_on: date,
    fsa: str,
    doses: Any,
    outcome: str,
    ems_came: str = EmsCame.UNKNOWN,
    kit_kind: str = KitKind.UNKNOWN,
    want_refill: bool = False,
    contact: str = "",
) -> tuple[KitUseReport, bool]:
    """Anyone, no account: "I used a kit". Counts toward reversals, becomes an anonymous
    overdose event (when the area is given), and a refill request goes to the organization
    serving the area. The form's one-time id makes a double submit one report.
    Returns the report and whether it is new."""
    from harbour.surveillance.models import Source
    from harbour.surveillance.services import EventIn, event_record

    pk = None
    if report_id:
        try:
            pk = uuid.UUID(str(report_id))
        except ValueError:
            pk = None
    if pk is not None:
        found = KitUseReport.objects.filter(pk=pk).first()
        if found is not None:
            return found, False
    errors = Errors()
    today = timezone.localdate()
    if used_on > today:
        errors.add("used_on", _("The date is in the future."))
    elif used_on < today - OLDEST:
        errors.add("used_on", _("This is more than a year ago."))
    area = _fsa(errors, fsa)
    count = _int(errors, "doses", doses, low=1, high=MAX_DOSES, label=_("Doses"))
    if not count and "doses" not in errors.by_field:
        errors.add("doses", _("How many doses were given?"))
    if outcome not in Outcome.values:
        errors.add("outcome", _("What happened?"))
    if ems_came not in EmsCame.values:
        errors.add("ems_came", _("Unknown answer."))
    if kit_kind not in KitKind.values:
        errors.add("kit_kind", _("Unknown answer."))
    reach = ""
    try:
        reach = _contact(contact) if want_refill else ""
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("contact", message)
    errors.raise_if_any()
    now = timezone.now()
    report = KitUseReport.objects.create(
        **({"id": pk} if pk else {}),
        used_on=used_on,
        fsa=area,
        doses=count,
        outcome=outcome,
        ems_came=ems_came,
        kit_kind=kit_kind,
        want_refill=want_refill,
        contact=reach,
        contact_purge_at=now + timedelta(days=CONTACT_DAYS) if reach else None,
        organization=route_refill(area),
        refill_status=RefillStatus.OPEN if want_refill else RefillStatus.NONE,
    )
    if area:
        when = now if used_on == today else datetime.combine(used_on, time(12), _tz())
        event_record(
            organization=None,
            data=EventIn(
                occurred_at=when,
                source=Source.ANONYMOUS_REPORT,
                source_ref=f"kit-use:{report.pk}",
                fsa=area,
                naloxone_given=True,
                fatal=True
                if outcome == Outcome.DECEASED
                else None
                if outcome == Outcome.UNKNOWN
                else False,
            ),
        )
    if want_refill:
        _refill_notice(report)
    audit.record(
        action=AuditAction.OUTREACH_KIT_USE_REPORT,
        actor=None,
        label="anonymous",
        organization=report.organization,
        obj=report,
        metadata={"refill": want_refill, "fsa": area},
    )
    return report, True


@transaction.atomic
def refill_claim(*, actor: Any, organization: Any, report: KitUseReport) -> KitUseReport:
    """A coordinator takes a refill request nobody was routed to."""
    require_role(actor, organization.pk, Role.COORDINATOR)
    taken = KitUseReport.objects.filter(pk=report.pk, organization__isnull=True).update(
        organization=organization
    )
    if not taken:
        raise ValidationError(_("Another organization has already taken this request."))
    audit.record(
        action=AuditAction.OUTREACH_REFILL,
        actor=actor,
        organization=organization,
        obj=report,
        metadata={"step": "claim"},
    )
    return KitUseReport.objects.get(pk=report.pk)


@transaction.atomic
def refill_done(*, actor: Any, report: KitUseReport) -> KitUseReport:
    """A kit was given or offered: the request closes and any contact detail is erased."""
    if report.organization_id is None:
        raise ValidationError(_("Take the request for your organization first."))
    require_role(actor, report.organization_id, Role.PEER_WORKER)
    KitUseReport.objects.filter(pk=report.pk).update(
        refill_status=RefillStatus.DONE,
        refilled_at=timezone.now(),
        contact="",
        contact_purge_at=None,
    )
    audit.record(
        action=AuditAction.OUTREACH_REFILL,
        actor=actor,
        organization_id=report.organization_id,
        obj=report,
        metadata={"step": "done"},
    )
    return KitUseReport.objects.get(pk=report.pk)


@transaction.atomic
def kit_use_exclude(*, actor: Any, report: KitUseReport) -> KitUseReport:
    """A coordinator finds a report is spam: it stops counting anywhere (also in detection)."""
    from harbour.surveillance.models import Source
    from harbour.surveillance.services import event_exclude

    if report.organization_id is None:
        raise ValidationError(_("Take the request for your organization first."))
    require_role(actor, report.organization_id, Role.COORDINATOR)
    KitUseReport.objects.filter(pk=report.pk).update(
        excluded=True, contact="", contact_purge_at=None, refill_status=RefillStatus.NONE
    )
    event_exclude(source=Source.ANONYMOUS_REPORT, source_ref=f"kit-use:{report.pk}")
    audit.record(
        action=AuditAction.OUTREACH_REFILL,
        actor=actor,
        organization_id=report.organization_id,
        obj=report,
        metadata={"step": "exclude"},
    )
    return KitUseReport.objects.get(pk=report.pk)
