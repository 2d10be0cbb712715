"""Outreach settings: teams, spots, the program and its referral choices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.outreach.models import (
    Program,
    Spot,
    Supply,
    Team,
    UnitKind,
)
from harbour.outreach.services.base import (
    _locked_program,
    padded,
    program_for,
)
from harbour.outreach.services.checks import (
    Errors,
    _choices,
    _fsa,
    _own_team,
)

# --- settings ---------------------------------------------------------------------------------


def _unit_name(
    errors: Errors, model: Any, organization: Any, name: str, current: Any, taken: str
) -> str:
    """A team's or spot's name: white space folded, required, unique in the organization."""
    name = " ".join(name.split())[:80]
    if not name:
        errors.add("name", _("Give it a name."))
    clash = model.objects.filter(organization=organization, name__iexact=name)
    if current is not None:
        clash = clash.exclude(pk=current.pk)
    if name and clash.exists():
        errors.add("name", taken)
    return name


def _unit_store(
    model: Any, *, actor: Any, organization: Any, current: Any, what: str, **values: Any
) -> Any:
    """Create or update a team or spot (of this organization) and audit it."""
    if current is None:
        values.pop("active", None)
        current = model.objects.create(organization=organization, **values)
    else:
        model.objects.filter(pk=current.pk).update(**values)
        current.refresh_from_db()
    audit.record(
        action=AuditAction.OUTREACH_SETTINGS,
        actor=actor,
        organization=organization,
        obj=current,
        metadata={"what": what, "active": current.active},
    )
    return current


@transaction.atomic
def team_save(
    *,
    actor: Any,
    organization: Any,
    name: str,
    kind: str = UnitKind.TEAM,
    fsa: str = "",
    team: Team | None = None,
    active: bool = True,
) -> Team:
    require_role(actor, organization.pk, Role.COORDINATOR)
    if team is not None:
        _own_team(team, organization)
    errors = Errors()
    name = _unit_name(
        errors, Team, organization, name, team, _("There is already a team or site with this name.")
    )
    if kind not in UnitKind.values:
        errors.add("kind", _("Choose a mobile team or a site."))
    area = _fsa(errors, fsa)
    errors.raise_if_any()
    return _unit_store(
        Team, actor=actor, organization=organization, current=team, what="team",
        name=name, kind=kind, fsa=area, active=active,
    )  # fmt: skip


@transaction.atomic
def spot_save(
    *,
    actor: Any,
    organization: Any,
    name: str,
    fsa: str,
    active: bool = True,
    spot: Spot | None = None,
) -> Spot:
    require_role(actor, organization.pk, Role.COORDINATOR)
    if spot is not None and spot.organization_id != organization.pk:
        raise ValidationError(_("This spot is not one of your organization’s named spots."))
    errors = Errors()
    name = _unit_name(
        errors, Spot, organization, name, spot, _("There is already a spot with this name.")
    )
    area = _fsa(errors, fsa)
    if not area and "fsa" not in errors.by_field:
        errors.add("fsa", _("Give the postal area (like K7L) or choose a named spot."))
    errors.raise_if_any()
    return _unit_store(
        Spot, actor=actor, organization=organization, current=spot, what="spot",
        name=name, fsa=area, active=active,
    )  # fmt: skip


@transaction.atomic
def program_update(
    *,
    actor: Any,
    organization: Any,
    tracked: Sequence[str],
    areas: Sequence[str],
    expiry_warning_days: int,
    cover_weeks: int,
    low_stock_weeks: int,
) -> Program:
    require_role(actor, organization.pk, Role.COORDINATOR)
    program = _locked_program(organization)
    errors = Errors()
    codes = _choices(errors, "tracked", list(tracked), Supply.values, _("supply type"))
    fsas = []
    for area in areas:
        code = _fsa(errors, area, name="areas")
        if code:
            fsas.append(code)
    for name, value, low, high in (
        ("expiry_warning_days", expiry_warning_days, 1, 365),
        ("cover_weeks", cover_weeks, 1, 26),
        ("low_stock_weeks", low_stock_weeks, 1, 12),
    ):
        if not (low <= int(value) <= high):
            errors.add(name, _("Between %(low)s and %(high)s.") % {"low": low, "high": high})
    errors.raise_if_any()
    program.tracked = padded(codes)
    program.areas = padded(fsas)
    program.expiry_warning_days = int(expiry_warning_days)
    program.cover_weeks = int(cover_weeks)
    program.low_stock_weeks = int(low_stock_weeks)
    program.save()
    audit.record(
        action=AuditAction.OUTREACH_SETTINGS,
        actor=actor,
        organization=organization,
        obj=program,
        metadata={"what": "program", "tracked": codes, "areas": fsas},
    )
    return program


@transaction.atomic
def referral_choice_set(*, actor: Any, organization: Any, service: Any, on: bool) -> None:
    from harbour.outreach.models import ReferralChoice

    require_role(actor, organization.pk, Role.COORDINATOR)
    program = program_for(organization)
    if on:
        ReferralChoice.objects.get_or_create(program=program, service=service)
    else:
        ReferralChoice.objects.filter(program=program, service=service).delete()
    audit.record(
        action=AuditAction.OUTREACH_SETTINGS,
        actor=actor,
        organization=organization,
        obj=program,
        metadata={"what": "referral", "service": str(service.pk), "on": on},
    )
