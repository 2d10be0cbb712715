"""Referral pages: the organization's queues, clients and consent, one referral with its
timeline, messages and notes, the service-gap report; and the public "ask them to contact me"
form on a listing. Thin: validate, call a service or a selector, render."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from harbour.accounts.models import Organization
from harbour.accounts.selectors import organization_for
from harbour.core import audit, csvsafe
from harbour.core.models import AuditAction
from harbour.core.permissions import role_in
from harbour.core.ratelimit import FormBudget, form_refund, form_wait, limited_response
from harbour.core.roles import Role, role_at_least
from harbour.referrals import charts, fhir, report, selectors, services
from harbour.referrals.forms import (
    ACTION_LABELS,
    LANGUAGE_NAMES,
    REASON_LABELS,
    ActionForm,
    ClientForm,
    ConsentForm,
    EraseClientForm,
    GapFilterForm,
    MessageForm,
    ReferralForm,
    RetentionForm,
    SelfReferralForm,
)
from harbour.referrals.lifecycle import REASON_REQUIRED, REASONS, Action, Side, Status, actions_for
from harbour.referrals.models import Client, Referral, ReferralStatus, SharedField
from harbour.referrals.report import COLUMNS
from harbour.referrals.selectors import STAFF

PAGE = 25


def _org(request: HttpRequest, slug: str, minimum: str = STAFF) -> Organization:
    return organization_for(request.user, slug=slug, minimum=minimum)


def _page(request: HttpRequest, template: str, org: Organization, **context: Any) -> HttpResponse:
    """Render a staff page; the sub-navigation shows the gap report to coordinators."""
    return render(
        request,
        template,
        {"org": org, "can_report": role_at_least_coordinator(request.user, org), **context},
    )


def _next_referral_form(org: Organization, raw: str, client: Any = None) -> str:
    """A ``next`` link back to this organization's new-referral form, with the client chosen."""
    prefix = reverse("referrals-staff:new", args=[org.slug])
    if not raw.startswith(prefix):
        return ""
    if client is None:
        return raw
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(raw)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "client"]
    query.append(("client", str(client.pk)))
    return f"{parts.path}?{urlencode(query)}"


