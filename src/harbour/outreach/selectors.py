"""Reads of outreach, scoped to the actor's organizations: teams, recent records, stock with
order suggestions, refill requests, and the report for a period (exact for the organization's
own staff; through small-cell suppression when shared or public)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.core import suppression
from harbour.core.permissions import scope
from harbour.core.roles import Role
from harbour.outreach import inventory
from harbour.outreach.models import (
    NALOXONE,
    REMOVABLE_RECORDS,
    SURVIVED,
    Distribution,
    Encounter,
    Help,
    KitUseReport,
    Movement,
    Outcome,
    OverdoseResponse,
    Program,
    Recipient,
    RefillStatus,
    StockLevel,
    StockMovement,
    Supply,
    Team,
    TrainingSession,
)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of ``first`` to the end of ``last``, local time."""
    return (
        datetime.combine(first, time(0), _tz()),
        datetime.combine(last + timedelta(days=1), time(0), _tz()),
    )


def teams(actor: Any, *, organization: Any, active: bool = True) -> QuerySet[Team]:
    rows = scope(Team.objects.filter(organization=organization), actor, minimum=Role.VIEWER)
    return rows.filter(active=True) if active else rows


def spots(actor: Any, *, organization: Any) -> QuerySet[Any]:
    from harbour.outreach.models import Spot

    return scope(Spot.objects.filter(organization=organization, active=True), actor)


def referral_choices(actor: Any, *, organization: Any) -> list[tuple[str, str]]:
    from harbour.outreach.models import ReferralChoice

    rows = scope(
        ReferralChoice.objects.filter(program__organization=organization),
        actor,
        field="program__organization",
    ).select_related("service")
    return sorted(((str(r.service_id), str(r.service.name)) for r in rows), key=lambda x: x[1])


def recent_encounters(actor: Any, *, organization: Any, limit: int = 20) -> QuerySet[Encounter]:
    return (
        scope(Encounter.objects.filter(organization=organization), actor, minimum=Role.PEER_WORKER)
        .select_related("team", "spot")
        .prefetch_related("supplies")
        .order_by("-occurred_at")[:limit]
    )


def recent_responses(
    actor: Any, *, organization: Any, limit: int = 10
) -> QuerySet[OverdoseResponse]:
    return (
        scope(
            OverdoseResponse.objects.filter(organization=organization),
            actor,
            minimum=Role.PEER_WORKER,
        )
        .select_related("team")
        .order_by("-occurred_at")[:limit]
    )


def record_for(actor: Any, *, organization: Any, kind: str, record_id: Any) -> Any:
    """An encounter or overdose response of the organization (coordinators), else 404."""
    model = REMOVABLE_RECORDS.get(kind)
    if model is None:
        raise Http404
    rows = scope(model.objects.filter(organization=organization), actor, minimum=Role.COORDINATOR)
    found = rows.select_related("team", "spot").filter(pk=record_id).first()
    if found is None:
        raise Http404
    return found


def last_encounter(actor: Any, *, organization: Any) -> Encounter | None:
    """The actor's own last encounter here (for "same as last time")."""
    if not getattr(actor, "is_user", False):
        return None
    return (
        scope(Encounter.objects.filter(organization=organization, recorded_by=actor), actor)
        .prefetch_related("supplies")
        .order_by("-created_at")
        .first()
    )


# --- stock ------------------------------------------------------------------------------------


@dataclass
class LotRow:
    pk: int
    lot: str
    expires_on: date | None
    quantity: int
    expired: bool = False
    expiring: bool = False


@dataclass
class StockRow:
    team: Team
    supply: str
    label: str
    on_hand: int
    used: int  # in the last 4 weeks
    lots: list[LotRow]
    weeks_left: float | None
    low: bool
    suggestion: int


