"""Staff pages for an organization's own listings: freshness, suggested edits, editing,
likely duplicates (merge or dismiss)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from harbour.accounts.selectors import organization_for
from harbour.core.roles import Role
from harbour.directory import duplicates as duplicate_finder
from harbour.directory import merge as merge_services
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


# --- duplicates ---------------------------------------------------------------------------------

MAX_GROUP = 20


def _ids(values: list[str]) -> list[uuid.UUID]:
    found = []
    for value in values[:MAX_GROUP]:
        try:
            found.append(uuid.UUID(value))
        except ValueError as exc:
            raise Http404 from exc
    return list(dict.fromkeys(found))


@login_required
@require_safe
def duplicates(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    groups = duplicate_finder.staff_groups(request.user, organization=org)
    return render(request, "directory/staff/duplicates.html", {"org": org, "groups": groups})


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: what merging these listings into the chosen one will do; POST: do it."""
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    data = request.POST if request.method == "POST" else request.GET
    ids = _ids(data.getlist("ids"))
    rows = [selectors.owned_service(request.user, organization=org, service_id=pk) for pk in ids]
    keep = next((s for s in rows if str(s.pk) == data.get("keep")), None)
    if len(rows) < 2 or keep is None:
        messages.error(request, _("Choose the listing to keep, among two or more."))
        return redirect("directory-staff:duplicates", slug=org.slug)
    others = [s for s in rows if s.pk != keep.pk]
    if request.method == "POST":
        try:
            merge_services.service_merge(actor=request.user, survivor=keep, others=others)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)s listing was merged into “%(name)s”.",
                    "%(n)s listings were merged into “%(name)s”.",
                    len(others),
                )
                % {"n": len(others), "name": keep.name},
            )
        return redirect("directory-staff:duplicates", slug=org.slug)
    return render(
        request,
        "directory/staff/merge.html",
        {
            "org": org,
            "keep": duplicate_finder.card(keep),
            "others": [duplicate_finder.card(s) for s in others],
            "ids": ids,
            "filled": merge_services.fills(keep, others),
        },
    )


@login_required
@require_POST
def dismiss(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    rows = [
        selectors.owned_service(request.user, organization=org, service_id=pk)
        for pk in _ids(request.POST.getlist("ids"))
    ]
    try:
        merge_services.duplicates_dismiss(actor=request.user, services=rows)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Marked as not duplicates. They will not be suggested again."))
    return redirect("directory-staff:duplicates", slug=org.slug)