def _errors_to_form(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


# --- queues -------------------------------------------------------------------------------


@login_required
@require_safe
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    box = "outbound" if request.GET.get("box") == "outbound" else "inbound"
    group = request.GET.get("status", "open")
    if group not in selectors.STATUS_GROUPS:
        group = "open"
    rows = selectors.queue(request.user, organization=org, box=box, group=group)
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    from harbour.referrals import business

    labels = {value: str(label) for value, label in ReferralStatus.choices}
    items = []
    for r in page.object_list:
        waiting, text = None, ""
        if r.status == ReferralStatus.SENT and r.sent_at:
            province = r.receiver.province or ""
            waiting = business.business_days_between(
                r.sent_at, now, zone=business.zone_for(province), province=province, limit=99
            )
            text = ngettext(
                "waiting %(days)s business day", "waiting %(days)s business days", waiting
            ) % {"days": waiting}
        items.append(
            {
                "r": r,
                "status": labels.get(r.status, r.status),
                "waiting": waiting,
                "waiting_text": text,
                "overdue": r.reminders_sent > 0,
            }
        )
    groups = [
        ("open", pgettext("referral", "Open")),
        ("waiting", pgettext("referral", "Not yet acknowledged")),
        ("drafts", pgettext("referral", "Drafts")),
        ("closed", pgettext("referral", "Closed")),
        ("all", pgettext("referral", "All")),
    ]
    if box == "inbound":
        groups = [g for g in groups if g[0] != "drafts"]
    return _page(
        request,
        "referrals/staff/queue.html",
        org,
        box=box,
        group=group,
        groups=groups,
        page=page,
        items=items,
    )


def role_at_least_coordinator(actor: Any, org: Organization) -> bool:
    from harbour.core.permissions import role_in
    from harbour.core.roles import role_at_least

    return role_at_least(role_in(actor, org.pk), Role.COORDINATOR)


# --- clients ------------------------------------------------------------------------------


def _client_data(form: ClientForm) -> services.ClientData:
    data = form.cleaned_data
    return services.ClientData(
        alias=data["alias"],
        contact_method=data["contact_method"],
        phone=data.get("phone") or "",
        email=data.get("email") or "",
        contact_notes=data.get("contact_notes") or "",
        language=data["language"],
        birth_year=data.get("birth_year"),
    )


@login_required
@require_safe
def clients(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    rows = selectors.clients_of(request.user, organization=org)
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    return _page(
        request,
        "referrals/staff/clients.html",
        org,
        page=page,
        retention_days=services.retention_days_of(org.pk),
        can_set_retention=role_at_least(role_in(request.user, org.pk), Role.ORG_ADMIN),
    )


@login_required
@require_http_methods(["GET", "POST"])
def retention(request: HttpRequest, slug: str) -> HttpResponse:
    """Org admins choose how long their clients' details are kept."""
    org = _org(request, slug, minimum=Role.ORG_ADMIN)
    form = RetentionForm(
        request.POST or None, initial={"retention_days": services.retention_days_of(org.pk)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_set(
                actor=request.user,
                organization=org,
                retention_days=form.cleaned_data["retention_days"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("referrals-staff:clients", slug=org.slug)
    return _page(request, "referrals/staff/retention.html", org, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def client_new(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    form = ClientForm(request.POST or None)
    duplicates: list[Client] = []
    if request.method == "POST" and form.is_valid():
        data = _client_data(form)
        duplicates = services.possible_duplicates(actor=request.user, organization=org, data=data)
        if duplicates and not form.cleaned_data.get("confirm_new"):
            form.add_error(
                None,
                _(
                    "Your organization may already have this person (below). Open their "
                    "record, or tick “This is a different person” to record them anyway."
                ),
            )
        else:
            try:
                client = services.client_create(actor=request.user, organization=org, data=data)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Client recorded. Record their consent next."))
                target = reverse("referrals-staff:client", args=[org.slug, client.pk])
                after = _next_referral_form(org, request.GET.get("next", ""), client)
                if after:
                    target += "?" + urlencode({"next": after})
                return redirect(target)
    if not duplicates:
        del form.fields["confirm_new"]
    return _page(
        request,
        "referrals/staff/client_form.html",
        org,
        form=form,
        duplicates=duplicates,
        editing=None,
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, slug: str, client_id: Any) -> HttpResponse:
    org = _org(request, slug)
    client = selectors.client_for(request.user, organization=org, client_id=client_id)
    initial = {
        "alias": client.alias,
        "contact_method": client.contact_method,
        "phone": client.phone,
        "email": client.email,
        "contact_notes": client.contact_notes,
        "language": client.language,
        "birth_year": client.birth_year or None,
    }
    form = ClientForm(request.POST or None, initial=initial)
    del form.fields["confirm_new"]
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(actor=request.user, client=client, data=_client_data(form))
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("referrals-staff:client", slug=org.slug, client_id=client.pk)
    return _page(
        request,
        "referrals/staff/client_form.html",
        org,
        form=form,
        duplicates=[],
        editing=client,
    )


@login_required
@require_safe
def client_detail(request: HttpRequest, slug: str, client_id: Any) -> HttpResponse:
    org = _org(request, slug)
    client = selectors.client_for(request.user, organization=org, client_id=client_id)
    now = timezone.now()
    consents = [
        {
            "c": c,
            "live": c.revoked_at is None and c.valid_until > now,
            "fields": [SharedField(f).label for f in c.fields if f in SharedField.values],
        }
        for c in selectors.consents_of(client)
    ]
    referrals = client.referrals.select_related("receiver").order_by("-created_at")
    return _page(
        request,
        "referrals/staff/client.html",
        org,
        client=client,
        erase_form=EraseClientForm() if role_at_least_coordinator(request.user, org) else None,
        retention_days=services.retention_days_of(org.pk),
        language=LANGUAGE_NAMES.get(client.language, client.language),
        consents=consents,
        referrals=referrals,
        next=_next_referral_form(org, request.GET.get("next", "")),
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, slug: str, client_id: Any) -> HttpResponse:
    org = _org(request, slug)
    client = selectors.client_for(request.user, organization=org, client_id=client_id)
    partners = selectors.receiving_organizations(request.user, exclude=org)
    initial: dict[str, Any] = {}
    to = request.GET.get("to", "")
    if _uuid(to):
        initial["organizations"] = list(partners.filter(pk=to).values_list("pk", flat=True))
    form = ConsentForm(request.POST or None, organizations=partners, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                actor=request.user,
                client=client,
                organizations=list(data["organizations"]),
                fields=data["shared"],
                purpose=data["purpose"],
                method=data["method"],
                valid_until=form.valid_until(),
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Consent recorded."))
            after = _next_referral_form(org, request.GET.get("next", ""), client)
            if after:
                return redirect(after)
            return redirect("referrals-staff:client", slug=org.slug, client_id=client.pk)
    return _page(request, "referrals/staff/consent_form.html", org, client=client, form=form)


def _uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@login_required
@require_POST
def consent_revoke(
    request: HttpRequest, slug: str, client_id: Any, consent_id: Any
) -> HttpResponse:
    org = _org(request, slug)
    client = selectors.client_for(request.user, organization=org, client_id=client_id)
    consent = client.consents.filter(pk=consent_id).first()
    if consent is None:
        raise Http404
    try:
        services.consent_revoke(actor=request.user, consent=consent)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Consent revoked. Those organizations no longer see this person’s details.")
        )
    return redirect("referrals-staff:client", slug=org.slug, client_id=client.pk)


@login_required
@require_POST
def client_erase(request: HttpRequest, slug: str, client_id: Any) -> HttpResponse:
    """ "Erase this client now" (coordinators), with a reason code."""
    org = _org(request, slug, minimum=Role.COORDINATOR)
    client = selectors.client_for(request.user, organization=org, client_id=client_id)
    form = EraseClientForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why, and confirm: nothing was erased."))
    else:
        try:
            services.client_erase(
                actor=request.user, client=client, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Erased: this client’s details, what their referrals said, their messages."),
            )
    return redirect("referrals-staff:client", slug=org.slug, client_id=client.pk)


# --- making a referral --------------------------------------------------------------------


def _service_or_none(service_id: str) -> Any:
    from harbour.directory.models import Service, ServiceStatus

    if not service_id or not _uuid(service_id):
        return None
    return (
        Service.objects.exclude(status=ServiceStatus.DEFUNCT)
        .select_related("organization")
        .filter(pk=service_id)
        .first()
    )


@login_required
@require_safe
def refer_from_listing(request: HttpRequest) -> HttpResponse:
    """The directory's "Refer someone": into the referring organization's form (asking which
    one when the person works for several)."""
    service = _service_or_none(request.GET.get("service", ""))
    if service is None:
        raise Http404
    mine = [o for o in services.acting_organizations(request.user)]
    owner = service.organization.owner_id
    choices = [o for o in mine if o.pk != owner]
    if not choices:
        raise PermissionDenied
    if len(choices) == 1:
        target = reverse("referrals-staff:new", args=[choices[0].slug])
        return redirect(f"{target}?service={service.pk}")
    return render(
        request, "referrals/refer_choose.html", {"service": service, "organizations": choices}
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    source = request.POST if request.method == "POST" else request.GET
    service = _service_or_none(source.get("service", ""))
    if source.get("service") and service is None:
        raise Http404
    own_clients = selectors.clients_of(request.user, organization=org)[:200]
    client_choices = [(str(c.pk), f"{c.alias} ({c.reference})") for c in own_clients]
    labels = selectors.service_type_labels()
    form = ReferralForm(
        request.POST or None,
        initial={"client": request.GET.get("client", "")},
        clients=client_choices,
        receivers=selectors.receiving_organizations(request.user, exclude=org),
        service_types=sorted(labels.items(), key=lambda kv: kv[1]),
        with_service=service is not None,
    )
    receiver = services._receiver_of(service) if service is not None else None
    refusal = services._service_refusal(service) if service is not None else None
    consent_link = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        client = (
            selectors.clients_of(request.user, organization=org).filter(pk=data["client"]).first()
        )
        if client is None:
            form.add_error("client", _("Choose one of your clients."))
        else:
            send = "send" in request.POST
            try:
                referral = services.referral_create(
                    actor=request.user,
                    client=client,
                    receiver=None if service is not None else data.get("receiver"),
                    service=service,
                    needs=data.get("needs") or "",
                    priority=data["priority"],
                    service_type=data.get("service_type") or "",
                    send=send,
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
                target = receiver or data.get("receiver")
                if getattr(exc, "code", None) == "no_consent" and target is not None:
                    back = reverse("referrals-staff:new", args=[org.slug])
                    if service is not None:
                        back += "?" + urlencode({"service": str(service.pk)})
                    consent_link = (
                        reverse("referrals-staff:consent", args=[org.slug, client.pk])
                        + "?"
                        + urlencode({"to": str(target.pk), "next": back})
                    )
            else:
                messages.success(
                    request,
                    _("Referral sent to %(org)s.") % {"org": referral.receiver.name}
                    if send
                    else _("Draft saved. Send it when it is ready."),
                )
                return redirect("referrals-staff:detail", slug=org.slug, referral_id=referral.pk)
    return _page(
        request,
        "referrals/staff/referral_form.html",
        org,
        form=form,
        service=service,
        receiver=receiver,
        refusal=refusal,
        consent_link=consent_link,
        has_clients=bool(client_choices),
    )


# --- one referral -------------------------------------------------------------------------


def _action_choices(referral: Referral, side: Side) -> list[dict[str, Any]]:
    found = actions_for(
        Status(referral.status),
        side,
        held_from=Status(referral.held_from) if referral.held_from else None,
    )
    return [
        {
            "action": a.value,
            "label": ACTION_LABELS[a],
            "reasons": [(code, REASON_LABELS[code]) for code in REASONS.get(a, ())],
            "reason_required": a in REASON_REQUIRED,
            "danger": a in {Action.DECLINE, Action.WITHDRAW, Action.ENTERED_IN_ERROR,
                            Action.CANCEL, Action.DISCARD, Action.UNSUCCESSFUL},
            "primary": a in {Action.SEND, Action.ACCEPT, Action.START, Action.COMPLETE,
                             Action.RECEIVE, Action.RESUME},
        }
        for a in found
    ]  # fmt: skip


@login_required
@require_safe
def referral_detail(request: HttpRequest, slug: str, referral_id: Any) -> HttpResponse:
    org = _org(request, slug)
    referral = selectors.referral_for(request.user, referral_id=referral_id, organization=org)
    side = selectors.side_of(request.user, referral, org)
    if side is None:
        raise Http404
    view = selectors.client_view(request.user, referral=referral, organization=org)
    thread = list(selectors.messages_for(request.user, referral=referral, organization=org))
    actions = _action_choices(referral, side)
    return _page(
        request,
        "referrals/staff/referral.html",
        org,
        **{
            "referral": referral,
            "side": side.value,
            "view": view,
            "language": LANGUAGE_NAMES.get(view.language or "", view.language),
            "timeline": selectors.timeline(referral),
            "shared_messages": [m for m in thread if not m.internal],
            "notes": [m for m in thread if m.internal],
            "actions": actions,
            "simple_actions": [
                a for a in actions if not a["reasons"] and a["action"] != "redirect"
            ],
            "reason_actions": [a for a in actions if a["reasons"] and a["action"] != "redirect"],
            "can_redirect": any(a["action"] == "redirect" for a in actions),
            "redirect_reasons": [(c, REASON_LABELS[c]) for c in REASONS[Action.REDIRECT]],
            "partners": selectors.receiving_organizations(request.user, exclude=org).exclude(
                pk=referral.sender_id
            ),
            "children": selectors.children_of(referral),
            "reason_labels": REASON_LABELS,
            "action_labels": ACTION_LABELS,
            "message_form": MessageForm(),
            "can_message": referral.status != ReferralStatus.DRAFT and referral.sender_id,
        },
    )


@login_required
@require_POST
def referral_act(request: HttpRequest, slug: str, referral_id: Any) -> HttpResponse:
    org = _org(request, slug)
    referral = selectors.referral_for(request.user, referral_id=referral_id, organization=org)
    form = ActionForm(request.POST)
    back = redirect("referrals-staff:detail", slug=org.slug, referral_id=referral.pk)
    if not form.is_valid():
        messages.error(request, _("That could not be done: the form was incomplete."))
        return back
    data = form.cleaned_data
    try:
        updated = services.referral_transition(
            actor=request.user,
            referral=referral,
            action=data["action"],
            reason_code=data.get("reason_code") or "",
            note=data.get("note") or "",
            expected_version=data["version"],
            organization=org,
            redirect_to=data.get("redirect_to"),
        )
    except services.Conflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Done: the referral is now “%(status)s”.")
            % {"status": services.status_label(updated.status)},
        )
    return back


@login_required
@require_POST
def referral_message(request: HttpRequest, slug: str, referral_id: Any) -> HttpResponse:
    org = _org(request, slug)
    referral = selectors.referral_for(request.user, referral_id=referral_id, organization=org)
    form = MessageForm(request.POST)
    internal = request.POST.get("internal") in {"1", "on", "true", "True"}
    anchor = "#notes" if internal else "#messages"
    if form.is_valid():
        try:
            services.message_post(
                actor=request.user,
                referral=referral,
                body=form.cleaned_data["body"],
                internal=internal,
                organization=org,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("Note saved.") if internal else _("Message sent to both organizations.")
            )
    else:
        messages.error(request, _("Write something first."))
    target = reverse("referrals-staff:detail", args=[org.slug, referral.pk])
    return redirect(target + anchor)


@login_required
@require_safe
def referral_fhir(request: HttpRequest, slug: str, referral_id: Any) -> HttpResponse:
    org = _org(request, slug)
    referral = selectors.referral_for(request.user, referral_id=referral_id, organization=org)
    view = selectors.client_view(request.user, referral=referral, organization=org, purpose="fhir")
    bundle = fhir.export(referral, view)
    audit.record(
        action=AuditAction.REFERRAL_EXPORT,
        actor=request.user,
        organization=org,
        obj=referral,
        metadata={"fields": sorted(view.fields)},
    )
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2), content_type="application/fhir+json"
    )
    response["Content-Disposition"] = f'attachment; filename="{referral.reference}.fhir.json"'
    return response


# --- the service-gap report ---------------------------------------------------------------


@login_required
@require_safe
def gaps(request: HttpRequest, slug: str) -> HttpResponse:
    """The report as released: a quarter or one of its months, of the last four quarterly
    releases, as stored; never computed when the page is asked."""
    org = _org(request, slug, minimum=Role.COORDINATOR)
    offered = selectors.gap_releases(request.user)
    periods = [
        (f"{r.period_end:%Y-%m-%d}/{key}", label)
        for r in offered
        for key, label in gap_periods(r.data)
    ]
    form = GapFilterForm(request.GET or None, periods=periods)
    chosen = form.cleaned_data.get("period") if form.is_valid() else ""
    period = chosen or (periods[0][0] if periods else "")
    end, _sep, key = period.partition("/")
    release = next((r for r in offered if f"{r.period_end:%Y-%m-%d}" == end), None)
    built = report.from_data(release.data["reports"][key]) if release else None
    labels = selectors.service_type_labels()
    if release and built and request.GET.get("format") == "csv":
        return _gaps_csv(built, labels, period.replace("/", "-"))
    column_labels = {
        "completed": pgettext("referral", "Completed: got help"),
        "no_capacity": pgettext("referral", "Declined: no capacity"),
        "declined_other": pgettext("referral", "Declined: other reasons"),
        "open": pgettext("referral", "Still open"),
        "other": pgettext("referral", "Other endings"),
    }
    return _page(
        request,
        "referrals/staff/gaps.html",
        org,
        **{
            "form": form,
            "release": release,
            "release_period": gap_period_label(release.period_start, release.period_end)
            if release
            else "",
            "report": built,
            "labels": labels,
            "columns": [(c, column_labels[c]) for c in COLUMNS],
            "chart": charts.gaps(built, labels) if built else "",
            "period": period,
            "period_label": dict(periods).get(period, ""),
        },
    )


def gap_period_label(start: date, end: date) -> str:
    """ "November 2025 – October 2026": the whole months in [start, end)."""
    first = date_format(start, "YEAR_MONTH_FORMAT")
    last = date_format(end - timedelta(days=1), "YEAR_MONTH_FORMAT")
    return first if first == last else f"{first} – {last}"


def gap_periods(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The periods a release offers: the whole of it (a quarter), then its months."""
    out = []
    for p in data["periods"]:
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
        if p["key"] == report.TOTAL:
            label = _("%(period)s (the quarter)") % {"period": gap_period_label(start, end)}
        else:
            label = gap_period_label(start, end)
        out.append((p["key"], label))
    return out


def _gaps_csv(built: Any, labels: dict[str, str], name: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="service-gaps-{name}.csv"'
    writer = csvsafe.writer(response)
    writer.writerow(
        ["table", "service_type", "service_type_name", "area", "referrals", *COLUMNS,
         "completion_rate", "median_hours_to_accept"]
    )  # fmt: skip
    for line in built.lines:
        writer.writerow(
            [
                "outcomes",
                line.service_type,
                labels.get(line.service_type, ""),
                "",
                str(line.total),
                *[str(c) for c in line.cells],
                "" if line.completion is None else f"{line.completion:.2f}",
                "" if line.accept_hours is None else line.accept_hours,
            ]
        )
    writer.writerow(
        ["outcomes", "*", "", "", str(built.total), *[str(c) for c in built.column_totals],
         "" if built.completion is None else f"{built.completion:.2f}",
         "" if built.accept_hours is None else built.accept_hours]
    )  # fmt: skip
    for unmet in built.unmet:
        for area, cell in unmet.areas:
            writer.writerow(
                ["no_capacity_by_area", unmet.service_type, labels.get(unmet.service_type, ""),
                 area, str(cell), "", "", "", "", "", "", ""]
            )  # fmt: skip
    return response


# --- the public "ask them to contact me" --------------------------------------------------


# a drop-in centre's Wi-Fi is one address for many people (core.ratelimit.FormBudget)
CONTACT_ME_BUDGET = FormBudget("referrals-self", per_connection=30, per_content=3)


@require_http_methods(["GET", "POST"])
def contact_me(request: HttpRequest, service_id: Any) -> HttpResponse:
    """No account; valid requests are counted (30 an hour per address, 3 of the same words
    from anywhere: keyed hashes in the cache, never stored), and past that the form comes back
    as typed with the real wait; a hidden field only bots fill; the contact details are
    encrypted."""
    service = _service_or_none(str(service_id))
    if service is None:
        raise Http404
    receiver = services._receiver_of(service)
    if receiver is None or not receiver.is_active:
        raise Http404
    lang = "fr" if (get_language() or "en").startswith("fr") else "en"
    form = SelfReferralForm(request.POST or None, initial={"language": lang})
    refusal = services._service_refusal(service)
    if request.method == "POST" and form.is_valid() and not refusal:
        wait = form_wait(request, CONTACT_ME_BUDGET, form)
        if wait:
            return limited_response(
                render(
                    request,
                    "referrals/contact_me.html",
                    {"service": service, "org": receiver, "form": form, "refusal": refusal},
                ),
                wait,
            )
        data = form.cleaned_data
        if data.get("website"):  # a bot filled the hidden field: thank it, keep nothing
            return render(
                request, "referrals/contact_me_sent.html", {"service": service, "org": receiver}
            )
        try:
            services.self_referral_create(
                service=service,
                alias=data["alias"],
                contact_method=data["contact_method"],
                phone=data.get("phone") or "",
                email=data.get("email") or "",
                best_time=data.get("best_time") or "",
                language=data["language"],
                needs=data.get("needs") or "",
            )
        except ValidationError as exc:
            form_refund(request, CONTACT_ME_BUDGET, form)  # refused: it does not count
            _errors_to_form(form, exc)
        else:
            return render(
                request,
                "referrals/contact_me_sent.html",
                {"service": service, "org": receiver, "method": data["contact_method"]},
            )
    return render(
        request,
        "referrals/contact_me.html",
        {"service": service, "org": receiver, "form": form, "refusal": refusal},
    )
