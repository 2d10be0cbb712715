"""Staff roles, ordered from least to most trusted. No Django models here."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    PEER_WORKER = "peer_worker", _("Peer worker")
    OUTREACH_WORKER = "outreach_worker", _("Outreach worker")
    COORDINATOR = "coordinator", _("Coordinator")
    ORG_ADMIN = "org_admin", _("Organization admin")


ROLE_RANK: dict[str, int] = {role.value: rank for rank, role in enumerate(Role)}


def role_at_least(role: str | None, minimum: str) -> bool:
    """True when ``role`` is ``minimum`` or more trusted; unknown or missing roles are not."""
    if role is None or role not in ROLE_RANK:
        return False
    return ROLE_RANK[role] >= ROLE_RANK[minimum]