def stock_rows(
    program: Program, *, today: date, team_ids: Iterable[Any] | None = None
) -> list[StockRow]:
    """Every tracked supply of every active team of the program's organization (not scoped:
    the periodic notices use it; staff pages go through :func:`stock_for`)."""
    tracked = program.tracked_list()
    team_list = list(Team.objects.filter(organization_id=program.organization_id, active=True))
    if team_ids is not None:
        wanted = set(team_ids)
        team_list = [t for t in team_list if t.pk in wanted]
    if not tracked or not team_list:
        return []
    since = datetime.combine(today - timedelta(days=inventory.USE_WINDOW_DAYS), time(0), _tz())
    used = defaultdict(int)
    for team_id, supply, total in (
        StockMovement.objects.filter(
            team__in=team_list,
            supply__in=tracked,
            at__gte=since,
            kind__in=[Movement.DISTRIBUTION, Movement.RESPONSE],
        )
        .values_list("team_id", "supply")
        .annotate(total=Sum("change"))
    ):
        used[(team_id, supply)] = -int(total or 0)
    levels = defaultdict(list)
    for level in StockLevel.objects.filter(team__in=team_list, supply__in=tracked):
        levels[(level.team_id, level.supply)].append(level)
    labels = dict(Supply.choices)
    warn_until = today + timedelta(days=program.expiry_warning_days)
    rows = []
    for team in team_list:
        for supply in tracked:
            lots = [
                LotRow(
                    pk=x.pk,
                    lot=x.lot,
                    expires_on=x.expires_on,
                    quantity=x.quantity,
                    expired=bool(x.expires_on and x.expires_on <= today),
                    expiring=bool(x.expires_on and today < x.expires_on <= warn_until),
                )
                for x in levels.get((team.pk, supply), [])
            ]
            lots = [x for x in lots if x.quantity > 0 or x.lot]
            lots.sort(key=lambda x: (x.expires_on is None, x.expires_on or date.max, x.lot))
            on_hand = sum(x.quantity for x in lots)
            use = used.get((team.pk, supply), 0)
            as_lots = [inventory.Lot(x.pk, x.lot, x.expires_on, x.quantity) for x in lots]
            rows.append(
                StockRow(
                    team=team,
                    supply=supply,
                    label=str(labels.get(supply, supply)),
                    on_hand=on_hand,
                    used=use,
                    lots=[x for x in lots if x.quantity > 0],
                    weeks_left=inventory.weeks_left(on_hand=on_hand, used_in_window=use),
                    low=inventory.is_low(
                        on_hand=on_hand, used_in_window=use, low_weeks=program.low_stock_weeks
                    ),
                    suggestion=inventory.order_suggestion(
                        used_in_window=use,
                        lots=as_lots,
                        today=today,
                        cover_weeks=program.cover_weeks,
                    ),
                )
            )
    return rows


def stock_for(actor: Any, *, organization: Any, today: date) -> list[StockRow]:
    if not scope(Team.objects.filter(organization=organization), actor).exists():
        return []
    program = Program.objects.filter(organization=organization).first()
    return [] if program is None else stock_rows(program, today=today)


def low_stock(actor: Any, *, organization: Any, today: date) -> list[StockRow]:
    """The organization's stock rows that are low (less than the program's weeks of use left),
    for staff who receive and move stock (outreach workers and up)."""
    teams = scope(
        Team.objects.filter(organization=organization), actor, minimum=Role.OUTREACH_WORKER
    )
    if not teams.exists():
        return []
    program = Program.objects.filter(organization=organization).first()
    if program is None:
        return []
    return [row for row in stock_rows(program, today=today) if row.low]


def level_for(actor: Any, *, organization: Any, level_id: Any) -> StockLevel:
    from harbour.core.permissions import get_scoped_or_404

    return get_scoped_or_404(
        StockLevel.objects.filter(team__organization=organization).select_related(
            "team__organization"
        ),
        actor,
        field="team__organization",
        minimum=Role.COORDINATOR,
        pk=level_id,
    )


