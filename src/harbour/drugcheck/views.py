"""Public pages (result lookup, results board) and the site staff's sample entry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from harbour.accounts.selectors import organization_for
from harbour.core.ratelimit import ratelimit
from harbour.core.roles import Role
from harbour.core.views import absolute_url
from harbour.drugcheck import board as board_release
from harbour.drugcheck import charts, selectors, services
from harbour.drugcheck.forms import (
    STRIP_FIELDS,
    BoardForm,
    LookupForm,
    SampleCorrectForm,
    SampleEntryForm,
)
from harbour.drugcheck.models import Match, Method
from harbour.drugcheck.models import Role as ComponentRole

RESULTS_PER_PAGE = 50
NO_MATCH = {"no library match": Match.NO_LIBRARY_MATCH, "uncertain match": Match.UNCERTAIN}


@require_http_methods(["GET", "POST"])
@ratelimit("drugcheck-lookup", limit=10, window=60, methods=("POST",))
def lookup(request: HttpRequest) -> HttpResponse:
    """The person looks up their result by code. POST, so the code stays out of addresses
    and logs; the same answer for every wrong code; ten tries a minute."""
    form = LookupForm(request.POST or None)
    sample = None
    not_found = False
    if request.method == "POST" and form.is_valid():
        sample = selectors.sample_by_code(form.cleaned_data["code"])
        not_found = sample is None
    return render(
        request,
        "drugcheck/lookup.html",
        {"form": form, "sample": sample, "not_found": not_found},
    )


@require_safe
def board(request: HttpRequest) -> HttpResponse:
    """The board as released, month by month: a month's figures and its samples' results
    (the newest month unless another released one is chosen), and the series of the last 12
    releases. Never computed when the page is asked; no filter finer than a month."""
    offered = board_release.published()
    context: dict[str, object] = {"release": offered[0] if offered else None}
    if offered:
        form = BoardForm(request.GET or None, months=[r.period_start for r in offered])
        chosen = form.cleaned_data.get("month") if form.is_bound and form.is_valid() else ""
        release = next((r for r in offered if f"{r.period_start:%Y-%m}" == chosen), offered[0])
        page = Paginator(release.data["results"], RESULTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        months = board_release.series(offered)
        context |= {
            "form": form,
            "release": release,
            "board": board_release.figures(release.data),
            "months": months,
            "chart": charts.monthly_shares(months),
            "page": page,
            "results": board_release.results(list(page.object_list)),
        }
    return render(request, "drugcheck/board.html", context)


def _sample_in(form: SampleEntryForm) -> services.SampleIn:
    """What the entry (or correction) form says, as the services take it."""
    data = form.cleaned_data
    components: list[services.ComponentIn] = []
    for name, percent in data["ftir"]:
        match = NO_MATCH.get(name.lower(), Match.MATCH)
        components.append(
            services.ComponentIn(
                name="" if match != Match.MATCH else name,
                role=ComponentRole.PRIMARY if not components else ComponentRole.UNKNOWN,
                percent=Decimal(str(percent)) if percent is not None else None,
                match=match,
                method=Method.FTIR,
            )
        )
    return services.SampleIn(
        collected_on=data["collected_on"],
        site=data["site"],
        city=data.get("city") or "",
        fsa=data.get("fsa") or "",
        expected=data.get("expected") or "",
        expected_class=data.get("expected_class") or "",
        form=data["form"],
        colour=data.get("colour") or "",
        already_used=form.yes_no("already_used"),
        overdose=form.yes_no("overdose"),
        notes=data.get("notes") or "",
        strips={str(method): data[name] for name, method in STRIP_FIELDS.items() if data.get(name)},
        components=components,
    )


def _add_errors(form: SampleEntryForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_http_methods(["GET", "POST"])
def sample_new(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    form = SampleEntryForm(request.POST or None)
    recorded = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recorded = services.sample_record(
                actor=request.user, organization=org, data=_sample_in(form)
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Sample recorded."))
            form = SampleEntryForm(initial={"site": data["site"], "city": data.get("city")})
    samples = selectors.own_samples(request.user, organization=org)[:20]
    return render(
        request,
        "drugcheck/staff/sample_new.html",
        {"org": org, "form": form, "recorded": recorded, "samples": samples},
    )


@login_required
@require_http_methods(["GET", "POST"])
def sample_detail(request: HttpRequest, slug: str, sample_id: Any) -> HttpResponse:
    """One of the organization's samples, and the form to correct it (404 for any other)."""
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    sample = selectors.own_sample_or_404(request.user, organization=org, sample_id=sample_id)
    form = SampleCorrectForm(request.POST or None, initial=SampleCorrectForm.initial_for(sample))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.sample_correct(
                actor=request.user,
                sample=sample,
                data=_sample_in(form),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("Correction saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("drugcheck-staff:sample", slug=org.slug, sample_id=sample.pk)
    return render(
        request,
        "drugcheck/staff/sample_detail.html",
        {
            "org": org,
            "sample": sample,
            "form": form,
            "release": services.released_month(sample.collected_on),
        },
    )


@login_required
@require_safe
def sample_code(request: HttpRequest, slug: str, sample_id: Any) -> HttpResponse:
    """The code in large print, for staff to show the person on their phone: the code and
    where to look it up, nothing else about the sample."""
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    sample = selectors.own_sample_or_404(request.user, organization=org, sample_id=sample_id)
    return render(
        request,
        "drugcheck/staff/sample_code.html",
        {
            "org": org,
            "sample": sample,
            "lookup_url": absolute_url("drugcheck:lookup"),
        },
    )
