"""Public alert pages and feeds; subscriptions; staff drafting and approval."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from harbour.accounts.selectors import organization_for
from harbour.alerts import cap, selectors, services
from harbour.alerts.forms import AlertForm, ReportAreasForm, ReportForm, SubscribeForm
from harbour.alerts.models import Alert, AlertPolicy, AlertStatus, tr
from harbour.core.permissions import role_in
from harbour.core.ratelimit import FormBudget, form_wait, limited_response, ratelimit
from harbour.core.roles import Role, role_at_least
from harbour.core.views import absolute_url


@require_safe
def alert_list(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/list.html", {"alerts": selectors.current()[:50]})


def _public_or_404(alert_id: Any) -> Alert:
    alert = selectors.public(alert_id)
    if alert is None:
        raise Http404
    return alert


@require_safe
def alert_detail(request: HttpRequest, alert_id: Any) -> HttpResponse:
    return render(request, "alerts/detail.html", {"alert": _public_or_404(alert_id)})


@require_safe
def alert_photo(request: HttpRequest, alert_id: Any) -> HttpResponse:
    """A published alert's photo for anyone; a draft's for its organization's staff."""
    alert = selectors.photo_of(alert_id, actor=request.user)
    if alert is None:
        raise Http404
    response = HttpResponse(bytes(alert.photo or b""), content_type=alert.photo_type)
    response["Cache-Control"] = (
        "private, no-store" if alert.status == "draft" else "public, max-age=3600"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def alert_cap(request: HttpRequest, alert_id: Any) -> HttpResponse:
    return HttpResponse(
        cap.cap_xml(_public_or_404(alert_id)), content_type="application/cap+xml; charset=utf-8"
    )


def _feed(request: HttpRequest, kind: type[Rss201rev2Feed] | type[Atom1Feed]) -> HttpResponse:
    lang = "fr" if (get_language() or "en").startswith("fr") else "en"
    feed = kind(
        title=_("Harbour drug alerts"),
        link=absolute_url("alerts:list"),
        description=_("Reviewed alerts about the toxic drug supply."),
        language=f"{lang}-CA",
    )
    for alert in selectors.current()[:50]:
        feed.add_item(
            title=str(alert.title),
            link=absolute_url("alerts:detail", alert_id=alert.pk),
            description=str(alert.body),
            unique_id=f"urn:uuid:{alert.identifier}",
            pubdate=alert.published_at,
            updateddate=alert.updated_at,
        )
    return HttpResponse(feed.writeString("utf-8"), content_type=f"{feed.content_type}")


@require_safe
def feed_rss(request: HttpRequest) -> HttpResponse:
    return _feed(request, Rss201rev2Feed)


@require_safe
def feed_atom(request: HttpRequest) -> HttpResponse:
    return _feed(request, Atom1Feed)


@require_safe
def feed_json(request: HttpRequest) -> JsonResponse:
    items = [
        {
            "id": str(alert.identifier),
            "title_en": tr(alert, "title", "en"),
            "title_fr": tr(alert, "title", "fr"),
            "body_en": tr(alert, "body", "en"),
            "body_fr": tr(alert, "body", "fr"),
            "severity": alert.severity,
            "areas": alert.area_list,
            "area_description": tr(alert, "area_description", "en"),
            "substances": [s.code for s in alert.substances.all()],
            "published_at": alert.published_at.isoformat() if alert.published_at else None,
            "valid_until": alert.valid_until.isoformat(),
            "url": absolute_url("alerts:detail", alert_id=alert.pk),
            "cap_url": absolute_url("alerts:cap", alert_id=alert.pk),
        }
        for alert in selectors.current()[:50]
    ]
    return JsonResponse({"alerts": items}, json_dumps_params={"ensure_ascii": False})


# a drop-in centre's Wi-Fi is one address for many people (core.ratelimit.FormBudget)
SUBSCRIBE_BUDGET = FormBudget("alerts-subscribe", per_connection=30, per_content=3)
REPORT_BUDGET = FormBudget("alerts-report", per_connection=30, per_content=3)


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    lang = "fr" if (get_language() or "en").startswith("fr") else "en"
    form = SubscribeForm(request.POST or None, initial={"lang": lang})
    if request.method == "POST" and form.is_valid():
        wait = form_wait(request, SUBSCRIBE_BUDGET, form)
        if wait:
            context = {"form": form, "vapid_public_key": settings.VAPID_PUBLIC_KEY}
            return limited_response(render(request, "alerts/subscribe.html", context), wait)
        services.subscribe_email(
            email=form.cleaned_data["email"],
            areas=form.cleaned_data["areas"],
            lang=form.cleaned_data["lang"],
        )
        return render(request, "alerts/subscribe_sent.html")
    return render(
        request,
        "alerts/subscribe.html",
        {"form": form, "vapid_public_key": settings.VAPID_PUBLIC_KEY},
    )


@require_safe
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscription = services.confirm_email(token)
    return render(request, "alerts/confirmed.html", {"ok": subscription is not None})


@csrf_exempt  # the signed token in the address is the authority; mail clients post no form
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links); POST, or a mail client's one-click
    (``List-Unsubscribe-Post``, RFC 8058), ends it."""
    if request.method == "POST":
        done = services.unsubscribe(token)
        return render(request, "alerts/unsubscribed.html", {"ok": done})
    return render(request, "alerts/unsubscribe.html", {"token": token})


# --- staff ------------------------------------------------------------------------------------


def _can_approve(user: Any, alert: Alert) -> bool:
    """Whether ``user`` may approve ``alert``: a coordinator who did not write it."""
    if alert.created_by_id is not None and alert.created_by_id == getattr(user, "pk", None):
        return False
    return role_at_least(role_in(user, alert.organization_id) or "", Role.COORDINATOR)


def _staff_alert(request: HttpRequest, slug: str, alert_id: Any) -> tuple[Any, Alert]:
    org = organization_for(request.user, slug=slug, minimum=Role.OUTREACH_WORKER)
    alert = selectors.staff_alerts(request.user, organization=org).filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    return org, alert


@login_required
@require_http_methods(["GET", "POST"])
def staff_alerts(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.OUTREACH_WORKER)
    form = AlertForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                alert = services.alert_draft(actor=request.user, organization=org, **form.texts())
                if data.get("photo"):
                    services.alert_photo_set(
                        alert=alert, actor=request.user, data=data["photo"].data,
                        alt_en=data["photo_alt_en"], alt_fr=data.get("photo_alt_fr") or "",
                    )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("Draft saved. Look at how it will be sent, then submit it.")
            )
            return redirect("alerts-staff:review", slug=org.slug, alert_id=alert.pk)
    alerts = list(
        selectors.staff_alerts(request.user, organization=org).exclude(
            status=AlertStatus.DISCARDED
        )[:50]
    )
    return render(
        request,
        "alerts/staff/list.html",
        {
            "org": org,
            "form": form,
            "alerts": [(alert, _can_approve(request.user, alert)) for alert in alerts],
            "second_approval": services.second_approval(org),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, slug: str, alert_id: Any) -> HttpResponse:
    """Change a draft: every public text in English and French, severity, areas, how long."""
    org, alert = _staff_alert(request, slug, alert_id)
    if alert.status != AlertStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("alerts-staff:review", slug=org.slug, alert_id=alert.pk)
    initial = AlertForm.initial_from(alert)
    form = AlertForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        texts = form.texts()
        if form.cleaned_data["valid_days"] == initial["valid_days"]:
            texts["valid_until"] = alert.valid_until  # unchanged: keep the very same end
        try:
            services.alert_edit(alert=alert, actor=request.user, **texts)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("alerts-staff:review", slug=org.slug, alert_id=alert.pk)
    return render(
        request,
        "alerts/staff/edit.html",
        {"org": org, "alert": alert, "form": form},
        status=400 if form.errors else 200,
    )


def _both(alert: Alert) -> list[dict[str, Any]]:
    """The alert's public texts and messages in English and in French, side by side."""
    out = []
    for lang, name in (("en", _("English")), ("fr", _("French"))):
        missing = [
            label
            for field, label in (
                ("title", _("title")),
                ("body", _("what people should know")),
                ("appearance", _("what it looks like")),
                ("area_description", _("area")),
            )
            if lang == "fr" and getattr(alert, f"{field}_en") and not getattr(alert, f"{field}_fr")
        ]
        out.append(
            {
                "lang": lang,
                "name": name,
                "title": tr(alert, "title", lang),
                "body": tr(alert, "body", lang),
                "appearance": tr(alert, "appearance", lang),
                "area": tr(alert, "area_description", lang),
                "missing": missing,
                "preview": services.preview(alert, lang),
            }
        )
    return out


