"""Writing audit events. Services call :func:`record` inside their transaction.

Metadata holds ids, codes and counts, never a person's details: :func:`record` refuses keys
that look like secrets and values that look like an email address or a phone number (staff and
public alike), so a writer that would put one there fails in its tests rather than keep it for
the audit trail's seven years.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models

from harbour.core.models import AuditAction, AuditEvent

SECRET_WORDS = ("password", "token", "secret", "key_hash", "otp", "code")


EMAIL = re.compile(r"[^@\s/:]+@[^@\s/]+\.[A-Za-z]{2,}")
# E.164 (+16135550142) or a North American number written with separators (613-555-0142,
# (613) 555 0142); dates, UUIDs and lot numbers do not have this shape
PHONE = re.compile(r"\+\d{8,15}|(?<!\w)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\w)")


def personal_values(value: Any) -> list[str]:
    """The strings inside ``value`` (any JSON shape) that look like an email or a phone."""
    if isinstance(value, dict):
        return [found for item in value.values() for found in personal_values(item)]
    if isinstance(value, list | tuple | set):
        return [found for item in value for found in personal_values(item)]
    if isinstance(value, str) and (EMAIL.search(value) or PHONE.search(value)):
        return [value]
    return []


def _clean(metadata: dict[str, Any]) -> dict[str, Any]:
    for name in metadata:
        if any(word in name.lower() for word in SECRET_WORDS):
            raise ValueError(f"audit metadata must not hold secrets: {name!r}")
    if personal_values(metadata):
        raise ValueError(
            f"audit metadata must hold ids and counts, not contact details: {sorted(metadata)}"
        )
    return metadata


def actor_label(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "anonymous"
    label = getattr(actor, "audit_label", None)
    return str(label() if callable(label) else label or actor)


def record(
    *,
    action: AuditAction,
    actor: Any = None,
    organization: Any = None,
    organization_id: Any = None,
    obj: models.Model | None = None,
    metadata: dict[str, Any] | None = None,
    label: str = "",
) -> AuditEvent:
    """Append one audit event. ``actor`` is a user, an API key or ``None`` (the system)."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_user", False) else None,
        actor_label=label or (actor_label(actor) if actor is not None else "system"),
        organization_id=organization.pk if organization is not None else organization_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        metadata=_clean(dict(metadata or {})),
    )