def movements(actor: Any, *, organization: Any, limit: int = 50) -> QuerySet[StockMovement]:
    return (
        scope(
            StockMovement.objects.filter(team__organization=organization),
            actor,
            field="team__organization",
            minimum=Role.OUTREACH_WORKER,
        )
        .select_related("team", "other_team")
        .order_by("-at", "-id")[:limit]
    )


# --- refill requests --------------------------------------------------------------------------


def refills(actor: Any, *, organization: Any) -> QuerySet[KitUseReport]:
    """Open refill requests routed to this organization."""
    return scope(
        KitUseReport.objects.filter(
            organization=organization, refill_status=RefillStatus.OPEN, excluded=False
        ),
        actor,
        minimum=Role.PEER_WORKER,
    ).order_by("created_at")


def unrouted_refills(actor: Any) -> QuerySet[KitUseReport]:
    """Refill requests from areas no outreach program serves: any coordinator of an
    organization running outreach may take one (they hold no contact detail until taken,
    and none is shown before)."""
    from harbour.core.permissions import org_ids

    ids = org_ids(actor, Role.COORDINATOR)
    if not ids or not Program.objects.filter(organization_id__in=ids).exists():
        return KitUseReport.objects.none()
    return KitUseReport.objects.filter(
        organization__isnull=True, refill_status=RefillStatus.OPEN, excluded=False
    ).order_by("created_at")


def kit_use_for(actor: Any, *, organization: Any, report_id: Any) -> KitUseReport:
    try:
        found = (
            KitUseReport.objects.filter(pk=report_id)
            .filter(Q(organization=organization) | Q(organization__isnull=True))
            .first()
        )
    except (ValueError, TypeError) as exc:
        raise Http404 from exc
    if found is None:
        raise Http404
    if found.organization_id is None:
        if not unrouted_refills(actor).filter(pk=found.pk).exists():
            raise Http404
        return found
    if not scope(
        KitUseReport.objects.filter(pk=found.pk), actor, minimum=Role.PEER_WORKER
    ).exists():
        raise Http404
    return found


# --- reports ----------------------------------------------------------------------------------


@dataclass
class Week:
    monday: date
    encounters: int = 0
    people: int = 0
    naloxone: int = 0


