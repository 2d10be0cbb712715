"""Writing audit events. Services call :func:`record` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from harbour.core.models import AuditAction, AuditEvent

SECRET_WORDS = ("password", "token", "secret", "key_hash", "otp", "code")


def _clean(metadata: dict[str, Any]) -> dict[str, Any]:
    for name in metadata:
        if any(word in name.lower() for word in SECRET_WORDS):
            raise ValueError(f"audit metadata must not hold secrets: {name!r}")
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
