"""Staff pages for an organization's own listings: freshness, suggested edits, editing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from harbour.accounts.selectors import organization_for
from harbour.core.roles import Role
from harbour.directory import selectors, services
from harbour.directory.forms import ReviewForm, ServiceEditForm


@login_required
def listings(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.owned_organization(request.user, slug=slug)
    rows = selectors.owned_services(request.user, organization=org)
    return render(
        request,
        "directory/staff/listings.html",
        {"org": org, "rows": rows, "stale_before": services.stale_before()},
    )


@login_required
def suggestions(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    pending = selectors.pending_suggestions(request.user, organization=org)
    return render(
        request,
        "directory/staff/suggestions.html",
        {"org": org, "pending": pending, "form": ReviewForm()},
    )


@login_required
@require_POST
def review(request: HttpRequest, slug: str, suggestion_id: str, decision: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    suggestion = selectors.suggestion_for(
        request.user, organization=org, suggestion_id=suggestion_id
    )
    form = ReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if decision == "accept":
            services.suggestion_accept(suggestion=suggestion, actor=request.user, note=note)
            messages.success(request, _("Suggestion accepted."))
        elif decision == "reject":
            services.suggestion_reject(suggestion=suggestion, actor=request.user, note=note)
            messages.success(request, _("Suggestion rejected."))
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("directory-staff:suggestions", slug=org.slug)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, slug: str, service_id: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    service = selectors.owned_service(request.user, organization=org, service_id=service_id)
    initial = {name: getattr(service, name) for name in services.EDITABLE_FIELDS}
    form = ServiceEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        verified = data.pop("verified")
        changes = {k: v for k, v in data.items() if k in services.EDITABLE_FIELDS}
        try:
            services.service_update(
                service=service, actor=request.user, changes=changes, verified=verified
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Listing saved."))
            return redirect("directory-staff:listings", slug=org.slug)
    return render(
        request,
        "directory/staff/edit.html",
        {"org": org, "service": service, "form": form},
        status=400 if form.errors else 200,
    )