@dataclass
class Report:
    first: date
    last: date
    encounters: int = 0
    people_new: int = 0
    people_returning: int = 0
    unique_clients: int = 0
    supplies: list[tuple[str, str, int]] = field(default_factory=list)
    naloxone_nasal: int = 0
    naloxone_injectable: int = 0
    naloxone_recipients: list[tuple[str, str, int]] = field(default_factory=list)
    naloxone_trained: int = 0
    trainings: int = 0
    people_trained: int = 0
    responses: int = 0
    responses_naloxone: int = 0
    doses: int = 0
    outcomes: list[tuple[str, str, int]] = field(default_factory=list)
    kit_reports: int = 0
    kit_reports_reversal: int = 0
    refills_asked: int = 0
    services: list[tuple[str, str, int]] = field(default_factory=list)
    referrals: int = 0
    weeks: list[Week] = field(default_factory=list)

    @property
    def people(self) -> int:
        return self.people_new + self.people_returning

    @property
    def naloxone_given(self) -> int:
        return self.naloxone_nasal + self.naloxone_injectable

    @property
    def reversals(self) -> int:
        """Naloxone given and the person lived: staff responses and anonymous reports."""
        return self.responses_reversal + self.kit_reports_reversal

    responses_reversal: int = 0

    @property
    def naloxone_used(self) -> int:
        """Overdoses where naloxone was used: staff responses with doses, and kit-use reports."""
        return self.responses_naloxone + self.kit_reports

    def is_empty(self) -> bool:
        return not (
            self.encounters
            or self.naloxone_given
            or self.responses
            or self.kit_reports
            or self.trainings
        )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _compute(
    first: date,
    last: date,
    encounters: QuerySet[Encounter],
    distributions: QuerySet[Distribution],
    responses: QuerySet[OverdoseResponse],
    trainings: QuerySet[TrainingSession],
    kit_reports: QuerySet[KitUseReport],
) -> Report:
    start, end = bounds(first, last)
    report = Report(first=first, last=last)
    encounters = encounters.filter(occurred_at__gte=start, occurred_at__lt=end)
    totals = encounters.aggregate(
        n=Count("pk"),
        new=Sum("people_new"),
        returning=Sum("people_returning"),
        clients=Count("client_code_index", distinct=True, filter=~Q(client_code_index="")),
    )
    report.encounters = totals["n"] or 0
    report.people_new = totals["new"] or 0
    report.people_returning = totals["returning"] or 0
    report.unique_clients = totals["clients"] or 0
    given = distributions.filter(given_at__gte=start, given_at__lt=end)
    by_supply = dict(
        given.values_list("supply").annotate(n=Sum("quantity")).values_list("supply", "n")
    )
    report.supplies = [(s.value, str(s.label), int(by_supply.get(s.value) or 0)) for s in Supply]
    report.naloxone_nasal = int(by_supply.get(Supply.NALOXONE_NASAL) or 0)
    report.naloxone_injectable = int(by_supply.get(Supply.NALOXONE_INJECTABLE) or 0)
    naloxone = given.filter(supply__in=NALOXONE)
    by_recipient = dict(
        naloxone.values_list("recipient").annotate(n=Sum("quantity")).values_list("recipient", "n")
    )
    report.naloxone_recipients = [
        (r.value, str(r.label), int(by_recipient.get(r.value) or 0)) for r in Recipient
    ]
    report.naloxone_trained = int(
        naloxone.filter(trained=True).aggregate(n=Sum("quantity"))["n"] or 0
    )
    sessions = trainings.filter(held_on__gte=first, held_on__lte=last).aggregate(
        n=Count("pk"), people=Sum("people_trained")
    )
    report.trainings, report.people_trained = sessions["n"] or 0, sessions["people"] or 0
    responses = responses.filter(occurred_at__gte=start, occurred_at__lt=end)
    rtotals = responses.aggregate(
        n=Count("pk"),
        naloxone=Count("pk", filter=Q(naloxone_doses__gt=0)),
        doses=Sum("naloxone_doses"),
        reversal=Count("pk", filter=Q(naloxone_doses__gt=0, outcome__in=SURVIVED)),
    )
    report.responses = rtotals["n"] or 0
    report.responses_naloxone = rtotals["naloxone"] or 0
    report.doses = rtotals["doses"] or 0
    report.responses_reversal = rtotals["reversal"] or 0
    by_outcome = dict(
        responses.values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n")
    )
    report.outcomes = [(o.value, str(o.label), int(by_outcome.get(o.value) or 0)) for o in Outcome]
    kits = kit_reports.filter(used_on__gte=first, used_on__lte=last, excluded=False).aggregate(
        n=Count("pk"),
        reversal=Count("pk", filter=Q(outcome__in=SURVIVED)),
        refills=Count("pk", filter=Q(want_refill=True)),
    )
    report.kit_reports, report.kit_reports_reversal = kits["n"] or 0, kits["reversal"] or 0
    report.refills_asked = kits["refills"] or 0
    report.services = [
        (h.value, str(h.label), encounters.filter(services__contains=f" {h.value} ").count())
        for h in Help
    ]
    from harbour.outreach.models import EncounterReferral

    report.referrals = EncounterReferral.objects.filter(encounter__in=encounters).count()
    weeks: dict[date, Week] = {}
    monday = _monday(first)
    while monday <= last:
        weeks[monday] = Week(monday=monday)
        monday += timedelta(days=7)
    tz = _tz()
    for when, new, returning in encounters.values_list(
        "occurred_at", "people_new", "people_returning"
    ):
        week = weeks.get(_monday(when.astimezone(tz).date()))
        if week is not None:
            week.encounters += 1
            week.people += new + returning
    for when, quantity in naloxone.values_list("given_at", "quantity"):
        week = weeks.get(_monday(when.astimezone(tz).date()))
        if week is not None:
            week.naloxone += quantity
    report.weeks = list(weeks.values())
    return report


