"""Audit events written before metadata held ids only named staff and invitees by email
("user", "account", "email"): name members by their user id, drop invitees' addresses."""

from django.db import migrations

ACTIONS = (
    "member-add",
    "member-role-change",
    "member-remove",
    "member-invite",
    "invitation-revoke",
    "login-failed",
)


def scrub(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditEvent = apps.get_model("core", "AuditEvent")
    User = apps.get_model("accounts", "User")
    ids = {email.lower(): pk for pk, email in User.objects.values_list("pk", "email")}
    for event in AuditEvent.objects.filter(action__in=ACTIONS).iterator(chunk_size=500):
        metadata = dict(event.metadata or {})
        changed = False
        for key in ("user", "account"):
            value = metadata.get(key)
            if isinstance(value, str) and "@" in value:
                metadata[key] = ids.get(value.lower(), "removed")
                changed = True
        if "email" in metadata:
            del metadata["email"]
            changed = True
        if changed:
            AuditEvent.objects.filter(pk=event.pk).update(metadata=metadata)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_cache_table"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
