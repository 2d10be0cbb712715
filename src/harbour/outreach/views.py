"""Outreach pages. Staff (``/org/<slug>/outreach/``): the street app (encounter and overdose
forms that work without JavaScript, and with it offline through the service worker), stock,
naloxone, refill requests, reports and settings. Public (``/naloxone/``): naloxone figures
through small-cell suppression and the anonymous "I used a kit" form."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from harbour.accounts.selectors import organization_for
from harbour.core import audit, csvsafe
from harbour.core.models import AuditAction
from harbour.core.permissions import role_in
from harbour.core.ratelimit import FormBudget, form_refund, form_wait, limited_response
from harbour.core.roles import Role, role_at_least
from harbour.outreach import charts, selectors, services
from harbour.outreach.forms import (
    ENCOUNTER_ALIASES,
    RESPONSE_ALIASES,
    CorrectForm,
    EncounterForm,
    KitsGiveForm,
    KitUseForm,
    PeriodForm,
    ProgramForm,
    ReceiptForm,
    ReferralSearchForm,
    RemoveForm,
    ResponseForm,
    SpotForm,
    TeamForm,
    TrainingForm,
    TransferForm,
    apply_errors,
    apply_result,
)
from harbour.outreach.models import Spot, Supply, Team

SHELL = ("outreach-staff:home", "outreach-staff:log", "outreach-staff:overdose")


def _role(request: HttpRequest, org: Any, minimum: str) -> bool:
    return role_at_least(role_in(request.user, org.pk), minimum)


def _team_choices(request: HttpRequest, org: Any) -> list[tuple[str, str]]:
    return [(str(t.pk), t.name) for t in selectors.teams(request.user, organization=org)]


def _spot_choices(request: HttpRequest, org: Any) -> list[tuple[str, str]]:
    return [
        (str(s.pk), f"{s.name} ({s.fsa})") for s in selectors.spots(request.user, organization=org)
    ]


def _app_context(request: HttpRequest, org: Any, active: str = "") -> dict[str, Any]:
    """What every page of the street app needs for the offline script."""
    return {
        "org": org,
        "active": active,
        "app": {
            "org": str(org.pk),
            "sync": reverse("api:outreach_sync", kwargs={"org_id": org.pk}),
            "status": reverse("outreach-staff:status", kwargs={"slug": org.slug}),
            "sw": reverse("outreach-staff:sw", kwargs={"slug": org.slug}),
            "scope": reverse("outreach-staff:home", kwargs={"slug": org.slug}),
            "login": reverse("account_login")
            + "?next="
            + reverse("outreach-staff:home", kwargs={"slug": org.slug}),
            "shell": [reverse(name, kwargs={"slug": org.slug}) for name in SHELL],
        },
        "manifest": reverse("outreach-staff:manifest", kwargs={"slug": org.slug})
        + f"?lang={_lang()}",
        "can_record": _role(request, org, Role.PEER_WORKER),
        "can_stock": _role(request, org, Role.OUTREACH_WORKER),
        "can_coordinate": _role(request, org, Role.COORDINATOR),
    }


def _lang() -> str:
    return "fr" if (get_language() or "en").startswith("fr") else "en"


def _no_teams(request: HttpRequest, org: Any) -> HttpResponse | None:
    if selectors.teams(request.user, organization=org).exists():
        return None
    return render(request, "outreach/no_teams.html", {**_app_context(request, org)})


# --- the street app ---------------------------------------------------------------------------


@login_required
@require_safe
def home(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    services.program_for(org)
    return render(
        request,
        "outreach/home.html",
        {
            **_app_context(request, org, "home"),
            "encounters": selectors.recent_encounters(request.user, organization=org, limit=10),
            "responses": selectors.recent_responses(request.user, organization=org, limit=5),
            "refills": selectors.refills(request.user, organization=org).count(),
            "has_teams": selectors.teams(request.user, organization=org).exists(),
        },
    )


def _initial_from_last(request: HttpRequest, org: Any, *, repeat: bool) -> dict[str, Any]:
    last = selectors.last_encounter(request.user, organization=org)
    if last is None:
        return {}
    initial: dict[str, Any] = {"team": str(last.team_id)}
    if last.spot_id:
        initial["spot"] = str(last.spot_id)
    else:
        initial["fsa"] = last.fsa
    if repeat:
        initial["people_new"] = last.people_new
        initial["people_returning"] = last.people_returning
        initial["services"] = last.service_list()
        for given in last.supplies.all():
            initial[f"supply-{given.supply}"] = given.quantity
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def log_encounter(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    if (page := _no_teams(request, org)) is not None:
        return page
    choices = {
        "teams": _team_choices(request, org),
        "spots": _spot_choices(request, org),
        "referrals": selectors.referral_choices(request.user, organization=org),
    }
    if request.method == "POST":
        form = EncounterForm(request.POST, **choices)
        if form.is_valid():
            result = services.encounters_record(
                actor=request.user, organization=org, records=[form.record()], via="form"
            )[0]
            if result.status != "rejected":
                messages.success(request, _("Encounter saved."))
                return redirect("outreach-staff:log", slug=org.slug)
            apply_result(form, result.errors, ENCOUNTER_ALIASES)
    else:
        form = EncounterForm(
            initial=_initial_from_last(request, org, repeat=request.GET.get("repeat") == "1"),
            **choices,
        )
    return render(request, "outreach/log.html", {**_app_context(request, org, "log"), "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def log_response(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    if (page := _no_teams(request, org)) is not None:
        return page
    choices = {"teams": _team_choices(request, org), "spots": _spot_choices(request, org)}
    if request.method == "POST":
        form = ResponseForm(request.POST, **choices)
        if form.is_valid():
            result = services.responses_record(
                actor=request.user, organization=org, records=[form.record()], via="form"
            )[0]
            if result.status != "rejected":
                messages.success(request, _("Overdose response saved. Take care of yourself too."))
                return redirect("outreach-staff:home", slug=org.slug)
            apply_result(form, result.errors, RESPONSE_ALIASES)
    else:
        initial = _initial_from_last(request, org, repeat=False)
        form = ResponseForm(
            initial={k: v for k, v in initial.items() if k in {"team", "spot", "fsa"}}, **choices
        )
    return render(
        request, "outreach/overdose.html", {**_app_context(request, org, "overdose"), "form": form}
    )


@require_safe
def status(request: HttpRequest, slug: str) -> JsonResponse:
    """For the offline script before it sends: who is signed in, and a CSRF token. 401 when
    the session has ended (the records stay on the device until the worker signs in)."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {
                "detail": _("Signed out: sign in again to send what is on this phone."),
                "code": "unauthenticated",
            },
            status=401,
        )
    try:
        org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    except (Http404, PermissionDenied):
        return JsonResponse(
            {
                "detail": _(
                    "This account cannot send to this organization any more. The records stay "
                    "on this phone: ask a coordinator."
                ),
                "code": "not_found",
            },
            status=404,
        )
    response = JsonResponse(
        {"user": str(request.user.pk), "organization": str(org.pk), "csrf": get_token(request)}
    )
    response["Cache-Control"] = "no-store"
    return response


