"""The audit trail as an org admin reads it: what an event's object and details were, in
words ("Team: North", "Fields: site, notes"), not ids and Python lists.

Only names an org admin may already see are looked up, and only inside their organization:
members (by their label), and things with a public or staff-facing name (teams, spots,
alerts, meetings, API keys, drug-checking samples by code). People the
organization serves (clients, responders, mentors, check-ins) are never named here: they
stay "a client", "a check-in". An id that cannot be named is shortened to its first 8
characters, enough to tell two apart."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from harbour.accounts.models import Membership, Organization, OrganizationType
from harbour.core.models import AuditEvent
from harbour.core.roles import Role

# model -> the field that names a row (rows are looked up within the organization only)
NAMED = {
    "accounts.apikey": "name",
    "alerts.alert": "title",
    "meetings.meeting": "name",
    "outreach.team": "name",
    "outreach.spot": "name",
    "drugcheck.sample": "code",
}
# metadata keys whose value is a user id
USER_KEYS = {"user", "by", "member", "receiver"}
KEYS = {
    "fields": gettext_lazy("Fields"),
    "field": gettext_lazy("Field"),
    "role": gettext_lazy("Role"),
    "from": pgettext_lazy("audit change", "From"),
    "to": pgettext_lazy("audit change", "To"),
    "user": gettext_lazy("Member"),
    "by": gettext_lazy("By"),
    "reason": gettext_lazy("Reason"),
    "outcome": gettext_lazy("Outcome"),
    "tests": gettext_lazy("Tests"),
    "method": gettext_lazy("Method"),
    "kind": gettext_lazy("Kind"),
    "source": gettext_lazy("Source"),
    "created": gettext_lazy("Added"),
    "updated": gettext_lazy("Updated"),
    "active": gettext_lazy("Active"),
    "on_call": gettext_lazy("On call"),
    "published": gettext_lazy("Already published"),
    "where": gettext_lazy("Where"),
    "team": gettext_lazy("Team"),
    "service": gettext_lazy("Listing"),
    "alert": gettext_lazy("Alert"),
    "quantity": gettext_lazy("Quantity"),
    "type": gettext_lazy("Type"),
}
WHERE = {"board": gettext_lazy("dispatcher board")}


@dataclass
class Row:
    event: AuditEvent
    object: str
    details: list[tuple[str, str]]


def _uuid(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _ids(events: Iterable[AuditEvent]) -> tuple[set[str], set[int]]:
    uuids: set[str] = set()
    users: set[int] = set()

    def walk(key: str, value: Any) -> None:
        if isinstance(value, list | tuple):
            for item in value:
                walk(key, item)
        elif key in USER_KEYS and isinstance(value, int) and not isinstance(value, bool):
            users.add(value)
        elif found := _uuid(value):
            uuids.add(found)

    for event in events:
        if event.object_type == "accounts.user" and event.object_id.isdigit():
            users.add(int(event.object_id))
        elif found := _uuid(event.object_id):
            uuids.add(found)
        for key, value in (event.metadata or {}).items():
            walk(key, value)
    return uuids, users


def _names(organization: Organization, uuids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    if not uuids:
        return names
    for label, field in NAMED.items():
        model = apps.get_model(label)
        kind = str(model._meta.verbose_name).capitalize()
        rows = model._default_manager.filter(organization=organization, pk__in=uuids)
        for pk, value in rows.values_list("pk", field):
            if label == "drugcheck.sample":
                value = "-".join(value[i : i + 4] for i in range(0, len(value), 4))
            names[str(pk)] = f"{kind}: {value}"
    return names


def _members(organization: Organization, users: set[int]) -> dict[int, str]:
    """Members of the organization by their name or address; anyone else (a member who
    left, another organization's staff) is not looked up."""
    found = Membership.objects.filter(organization=organization, user_id__in=users)
    return {m.user_id: str(m.user) for m in found.select_related("user")}


def _value(key: str, value: Any, names: dict[str, str], members: dict[int, str]) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_value(key, item, names, members) for item in value) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(k, v, names, members)}" for k, v in value.items())
    if key in USER_KEYS and isinstance(value, int):
        return members.get(value, _("former member (account %(id)s)") % {"id": value})
    if found := _uuid(value):
        return names.get(found, f"#{found[:8]}")
    if key in {"role", "from", "to"} and value in Role.values:
        return str(Role(value).label)
    if key == "type" and value in OrganizationType.values:
        return str(OrganizationType(value).label)
    if key == "where" and value in WHERE:
        return str(WHERE[value])
    if value is None or value == "":
        return "—"
    return str(value)


def _key(key: str) -> str:
    return str(KEYS.get(key) or key.replace("_", " ").capitalize())


def _object(event: AuditEvent, names: dict[str, str], members: dict[int, str]) -> str:
    if not event.object_type:
        return ""
    if event.object_type == "accounts.user" and event.object_id.isdigit():
        return members.get(int(event.object_id), "")
    if event.object_id in names:
        return names[event.object_id]
    try:
        model = apps.get_model(event.object_type)
    except (LookupError, ValueError):
        return ""
    return str(model._meta.verbose_name).capitalize()


def rows(organization: Organization, events: Iterable[AuditEvent]) -> list[Row]:
    """Each event with its object and details in words (a page at a time: a few queries)."""
    events = list(events)
    uuids, users = _ids(events)
    names = _names(organization, uuids)
    members = _members(organization, users)
    return [
        Row(
            event=event,
            object=_object(event, names, members),
            details=[
                (_key(k), _value(k, v, names, members)) for k, v in (event.metadata or {}).items()
            ],
        )
        for event in events
    ]