def report(actor: Any, *, organization: Any, first: date, last: date) -> Report:
    """The organization's own figures for ``first``..``last`` (local dates), exact."""

    def own(model: Any) -> Any:
        return scope(model.objects.filter(organization=organization), actor, minimum=Role.VIEWER)

    return _compute(
        first,
        last,
        own(Encounter),
        own(Distribution),
        own(OverdoseResponse),
        own(TrainingSession),
        own(KitUseReport),
    )


def public_report(*, first: date, last: date) -> Report:
    """Every organization together, for the public page (shown only through suppression)."""
    return _compute(
        first,
        last,
        Encounter.objects.all(),
        Distribution.objects.all(),
        OverdoseResponse.objects.all(),
        TrainingSession.objects.all(),
        KitUseReport.objects.all(),
    )


# --- presenting: exact, or suppressed for sharing --------------------------------------------


@dataclass
class Figure:
    code: str
    label: str
    cell: suppression.Cell


def _exact(value: int) -> suppression.Cell:
    return suppression.Cell(value, False)


@dataclass
class Presented:
    shared: bool
    headline: list[Figure]
    supplies: list[Figure]
    supplies_total: suppression.Cell
    recipients: list[Figure]
    recipients_total: suppression.Cell
    outcomes: list[Figure]
    outcomes_total: suppression.Cell
    services: list[Figure]
    weeks: list[tuple[date, suppression.Cell, suppression.Cell, suppression.Cell]]


def shared_cells(
    report: Report, *, published: Collection[str] | None = None
) -> dict[str, suppression.Cell]:
    """Every figure of a report suppressed together, for anything seen outside the
    organization (the version to share, the public release): one call to
    :func:`harbour.core.suppression.linked` with every sum the figures make as a group, so
    that no difference of shown figures gives a count 1–4 away: new + returning = people,
    the supplies and their total, the recipients and the outcomes against the kits given and
    the responses, "naloxone used" = responses with naloxone + kit reports, and its split
    into reversals and the uses without one (never shown, but protected), kits given to
    someone trained or not, refills asked or not, and each service against the encounters it
    was not given in. Keys not in ``published`` are computed only to be protected. The totals
    of the supplies, recipients and outcomes are also under "total:supply", "total:recipient"
    and "total:outcome"."""
    v, groups, hidden, totals = _figures(report)
    shown = set(v) - hidden if published is None else set(published)
    cells = suppression.linked(v, groups, published=shown)
    for prefix, key in totals.items():
        cells[f"total:{prefix}"] = cells[key]
    return cells


