"""Each organization's detection settings."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from harbour.core import audit, geo
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.surveillance.models import (
    DetectionSettings,
    Method,
)

log = logging.getLogger(__name__)


# --- settings ---------------------------------------------------------------------------------


def settings_for(organization: Any) -> DetectionSettings:
    """The organization's settings (the defaults until someone saves them)."""
    found = DetectionSettings.objects.filter(organization=organization).first()
    return found or DetectionSettings(organization=organization)


@transaction.atomic
def settings_update(*, organization: Any, actor: Any, **values: Any) -> DetectionSettings:
    require_role(actor, organization.pk, Role.COORDINATOR)
    current = settings_for(organization)
    methods = values.get("methods")
    if methods is not None:
        unknown = [m for m in methods if m not in Method.values]
        if unknown or not methods:
            raise ValidationError({"methods": _("Choose at least one method.")})
    for name, value in values.items():
        setattr(current, name, value)
    if "areas" in values:
        areas = []
        for word in str(values["areas"]).replace(",", " ").split():
            found = geo.fsa_of(word)
            if found is None:
                raise ValidationError(
                    {"areas": _("%(value)s is not a postal area (e.g. K7L).") % {"value": word}}
                )
            areas.append(found)
        current.areas = " ".join(dict.fromkeys(areas))
    current.full_clean(exclude=["organization"])
    current.save()
    audit.record(
        action=AuditAction.SURVEILLANCE_SETTINGS,
        actor=actor,
        organization=organization,
        obj=current,
        metadata={"fields": sorted(values)},
    )
    return current