def _version() -> str:
    names = [
        static("harbour/harbour.css"),
        static("outreach/outreach.js"),
        static("outreach/icon.svg"),
        static("harbour/quick-exit.js"),
        settings.LANGUAGE_CODE,
    ]
    from importlib import resources

    files = [
        resources.files("harbour.outreach").joinpath(name).read_bytes()
        for name in ("templates/outreach/sw.js", "static/outreach/outreach.js")
    ]
    files.append(resources.files("harbour").joinpath("static/harbour/harbour.css").read_bytes())
    return hashlib.sha256("|".join(names).encode() + b"".join(files)).hexdigest()[:12]


@require_safe
def service_worker(request: HttpRequest, slug: str) -> HttpResponse:
    """The street app's service worker, scoped to this organization's outreach pages. It holds
    no data: the pages it keeps for offline use are the empty forms."""
    shell = [reverse(name, kwargs={"slug": slug}) for name in SHELL]
    response = render(
        request,
        "outreach/sw.js",
        {
            "version": _version(),
            "shell": json.dumps(shell),
            "words": {
                "title": _("You are offline"),
                "offline": _("You are offline and this page was not saved on this phone."),
                "back": _("Log an encounter"),
                "exit": _("Quick exit"),
                "exit_help": _("Leave this site now. You can also press Escape twice."),
            },
            "assets": json.dumps(
                [
                    static("harbour/harbour.css"),
                    static("outreach/outreach.js"),
                    static("outreach/icon.svg"),
                    static("harbour/quick-exit.js"),
                ]
            ),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def manifest(request: HttpRequest, slug: str) -> JsonResponse:
    """Makes the street app installable (a home-screen icon that opens the encounter form)."""
    from django.utils import translation

    lang = "fr" if request.GET.get("lang") == "fr" else "en"
    with translation.override(lang):
        data = {
            "name": _("Harbour outreach"),
            "short_name": _("Outreach"),
            "description": _("Log encounters and overdose responses, even offline."),
            "lang": lang,
            "start_url": reverse("outreach-staff:log", kwargs={"slug": slug}),
            "scope": reverse("outreach-staff:home", kwargs={"slug": slug}),
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#14213d",
            "icons": [
                {"src": static("outreach/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("outreach/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": static("outreach/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@login_required
@require_safe
def records(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    return render(
        request,
        "outreach/records.html",
        {
            **_app_context(request, org, "home"),
            "can_remove": _role(request, org, Role.COORDINATOR),
            "encounters": selectors.recent_encounters(request.user, organization=org, limit=100),
            "responses": selectors.recent_responses(request.user, organization=org, limit=50),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_remove(request: HttpRequest, slug: str, kind: str, record_id: Any) -> HttpResponse:
    """A coordinator removes an encounter or overdose response entered in error."""
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    record = selectors.record_for(request.user, organization=org, kind=kind, record_id=record_id)
    form = RemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_remove(
                actor=request.user,
                organization=org,
                kind=kind,
                record_id=record.pk,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Removed. Its supplies are back in stock."))
            return redirect("outreach-staff:records", slug=org.slug)
    return render(
        request,
        "outreach/remove.html",
        {**_app_context(request, org, "home"), "record": record, "kind": kind, "form": form},
    )


# --- stock ------------------------------------------------------------------------------------


def _grouped(
    rows: list[selectors.StockRow],
) -> list[tuple[Team, list[selectors.StockRow], list[str]]]:
    """Per team: the supplies it holds or used lately, and the names of the others."""
    out: dict[Any, tuple[Team, list[selectors.StockRow], list[str]]] = {}
    for row in rows:
        _team, held, empty = out.setdefault(row.team.pk, (row.team, [], []))
        if row.on_hand or row.used or row.lots:
            held.append(row)
        else:
            empty.append(row.label)
    return list(out.values())


@login_required
@require_http_methods(["GET", "POST"])
def stock(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    program = services.program_for(org)
    teams = _team_choices(request, org)
    tracked = program.tracked_list()
    action = request.POST.get("action") if request.method == "POST" else None
    receipt = ReceiptForm(
        request.POST if action == "receipt" else None, teams=teams, tracked=tracked
    )
    transfer = TransferForm(
        request.POST if action == "transfer" else None, teams=teams, tracked=tracked
    )
    if action in {"receipt", "transfer"}:
        if not _role(request, org, Role.OUTREACH_WORKER):
            raise PermissionDenied
        form = receipt if action == "receipt" else transfer
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "receipt":
                    services.stock_receive(
                        actor=request.user,
                        team=get_object_or_404(Team, pk=data["team"], organization=org),
                        supply=data["supply"],
                        quantity=data["quantity"],
                        lot=data.get("lot") or "",
                        expires_on=data.get("expires_on"),
                        note=data.get("note") or "",
                    )
                    messages.success(request, _("Receipt recorded."))
                else:
                    services.stock_transfer(
                        actor=request.user,
                        from_team=get_object_or_404(Team, pk=data["from_team"], organization=org),
                        to_team=get_object_or_404(Team, pk=data["to_team"], organization=org),
                        supply=data["supply"],
                        quantity=data["quantity"],
                        note=data.get("note") or "",
                    )
                    messages.success(request, _("Transfer recorded."))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect("outreach-staff:stock", slug=org.slug)
    rows = selectors.stock_for(request.user, organization=org, today=timezone.localdate())
    return render(
        request,
        "outreach/stock.html",
        {
            **_app_context(request, org, "stock"),
            "program": program,
            "groups": _grouped(rows),
            "low": [r for r in rows if r.low],
            "expiring": [r for r in rows if any(x.expired or x.expiring for x in r.lots)],
            "rows_count": len(rows),
            "receipt": receipt,
            "transfer": transfer,
            "movements": selectors.movements(request.user, organization=org, limit=30)
            if _role(request, org, Role.OUTREACH_WORKER)
            else [],
            "has_teams": bool(teams),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def stock_correct(request: HttpRequest, slug: str, level_id: int) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    level = selectors.level_for(request.user, organization=org, level_id=level_id)
    form = CorrectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.stock_correct(
                actor=request.user,
                level=level,
                counted=data.get("counted"),
                thrown_away=data.get("thrown_away"),
                note=data.get("note") or "",
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Stock corrected."))
            return redirect("outreach-staff:stock", slug=org.slug)
    return render(
        request,
        "outreach/stock_correct.html",
        {
            **_app_context(request, org, "stock"),
            "level": level,
            "form": form,
            "label": Supply(level.supply).label,
        },
    )


# --- naloxone ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def naloxone(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    teams = _team_choices(request, org)
    action = request.POST.get("action") if request.method == "POST" else None
    kits = KitsGiveForm(request.POST if action == "kits" else None, teams=teams)
    training = TrainingForm(request.POST if action == "training" else None, teams=teams)
    form = kits if action == "kits" else training if action == "training" else None
    if form is not None and form.is_valid():
        data = form.cleaned_data
        team = get_object_or_404(Team, pk=data["team"], organization=org)
        try:
            if action == "kits":
                services.kits_give(
                    actor=request.user,
                    team=team,
                    supply=data["supply"],
                    quantity=data["quantity"],
                    recipient=data["recipient"],
                    trained=bool(data.get("trained")),
                    given_at=data.get("given_at"),
                )
                messages.success(request, _("Kits recorded."))
            else:
                services.training_record(
                    actor=request.user,
                    team=team,
                    held_on=data["held_on"],
                    people_trained=data["people_trained"],
                    audience=data["audience"],
                    kits_given=data.get("kits_given") or 0,
                    supply=data["supply"],
                )
                messages.success(request, _("Training session recorded."))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("outreach-staff:naloxone", slug=org.slug)
    today = timezone.localdate()
    figures = selectors.report(
        request.user, organization=org, first=today - timedelta(days=29), last=today
    )
    from harbour.outreach.models import TrainingSession

    return render(
        request,
        "outreach/naloxone.html",
        {
            **_app_context(request, org, "naloxone"),
            "kits": kits,
            "training": training,
            "figures": figures,
            "trainings": TrainingSession.objects.filter(organization=org).select_related("team")[
                :10
            ],
            "has_teams": bool(teams),
        },
    )


@login_required
@require_safe
def refills(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    return render(
        request,
        "outreach/refills.html",
        {
            **_app_context(request, org, "naloxone"),
            "routed": selectors.refills(request.user, organization=org),
            "unrouted": selectors.unrouted_refills(request.user)[:50],
        },
    )


@login_required
@require_POST
def refill_action(request: HttpRequest, slug: str, report_id: Any, action: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    if action not in {"take", "done", "spam"}:
        raise Http404
    report = selectors.kit_use_for(request.user, organization=org, report_id=report_id)
    try:
        if action == "take":
            services.refill_claim(actor=request.user, organization=org, report=report)
            messages.success(request, _("The request is now yours."))
        elif action == "done":
            services.refill_done(actor=request.user, report=report)
            messages.success(request, _("Marked done. Any contact detail was erased."))
        else:
            services.kit_use_exclude(actor=request.user, report=report)
            messages.success(request, _("Marked as spam: it no longer counts."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("outreach-staff:refills", slug=org.slug)


# --- reports ----------------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[PeriodForm, date, date, bool]:
    """The period asked for. The version to share goes outside the organization, so it is one
    whole calendar month that has ended (the month the period starts in, or the last one
    ended): two versions to share then never overlap, and cannot be subtracted."""
    today = timezone.localdate()
    first, last = today - timedelta(days=27), today
    form = PeriodForm(request.GET or None, initial={"first": first, "last": last})
    shared = False
    if request.GET and form.is_valid():
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        shared = bool(form.cleaned_data.get("shared"))
    if shared:
        first = min(first, today.replace(day=1) - timedelta(days=1)).replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return form, first, last, shared


@login_required
@require_safe
def report(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.VIEWER)
    form, first, last, shared = _period(request)
    found = selectors.report(request.user, organization=org, first=first, last=last)
    presented = selectors.present(found, shared=shared)
    query = request.GET.urlencode()
    return render(
        request,
        "outreach/report.html",
        {
            "org": org,
            "form": form,
            "first": first,
            "last": last,
            "shared": shared,
            "r": presented,
            "chart": charts.weekly(presented.weeks),
            "csv_query": query,
            "can_record": _role(request, org, Role.PEER_WORKER),
            "can_coordinate": _role(request, org, Role.COORDINATOR),
        },
    )


@login_required
@require_safe
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.VIEWER)
    _form, first, last, shared = _period(request)
    presented = selectors.present(
        selectors.report(request.user, organization=org, first=first, last=last), shared=shared
    )
    audit.record(
        action=AuditAction.OUTREACH_REPORT_EXPORT,
        actor=request.user,
        organization=org,
        metadata={"first": first.isoformat(), "last": last.isoformat(), "shared": shared},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    suffix = "-shared" if shared else ""
    name = f"outreach-{org.slug}-{first.isoformat()}-{last.isoformat()}{suffix}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csvsafe.writer(response)
    writer.writerows(selectors.csv_rows(presented))
    return response


# --- settings ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def program_settings(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    program = services.program_for(org)
    action = request.POST.get("action") if request.method == "POST" else None
    program_form = ProgramForm(
        request.POST if action == "program" else None,
        initial={
            "tracked": program.tracked_list(),
            "areas": " ".join(program.area_list()),
            "expiry_warning_days": program.expiry_warning_days,
            "cover_weeks": program.cover_weeks,
            "low_stock_weeks": program.low_stock_weeks,
        },
    )
    team_form = TeamForm(request.POST if action == "team" else None)
    spot_form = SpotForm(request.POST if action == "spot" else None)
    try:
        if action == "program" and program_form.is_valid():
            data = program_form.cleaned_data
            services.program_update(
                actor=request.user,
                organization=org,
                tracked=data["tracked"],
                areas=(data.get("areas") or "").replace(",", " ").split(),
                expiry_warning_days=data["expiry_warning_days"],
                cover_weeks=data["cover_weeks"],
                low_stock_weeks=data["low_stock_weeks"],
            )
            messages.success(request, _("Saved."))
            return redirect("outreach-staff:settings", slug=org.slug)
        if action == "team" and team_form.is_valid():
            services.team_save(actor=request.user, organization=org, **team_form.cleaned_data)
            messages.success(request, _("Team or site added."))
            return redirect("outreach-staff:settings", slug=org.slug)
        if action == "spot" and spot_form.is_valid():
            services.spot_save(actor=request.user, organization=org, **spot_form.cleaned_data)
            messages.success(request, _("Spot added."))
            return redirect("outreach-staff:settings", slug=org.slug)
        if action in {"team-toggle", "spot-toggle"}:
            if action == "team-toggle":
                team = get_object_or_404(Team, pk=request.POST.get("id"), organization=org)
                services.team_save(
                    actor=request.user,
                    organization=org,
                    team=team,
                    name=team.name,
                    kind=team.kind,
                    fsa=team.fsa,
                    active=not team.active,
                )
            else:
                spot = get_object_or_404(Spot, pk=request.POST.get("id"), organization=org)
                services.spot_save(
                    actor=request.user,
                    organization=org,
                    spot=spot,
                    name=spot.name,
                    fsa=spot.fsa,
                    active=not spot.active,
                )
            messages.success(request, _("Saved."))
            return redirect("outreach-staff:settings", slug=org.slug)
        if action in {"referral-add", "referral-remove"}:
            from harbour.directory.models import Service

            service = get_object_or_404(Service, pk=request.POST.get("id"))
            services.referral_choice_set(
                actor=request.user, organization=org, service=service, on=action == "referral-add"
            )
            messages.success(request, _("Saved."))
            return redirect("outreach-staff:settings", slug=org.slug)
    except ValidationError as exc:
        target = {"program": program_form, "team": team_form, "spot": spot_form}.get(action or "")
        if target is None:
            messages.error(request, " ".join(exc.messages))
        else:
            apply_errors(target, exc)
    search = ReferralSearchForm(request.GET or None)
    found: list[Any] = []
    if request.GET.get("q") and search.is_valid():
        found = _directory_matches(search.cleaned_data["q"])
    return render(
        request,
        "outreach/settings.html",
        {
            **_app_context(request, org, "settings"),
            "program_form": program_form,
            "team_form": team_form,
            "spot_form": spot_form,
            "search": search,
            "found": found,
            "teams": Team.objects.filter(organization=org),
            "spots": Spot.objects.filter(organization=org),
            "referrals": selectors.referral_choices(request.user, organization=org),
        },
    )


def _directory_matches(q: str) -> list[tuple[str, str]]:
    from harbour.directory import selectors as directory

    page = directory.search(directory.SearchQuery(q=q, per_page=20), now=timezone.now())
    seen: dict[str, str] = {}
    for hit in page.hits:
        service = hit.sal.service
        seen.setdefault(str(service.pk), str(service.name))
    return list(seen.items())


# --- public -----------------------------------------------------------------------------------


@require_safe
def public(request: HttpRequest) -> HttpResponse:
    """The stored releases of whole closed months, every organization together; never live."""
    return render(request, "outreach/public.html", {"naloxone": selectors.public_naloxone()})


# a drop-in centre's Wi-Fi is one address for many people (core.ratelimit.FormBudget); the
# report's id is new on every submission, so it is not part of "the same words"
KIT_USE_BUDGET = FormBudget("outreach-kit-use", per_connection=30, per_content=3, ignore=("id",))


@require_http_methods(["GET", "POST"])
def kit_used(request: HttpRequest) -> HttpResponse:
    """Anonymous: no account, no IP address kept (valid reports are counted as keyed hashes in
    the cache; past the budget the form comes back as typed with the real wait)."""
    form = KitUseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = form_wait(request, KIT_USE_BUDGET, form)
        if wait:
            return limited_response(render(request, "outreach/kit_used.html", {"form": form}), wait)
        data = form.cleaned_data
        refill = bool(data.get("want_refill"))
        if data.get("website"):  # a bot filled the hidden field: thank it, keep nothing
            return render(request, "outreach/kit_used_thanks.html", {"refill": refill})
        try:
            services.kit_use_report(
                report_id=data["id"],
                used_on=data["used_on"],
                fsa=data.get("fsa") or "",
                doses=data["doses"],
                outcome=data["outcome"],
                ems_came=data["ems_came"],
                kit_kind=data["kit_kind"],
                want_refill=refill,
                contact=data.get("contact") or "",
            )
        except ValidationError as exc:
            form_refund(request, KIT_USE_BUDGET, form)  # refused: it does not count
            apply_errors(form, exc)
        else:
            return render(request, "outreach/kit_used_thanks.html", {"refill": refill})
    return render(request, "outreach/kit_used.html", {"form": form})