def _figures(
    report: Report,
) -> tuple[dict[str, int], list[tuple[str, list[str]]], set[str], dict[str, str]]:
    """The named counts of a report, the sums they make, the keys never shown, and the keys
    of the supplies', recipients' and outcomes' totals."""
    v: dict[str, int] = {
        "encounters": report.encounters,
        "people": report.people,
        "people-new": report.people_new,
        "people-returning": report.people_returning,
        "unique-clients": report.unique_clients,
        "naloxone-given": report.naloxone_given,
        "naloxone-trained": report.naloxone_trained,
        "given-untrained": report.naloxone_given - report.naloxone_trained,
        "trainings": report.trainings,
        "people-trained": report.people_trained,
        "responses": report.responses,
        "responses-naloxone": report.responses_naloxone,
        "responses-no-naloxone": report.responses - report.responses_naloxone,
        "responses-reversal": report.responses_reversal,
        "responses-no-reversal": report.responses_naloxone - report.responses_reversal,
        "doses": report.doses,
        "kit-reports": report.kit_reports,
        "kit-reversal": report.kit_reports_reversal,
        "kit-no-reversal": report.kit_reports - report.kit_reports_reversal,
        "refills-asked": report.refills_asked,
        "kit-no-refill": report.kit_reports - report.refills_asked,
        "naloxone-used": report.naloxone_used,
        "reversals": report.reversals,
        "not-reversed": report.naloxone_used - report.reversals,
        "referrals": report.referrals,
    }
    groups: list[tuple[str, list[str]]] = [
        ("people", ["people-new", "people-returning"]),
        ("naloxone-given", ["naloxone-trained", "given-untrained"]),
        ("responses", ["responses-naloxone", "responses-no-naloxone"]),
        ("responses-naloxone", ["responses-reversal", "responses-no-reversal"]),
        ("kit-reports", ["kit-reversal", "kit-no-reversal"]),
        ("kit-reports", ["refills-asked", "kit-no-refill"]),
        ("naloxone-used", ["responses-naloxone", "kit-reports"]),
        ("reversals", ["responses-reversal", "kit-reversal"]),
        ("naloxone-used", ["reversals", "not-reversed"]),
        ("not-reversed", ["responses-no-reversal", "kit-no-reversal"]),
    ]
    totals = {"supply": "supplies-total", "recipient": "naloxone-given", "outcome": "responses"}
    for prefix, items in (
        ("supply", report.supplies),
        ("recipient", report.naloxone_recipients),
        ("outcome", report.outcomes),
    ):
        keys = [f"{prefix}:{code}" for code, _label, _n in items]
        v.update({k: n for k, (_c, _l, n) in zip(keys, items, strict=True)})
        total = totals[prefix]
        if v.get(total, sum(n for _c, _l, n in items)) != sum(n for _c, _l, n in items):
            total = f"{prefix}s-total"  # not the same count (never expected): its own total
        v.setdefault(total, sum(n for _c, _l, n in items))
        groups.append((total, keys))
        totals[prefix] = total
    if all(f"supply:{c}" in v for c in NALOXONE):
        groups.append(("naloxone-given", [f"supply:{c}" for c in NALOXONE]))
    for code, _label, n in report.services:
        v[f"service:{code}"] = n
        v[f"no-service:{code}"] = report.encounters - n
        groups.append(("encounters", [f"service:{code}", f"no-service:{code}"]))
    hidden = {k for k in v if k.startswith("no-service:")} | {
        "given-untrained", "responses-no-naloxone", "responses-reversal",
        "responses-no-reversal", "kit-reversal", "kit-no-reversal", "kit-no-refill",
        "not-reversed",
    }  # fmt: skip
    return v, groups, hidden, totals


def present(report: Report, *, shared: bool) -> Presented:
    """Figures for a page or a CSV: exact for the organization's own staff; for anything seen
    outside it, every figure through :func:`shared_cells` (joint suppression: "<5" for 1–4,
    "x" for a count hidden to protect another), and no weeks (they cut across the month)."""
    cells = shared_cells(report) if shared else {}

    def one(key: str, value: int) -> suppression.Cell:
        return cells[key] if shared else _exact(value)

    def rows(
        prefix: str, items: list[tuple[str, str, int]]
    ) -> tuple[list[Figure], suppression.Cell]:
        figures = [Figure(c, label, one(f"{prefix}:{c}", n)) for c, label, n in items]
        total = sum(n for _c, _l, n in items)
        return figures, one(f"total:{prefix}", total)

    headline = [
        Figure(code, label, one(code, value))
        for code, label, value in (
            ("encounters", _("Encounters"), report.encounters),
            ("people", _("People engaged"), report.people),
            ("people-new", _("New people"), report.people_new),
            ("people-returning", _("Returning people"), report.people_returning),
            ("unique-clients", _("Different people with a client code"), report.unique_clients),
            ("naloxone-given", _("Naloxone kits given"), report.naloxone_given),
            (
                "naloxone-trained",
                _("Kits given to someone shown how to use them"),
                report.naloxone_trained,
            ),
            ("trainings", _("Naloxone training sessions"), report.trainings),
            ("people-trained", _("People trained"), report.people_trained),
            ("responses", _("Overdose responses"), report.responses),
            ("responses-naloxone", _("Responses with naloxone"), report.responses_naloxone),
            ("doses", _("Naloxone doses given in responses"), report.doses),
            ("kit-reports", _("“I used a kit” reports"), report.kit_reports),
            ("naloxone-used", _("Overdoses where naloxone was used"), report.naloxone_used),
            ("reversals", _("Reversals (naloxone given, person lived)"), report.reversals),
            ("refills-asked", _("Refills asked for"), report.refills_asked),
            ("referrals", _("Referrals to services"), report.referrals),
        )
    ]
    supplies, supplies_total = rows("supply", report.supplies)
    recipients, recipients_total = rows("recipient", report.naloxone_recipients)
    outcomes, outcomes_total = rows("outcome", report.outcomes)
    services = [Figure(c, label, one(f"service:{c}", n)) for c, label, n in report.services]
    weeks = (
        []
        if shared
        else [
            (w.monday, _exact(w.encounters), _exact(w.people), _exact(w.naloxone))
            for w in report.weeks
        ]
    )
    return Presented(
        shared=shared,
        headline=headline,
        supplies=supplies,
        supplies_total=supplies_total,
        recipients=recipients,
        recipients_total=recipients_total,
        outcomes=outcomes,
        outcomes_total=outcomes_total,
        services=services,
        weeks=weeks,
    )


