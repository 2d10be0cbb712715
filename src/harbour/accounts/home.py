"""A staff member's home: what needs them now, in each organization they belong to.

Each section comes from its app's selectors (already scoped to the actor and to the least role
that can act on it), so a section shows only to someone who can do something about it, and only
for their own organizations (default deny). Sections with nothing in them are left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from harbour.accounts import selectors as accounts
from harbour.core.roles import Role, role_at_least

SHOWN = 5  # items listed under a section; its count and link give the rest


@dataclass
class Item:
    text: str
    url: str = ""


@dataclass
class Section:
    key: str
    title: str
    count: int
    url: str
    link_text: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Task:
    text: str
    url: str


@dataclass
class OrgHome:
    org: Any
    role: str
    role_label: str
    sections: list[Section]
    tasks: list[Task]


def _url(name: str, org: Any, **kwargs: Any) -> str:
    return reverse(name, kwargs={"slug": org.slug, **kwargs})


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def alerts_section(actor: Any, org: Any) -> Section | None:
    from harbour.alerts import selectors

    rows = selectors.awaiting_second_person(actor, organization=org)
    count = rows.count()
    if not count:
        return None
    return Section(
        key="alerts",
        title=ngettext(
            "%(n)s alert is waiting for a second person",
            "%(n)s alerts are waiting for a second person",
            count,
        )
        % {"n": count},
        count=count,
        url=_url("alerts-staff:list", org),
        link_text=_("Review and approve"),
        items=[Item(a.title) for a in rows[:SHOWN]],
    )


def checkins_section(actor: Any, org: Any) -> Section | None:
    from harbour.checkins import selectors

    rows = selectors.needing_dispatcher(actor, organization=org)
    count = rows.count()
    if not count:
        return None
    return Section(
        key="checkins",
        title=ngettext(
            "%(n)s check-in needs the dispatcher",
            "%(n)s check-ins need the dispatcher",
            count,
        )
        % {"n": count},
        count=count,
        url=_url("checkins-staff:board", org),
        link_text=_("Open the dispatcher board"),
        items=[
            Item(
                _("%(state)s, started %(when)s")
                % {"state": s.get_state_display(), "when": _when(s.started_at)},
                _url("checkins-staff:session", org, session_id=s.pk),
            )
            for s in rows[:SHOWN]
        ],
    )


def signals_section(actor: Any, org: Any) -> Section | None:
    from harbour.surveillance import selectors

    groups = selectors.new_signal_groups(actor, organization=org)
    if not groups:
        return None
    items = []
    for group in groups[:SHOWN]:
        methods = group.methods
        items.append(
            Item(
                ngettext(
                    "%(area)s, %(start)s to %(end)s: seen by %(n)s method (%(methods)s)",
                    "%(area)s, %(start)s to %(end)s: seen by %(n)s methods (%(methods)s)",
                    len(methods),
                )
                % {
                    "area": group.label,
                    "start": date_format(timezone.localtime(group.start), "SHORT_DATE_FORMAT"),
                    "end": date_format(timezone.localtime(group.end), "SHORT_DATE_FORMAT"),
                    "n": len(methods),
                    "methods": ", ".join(methods),
                }
                + (
                    _("; also seen in %(wider)s") % {"wider": ", ".join(group.also)}
                    if group.also
                    else ""
                ),
                _url("surveillance-staff:signal", org, signal_id=group.first.pk),
            )
        )
    count = len(groups)
    return Section(
        key="signals",
        title=ngettext(
            "%(n)s new signal to review (grouped by area)",
            "%(n)s new signals to review (grouped by area)",
            count,
        )
        % {"n": count},
        count=count,
        url=_url("surveillance-staff:dashboard", org),
        link_text=_("Open spikes and trends"),
        items=items,
    )


def referrals_section(actor: Any, org: Any) -> Section | None:
    from harbour.referrals import selectors

    rows = selectors.unacknowledged(actor, organization=org)
    count = rows.count()
    if not count:
        return None
    items = []
    for r in rows[:SHOWN]:
        sender = r.sender.name if r.sender else _("Self-referral")
        sent = _when(r.sent_at) if r.sent_at else ""
        items.append(
            Item(
                _("From %(sender)s, sent %(when)s") % {"sender": sender, "when": sent},
                _url("referrals-staff:detail", org, referral_id=r.pk),
            )
        )
    return Section(
        key="referrals",
        title=ngettext(
            "%(n)s referral to acknowledge",
            "%(n)s referrals to acknowledge",
            count,
        )
        % {"n": count},
        count=count,
        url=_url("referrals-staff:queue", org) + "?status=waiting",
        link_text=_("Open the referral queue"),
        items=items,
    )


def refills_section(actor: Any, org: Any) -> Section | None:
    from harbour.outreach import selectors

    rows = selectors.refills(actor, organization=org)
    count = rows.count()
    if not count:
        return None
    return Section(
        key="refills",
        title=ngettext(
            "%(n)s naloxone refill request is waiting",
            "%(n)s naloxone refill requests are waiting",
            count,
        )
        % {"n": count},
        count=count,
        url=_url("outreach-staff:refills", org),
        link_text=_("Open refill requests"),
        items=[
            Item(
                _("Kit used on %(day)s%(area)s")
                % {
                    "day": date_format(r.used_on, "SHORT_DATE_FORMAT"),
                    "area": f" · {r.fsa}" if r.fsa else "",
                }
            )
            for r in rows[:SHOWN]
        ],
    )


def stock_section(actor: Any, org: Any, today: date) -> Section | None:
    from harbour.outreach import selectors
    from harbour.outreach.models import supply_count

    rows = selectors.low_stock(actor, organization=org, today=today)
    if not rows:
        return None
    count = len(rows)
    return Section(
        key="stock",
        title=ngettext("%(n)s supply is low", "%(n)s supplies are low", count) % {"n": count},
        count=count,
        url=_url("outreach-staff:stock", org),
        link_text=_("Open the stock"),
        items=[
            Item(
                _("%(team)s: %(what)s left")
                % {"team": row.team.name, "what": supply_count(row.supply, row.on_hand)}
            )
            for row in rows[:SHOWN]
        ],
    )


def everyday_tasks(org: Any, role: str) -> list[Task]:
    """Links to the pages this role opens every day (never a page it cannot open)."""
    tasks = []
    if role_at_least(role, Role.PEER_WORKER):
        tasks += [
            Task(_("Log an outreach encounter"), _url("outreach-staff:log", org)),
            Task(_("Check-ins: dispatcher"), _url("checkins-staff:board", org)),
            Task(_("Referrals and clients"), _url("referrals-staff:queue", org)),
        ]
    if role_at_least(role, Role.OUTREACH_WORKER):
        tasks.append(Task(_("Drug alerts"), _url("alerts-staff:list", org)))
    tasks.append(Task(_("Spikes and trends"), _url("surveillance-staff:dashboard", org)))
    return tasks


def for_actor(actor: Any, *, today: date | None = None) -> list[OrgHome]:
    """For each organization of the actor, the sections that need them (possibly none)."""
    today = today or timezone.localdate()
    roles = actor.org_roles() if hasattr(actor, "org_roles") else {}
    homes = []
    for org in accounts.organizations_for(actor).order_by("name"):
        role = roles.get(org.id)
        if role is None:
            continue
        # each section only for a role that can act on it: the same floors as the selectors'
        # own scoping, checked here first so that a viewer's organizations cost no query
        found = [
            section(actor, org) if role_at_least(role, minimum) else None
            for minimum, section in (
                (Role.COORDINATOR, alerts_section),
                (Role.PEER_WORKER, checkins_section),
                (Role.COORDINATOR, signals_section),
                (Role.PEER_WORKER, referrals_section),
                (Role.PEER_WORKER, refills_section),
            )
        ]
        if role_at_least(role, Role.OUTREACH_WORKER):
            found.append(stock_section(actor, org, today))
        homes.append(
            OrgHome(
                org=org,
                role=role,
                role_label=str(Role(role).label),
                sections=[s for s in found if s is not None],
                tasks=everyday_tasks(org, role),
            )
        )
    return homes