@login_required
@require_safe
def staff_review(request: HttpRequest, slug: str, alert_id: Any) -> HttpResponse:
    """One alert as it will go out: both languages, each channel's message (the text message's
    length, parts and encoding), and how many people it will reach."""
    org, alert = _staff_alert(request, slug, alert_id)
    return render(
        request,
        "alerts/staff/review.html",
        {
            "org": org,
            "alert": alert,
            "languages": _both(alert),
            "reach": services.reach(alert),
            "can_approve": _can_approve(request.user, alert),
            "is_coordinator": role_at_least(role_in(request.user, org.pk) or "", Role.COORDINATOR),
            "second_approval": services.second_approval(org),
        },
    )


# actions that send to people (or stop sending): a confirmation step first, with the count
CONFIRM = {"approve", "withdraw", "publish"}


@login_required
@require_POST
def staff_action(request: HttpRequest, slug: str, alert_id: Any, action: str) -> HttpResponse:
    org, alert = _staff_alert(request, slug, alert_id)
    handlers = {
        "submit": services.alert_submit,
        "publish": services.alert_submit,  # without a second person: publishes at once
        "approve": services.alert_approve,
        "withdraw": services.alert_withdraw,
        "discard": services.alert_discard,
        "to-draft": services.alert_to_draft,
    }
    if action not in handlers:
        raise Http404
    if action in CONFIRM and request.POST.get("confirm") != "yes":
        if action == "approve" and not _can_approve(request.user, alert):
            messages.error(request, _("A second person must approve an alert you wrote."))
            return redirect("alerts-staff:review", slug=org.slug, alert_id=alert.pk)
        return render(
            request,
            "alerts/staff/confirm.html",
            {"org": org, "alert": alert, "action": action, "reach": services.reach(alert),
             "languages": _both(alert)},
        )  # fmt: skip
    try:
        handlers[action](alert=alert, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You cannot do that."))
    else:
        messages.success(request, DONE.get(action, _("Done.")))
        if action == "discard":
            return redirect("alerts-staff:list", slug=org.slug)
    return redirect("alerts-staff:review", slug=org.slug, alert_id=alert.pk)


DONE = {
    "submit": gettext_lazy("Sent for approval: a second person approves it before it goes out."),
    "approve": gettext_lazy("Approved: the alert is published and being sent."),
    "publish": gettext_lazy("Published: the alert is being sent."),
    "withdraw": gettext_lazy("Withdrawn: the alert page says so, and it is no longer listed."),
    "discard": gettext_lazy("Draft discarded."),
    "to-draft": gettext_lazy("Back to draft: you can change it."),
}


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """Anonymous: no account, no IP address kept (the rate limit counts a hash in the cache)."""
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = form_wait(request, REPORT_BUDGET, form)
        if wait:
            return limited_response(render(request, "alerts/report.html", {"form": form}), wait)
        data = form.cleaned_data
        kept = None
        if not data.get("website"):  # a bot filled the hidden field: thank it, keep nothing
            kept = services.report_create(
                kind=data["kind"],
                what_happened=data["what_happened"],
                sold_as=data.get("sold_as") or "",
                looks_like=data.get("looks_like") or "",
                city=data.get("city") or "",
                fsa=data.get("fsa") or "",
                happened_on=data.get("happened_on"),
            )
        unread = kept is not None and kept.organization_id is None
        return render(request, "alerts/report_thanks.html", {"unread": unread})
    return render(request, "alerts/report.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def staff_reports(request: HttpRequest, slug: str) -> HttpResponse:
    """The reports routed to this organization; its admins say which areas' reports it takes."""
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    policy = AlertPolicy.objects.filter(organization=org).first()
    is_admin = role_at_least(role_in(request.user, org.pk) or "", Role.ORG_ADMIN)
    areas_form = ReportAreasForm(
        request.POST or None,
        initial={"areas": " ".join(policy.report_area_list()) if policy else ""},
    )
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        if areas_form.is_valid():
            try:
                services.report_areas_save(
                    actor=request.user, organization=org, areas=areas_form.cleaned_data["areas"]
                )
            except ValidationError as exc:
                areas_form.add_error("areas", exc)
            else:
                messages.success(request, _("Saved. Reports from these areas come to you."))
                return redirect("alerts-staff:reports", slug=org.slug)
    return render(
        request,
        "alerts/staff/reports.html",
        {
            "org": org,
            "reports": services.report_queue(request.user, organization=org)[:100],
            "report_areas": policy.report_area_list() if policy else [],
            "areas_form": areas_form if is_admin else None,
        },
        status=400 if areas_form.errors else 200,
    )


@login_required
@require_POST
def staff_report_action(
    request: HttpRequest, slug: str, report_id: Any, action: str
) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    found = services.report_queue(request.user, organization=org).filter(pk=report_id).first()
    if found is None or action not in {"confirm", "dismiss", "alert"}:
        raise Http404
    if action == "confirm":
        services.report_confirm(report=found, actor=request.user, organization=org)
        messages.success(request, _("Report confirmed: it now counts in the figures."))
    elif action == "dismiss":
        services.report_dismiss(report=found, actor=request.user, organization=org)
        messages.success(request, _("Report dismissed."))
    else:
        services.report_to_alert(report=found, actor=request.user, organization=org)
        messages.success(request, _("Alert draft made from the report."))
        return redirect("alerts-staff:list", slug=org.slug)
    return redirect("alerts-staff:reports", slug=org.slug)


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "alerts/sw.js",
        {"alerts_url": absolute_url("alerts:list")},
        content_type="text/javascript",
    )
    response["Service-Worker-Allowed"] = "/alerts/"
    response["Cache-Control"] = "no-cache"
    return response


@require_POST
@ratelimit("alerts-push", limit=10, window=3600, methods=("POST",))
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """The browser's push subscription (endpoint and keys), with postal areas and language."""
    try:
        data = json.loads(request.body or b"{}")
        subscription = data["subscription"]
        endpoint = str(subscription["endpoint"])
        keys = subscription["keys"]
        if not endpoint.startswith("https://") or not keys.get("p256dh") or not keys.get("auth"):
            raise ValueError(endpoint)
        areas = services.parse_areas(str(data.get("areas") or ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return JsonResponse(
            {"detail": _("This is not a push subscription."), "code": "invalid"}, status=400
        )
    except ValidationError as exc:
        return JsonResponse({"detail": " ".join(exc.messages), "code": "invalid"}, status=400)
    lang = "fr" if str(data.get("lang", "")).startswith("fr") else "en"
    try:
        services.subscribe_push(
            subscription={
                "endpoint": endpoint,
                "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]},
            },
            areas=areas,
            lang=lang,
        )
    except ValidationError as exc:
        return JsonResponse(
            {"detail": " ".join(exc.messages), "code": "push-service-not-allowed"}, status=400
        )
    return JsonResponse({"detail": _("You will get alerts on this device.")}, status=201)