# --- the public release ("naloxone") ----------------------------------------------------------

NALOXONE_RELEASE = "naloxone"
NALOXONE_LAG_DAYS = 14  # "I used a kit" reports come in days after the kit was used
NALOXONE_SHOWN = 3  # the public page shows the 3 newest months side by side, never summed
PUBLIC_FIGURES = ("naloxone-given", "people-trained", "kit-reports", "naloxone-used", "reversals")


def public_labels() -> dict[str, str]:
    return {
        "naloxone-given": _("Naloxone kits given"),
        "people-trained": _("People trained"),
        "kit-reports": _("“I used a kit” reports"),
        "naloxone-used": _("Overdoses where naloxone was used"),
        "reversals": _("Reversals (naloxone given, person lived)"),
    }


def naloxone_release(start: date, end: date) -> dict[str, Any]:
    """The public figures of one closed calendar month ``[start, end)``, every organization
    together, as stored in a release: the few figures the page shows, suppressed with all the
    others they are tied to (the sums of :func:`shared_cells`), so "used" minus "reversals" or
    the kits minus their parts never gives a count 1–4. Each organization's own figures are
    parts of the total too, and known to whoever holds its version to share of the month: they
    are never hidden here to protect another, so where the others' part is small, the total is
    hidden instead (else the total minus one organization's figure would give it away)."""
    last = end - timedelta(days=1)
    whole = public_report(first=start, last=last)
    values, groups, _hidden, _totals = _figures(whole)
    base_keys, base_groups = list(values), list(groups)
    zone = _tz()
    since = datetime.combine(start, time.min, zone)
    until = datetime.combine(end, time.min, zone)
    orgs = sorted(
        {str(o) for o in Encounter.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
         .values_list("organization_id", flat=True).distinct()}
        | {str(o) for o in Distribution.objects.filter(given_at__gte=since, given_at__lt=until)
           .values_list("organization_id", flat=True).distinct()}
        | {str(o) for o in OverdoseResponse.objects.filter(
            occurred_at__gte=since, occurred_at__lt=until
        ).values_list("organization_id", flat=True).distinct()}
        | {str(o) for o in TrainingSession.objects.filter(held_on__gte=start, held_on__lte=last)
           .values_list("organization_id", flat=True).distinct()}
        | {str(o) for o in KitUseReport.objects.filter(used_on__gte=start, used_on__lte=last)
           .exclude(organization=None).values_list("organization_id", flat=True).distinct()}
    )  # fmt: skip
    known: set[str] = set()
    rest = dict(values)
    for org in orgs:
        own = _compute(
            start,
            last,
            Encounter.objects.filter(organization_id=org),
            Distribution.objects.filter(organization_id=org),
            OverdoseResponse.objects.filter(organization_id=org),
            TrainingSession.objects.filter(organization_id=org),
            KitUseReport.objects.filter(organization_id=org),
        )
        part, part_groups, part_hidden, _t = _figures(own)
        values.update({f"{org}/{k}": n for k, n in part.items()})
        groups += [(f"{org}/{t}", [f"{org}/{p}" for p in ps]) for t, ps in part_groups]
        known |= {f"{org}/{k}" for k in part if k not in part_hidden}
        for k, n in part.items():
            rest[k] = rest.get(k, 0) - n
    # what no organization holds (kit reports from areas no organization serves)
    values.update({f"-/{k}": n for k, n in rest.items()})
    groups += [(f"-/{t}", [f"-/{p}" for p in ps]) for t, ps in base_groups]
    groups += [(k, [*(f"{org}/{k}" for org in orgs), f"-/{k}"]) for k in base_keys]
    cells = suppression.linked(values, groups, published=set(PUBLIC_FIGURES), known=known)
    return {"figures": [{"code": code, "value": str(cells[code])} for code in PUBLIC_FIGURES]}


@dataclass
class PublicNaloxone:
    releases: list[Any]  # core.models.Release, oldest first
    rows: list[tuple[str, str, list[str]]]  # code, label, the value in each release

    @property
    def latest(self) -> Any:
        return self.releases[-1] if self.releases else None


def public_naloxone() -> PublicNaloxone:
    """The stored naloxone releases the public page serves (never computed live)."""
    from harbour.core import releases

    shown = releases.recent(NALOXONE_RELEASE, NALOXONE_SHOWN)
    values = [{f["code"]: f["value"] for f in r.data.get("figures", [])} for r in shown]
    labels = public_labels()
    return PublicNaloxone(
        releases=shown,
        rows=[(code, labels[code], [v.get(code, "") for v in values]) for code in PUBLIC_FIGURES],
    )


def csv_rows(presented: Presented) -> list[list[str]]:
    """``section, item, label, value`` rows (value "<5" where suppressed)."""
    rows = [["section", "item", "label", "value"]]
    rows += [["figures", f.code, f.label, str(f.cell)] for f in presented.headline]
    rows += [["supplies", f.code, f.label, str(f.cell)] for f in presented.supplies]
    rows.append(["supplies", "total", _("Total"), str(presented.supplies_total)])
    rows += [["naloxone-recipients", f.code, f.label, str(f.cell)] for f in presented.recipients]
    rows.append(["naloxone-recipients", "total", _("Total"), str(presented.recipients_total)])
    rows += [["outcomes", f.code, f.label, str(f.cell)] for f in presented.outcomes]
    rows.append(["outcomes", "total", _("Total"), str(presented.outcomes_total)])
    rows += [["services", f.code, f.label, str(f.cell)] for f in presented.services]
    for monday, encounters, people, naloxone in presented.weeks:
        rows.append(["week-encounters", monday.isoformat(), _("Encounters"), str(encounters)])
        rows.append(["week-people", monday.isoformat(), _("People engaged"), str(people)])
        rows.append(["week-naloxone", monday.isoformat(), _("Naloxone kits given"), str(naloxone)])
    return rows


# --- the surveillance dashboard's panel -------------------------------------------------------


def panel(actor: Any, organization: Any, first: date, last: date) -> Any:
    from django.urls import reverse

    from harbour.surveillance.selectors import Panel

    found = report(actor, organization=organization, first=first, last=last)
    if found.is_empty():
        return None
    link = reverse("outreach-staff:report", kwargs={"slug": organization.slug})
    return Panel(
        title=_("Outreach and naloxone"),
        figures=[
            (_("encounters"), str(found.encounters)),
            (_("people engaged"), str(found.people)),
            (_("naloxone kits given"), str(found.naloxone_given)),
            (_("reversals reported"), str(found.reversals)),
        ],
        link=f"{link}?first={first.isoformat()}&last={last.isoformat()}",
    )


def today() -> date:
    return timezone.localdate()
