"""Asking for a mentor (public, no account), each side's private link (accept, decline, "we
checked in", ask for someone new), and the coordinators' pages."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from harbour.accounts.selectors import organization_for
from harbour.core.ratelimit import FormBudget, form_wait, limited_response
from harbour.core.roles import Role
from harbour.mentoring import selectors, services
from harbour.mentoring.forms import AreaForm, AskForm, MentorForm, ProgramForm, StaffRequestForm
from harbour.mentoring.models import (
    LANGUAGES,
    CheckInState,
    EndReason,
    Identity,
    MatchStatus,
    Pathway,
    Program,
    RequestStatus,
)

COORDINATOR = Role.COORDINATOR


def _lang() -> str:
    return "fr" if (get_language() or "en").startswith("fr") else "en"


def _add_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def _request_data(form: Any, lang: str) -> services.RequestData:
    data = form.cleaned_data
    return services.RequestData(
        alias=data["alias"],
        channel=data["channel"],
        contact=data["contact"],
        languages=form.languages(),
        pathways=form.pathways(),
        identities=list(data.get("identities") or []),
        fsa=data.get("fsa") or "",
        online=data.get("online", False),
        in_person=data.get("in_person", False),
        notes=data.get("notes") or "",
        lang=lang,
    )


# a drop-in centre's Wi-Fi is one address for many people (core.ratelimit.FormBudget)
ASK_BUDGET = FormBudget("mentoring-ask", per_connection=30, per_content=3)


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    """Ask for a peer mentor: no account; the contact is encrypted and shared with a mentor
    only after both say yes. First the postal area: only programs serving it are offered, and
    where none does the page says so (with other ways to get support) before anything is asked
    or kept."""
    source = request.POST if request.method == "POST" else request.GET
    area = AreaForm(source) if source.get("fsa") else AreaForm()
    if not area.is_bound or not area.is_valid():
        return render(
            request, "mentoring/ask.html", {"area_form": area},
            status=400 if area.is_bound else 200,
        )  # fmt: skip
    fsa = area.cleaned_data["fsa"]
    programs = selectors.programs_serving(fsa)
    if not programs:  # nobody would read it: say so now, keep nothing
        return render(
            request, "mentoring/ask.html", {"area_form": area, "fsa": fsa, "nobody": True}
        )
    lang = _lang()
    form = AskForm(
        request.POST if request.method == "POST" else None,
        programs=programs,
        initial={"language": lang, "fsa": fsa},
    )
    if request.method == "POST" and form.is_valid():
        wait = form_wait(request, ASK_BUDGET, form)
        if wait:
            context = {"form": form, "programs": programs, "fsa": fsa}
            return limited_response(render(request, "mentoring/ask.html", context), wait)
        if form.cleaned_data.get("website"):  # a bot filled the hidden field: keep nothing
            return render(request, "mentoring/ask_thanks.html", {"program": None})
        program = next(p for p in programs if str(p.pk) == form.cleaned_data["program"])
        try:
            services.request_create(
                organization=program.organization, data=_request_data(form, lang)
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return render(request, "mentoring/ask_thanks.html", {"program": program})
    return render(
        request,
        "mentoring/ask.html",
        {"form": form, "programs": programs, "fsa": fsa},
        status=400 if form.errors else 200,
    )


def _labels(text: str, choices: Any) -> list[str]:
    names = dict(choices)
    return [str(names[c]) for c in text.split() if c in names]


SESSION_LINKS = "mentoring_links"


@require_safe
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The private link from a message. Its token moves into the session at once and the
    browser goes on to a page whose address holds none, so the token never reaches a server
    log, a Referer header or the browser's history beyond this first request (as Django's
    password-reset links do). The session keeps the match and side, not the token. The link
    keeps working: opened again, it does the same."""
    found = services.match_by_token(token)
    if found is None:
        raise Http404
    # the session keeps which match and side the link opened, not the token itself
    opened = {"m": str(found[0].pk), "s": found[1]}
    links = dict(request.session.get(SESSION_LINKS) or {})
    slot = next((k for k, v in links.items() if v == opened), None)
    if slot is None:
        slot = secrets.token_urlsafe(6)
        links[slot] = opened
    request.session[SESSION_LINKS] = dict(list(links.items())[-10:])
    response = redirect("mentoring:link-page", slot=slot)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest, slot: str) -> HttpResponse:
    """One side's private page: the proposal (accept or decline), then, once both said yes,
    the other's contact, "we checked in" and "I would like someone new". Which match and side
    is the session's (put there by :func:`link`): without it, 404."""
    opened = (request.session.get(SESSION_LINKS) or {}).get(slot)
    found = (
        services.match_side(opened.get("m"), str(opened.get("s")))
        if isinstance(opened, dict)
        else None
    )
    if found is None:
        raise Http404
    match, side = found
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("accept", "decline"):
                services.answer(match=match, side=side, accept=action == "accept")
                messages.success(
                    request, _("Thank you. We have your answer.") if action == "accept"
                    else _("Thank you for telling us. No one is at fault."),
                )  # fmt: skip
            elif action == "checked-in":
                services.checkin_done(match=match, by=side)
                messages.success(request, _("Thank you. We will remind you of the next one."))
            elif action == "rematch":
                services.match_end(match=match, by=side, reason=EndReason.REMATCH)
                messages.success(request, _("Done. Nobody is at fault; the coordinator will "
                                            "find someone new."))  # fmt: skip
            else:
                raise Http404
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("mentoring:link-page", slot=slot)
    match.refresh_from_db()
    mentor, seeker = match.mentor, match.request
    program = Program.objects.filter(organization_id=match.organization_id).first()
    consented = match.mentor_consent_at if side == "mentor" else match.mentee_consent_at
    next_checkin = match.checkins.filter(
        state__in=[CheckInState.SCHEDULED, CheckInState.REMINDED]
    ).first()
    response = render(
        request,
        "mentoring/link.html",
        {
            "match": match,
            "side": side,
            "other_alias": seeker.alias if side == "mentor" else mentor.alias,
            "other": seeker if side == "mentor" else mentor,
            "pathways": _labels(
                seeker.pathways if side == "mentor" else mentor.pathways, Pathway.choices
            ),
            "languages": _labels((seeker if side == "mentor" else mentor).languages, LANGUAGES),
            "identities": _labels(mentor.identities, Identity.choices) if side == "mentee" else [],
            "consented": consented,
            "next_checkin": next_checkin,
            "program": program,
            "active": match.status == MatchStatus.ACTIVE,
            "proposed": match.status == MatchStatus.PROPOSED,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


# --- coordinators -----------------------------------------------------------------------------


def _org(request: HttpRequest, slug: str) -> Any:
    return organization_for(request.user, slug=slug, minimum=COORDINATOR)


@login_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    program = services.program_of(org)
    return render(
        request,
        "mentoring/staff/dashboard.html",
        {
            "org": org,
            "program": program,
            "counts": selectors.dashboard_counts(request.user, organization=org),
            "waiting": selectors.requests_of(
                request.user, organization=org, status=RequestStatus.WAITING
            ),
            "proposed": selectors.matches_of(
                request.user, organization=org, statuses=[MatchStatus.PROPOSED]
            ),
            "active": selectors.matches_of(
                request.user, organization=org, statuses=[MatchStatus.ACTIVE]
            ),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def propose_all(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    made = services.propose_all(actor=request.user, organization=org)
    messages.success(
        request,
        ngettext(
            "%(n)s match proposed. Both people are asked to accept.",
            "%(n)s matches proposed. Both people are asked to accept.",
            len(made),
        )
        % {"n": len(made)},
    )
    return redirect("mentoring-staff:dashboard", slug=org.slug)


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    form = StaffRequestForm(request.POST or None, initial={"language": _lang(), "lang": _lang()})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(
                organization=org,
                data=_request_data(form, form.cleaned_data["lang"]),
                actor=request.user,
                source="staff",
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Request saved."))
            return redirect("mentoring-staff:request", slug=org.slug, request_id=created.pk)
    return render(
        request,
        "mentoring/staff/request_new.html",
        {"org": org, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, slug: str, request_id: Any) -> HttpResponse:
    org = _org(request, slug)
    found = selectors.request_for(request.user, organization=org, request_id=request_id)
    contact = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "propose":
                mentor = selectors.mentor_for(
                    request.user, organization=org, mentor_id=request.POST.get("mentor", "")
                )
                services.match_propose(actor=request.user, request=found, mentor=mentor)
                messages.success(request, _("Match proposed. Both people are asked to accept."))
                return redirect("mentoring-staff:request", slug=org.slug, request_id=found.pk)
            if action == "close":
                services.request_close(actor=request.user, request=found)
                messages.success(request, _("Request closed."))
                return redirect("mentoring-staff:dashboard", slug=org.slug)
            if action == "contact":
                contact = services.contact_view(actor=request.user, subject=found)
            else:
                raise Http404
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    best = (
        selectors.best_mentors(request.user, request=found)
        if found.status == RequestStatus.WAITING
        else []
    )
    reasons = selectors.why_not_others(found) if found.status == RequestStatus.WAITING else {}
    return render(
        request,
        "mentoring/staff/request.html",
        {
            "org": org,
            "req": found,
            "contact": contact,
            "best": best,
            "reasons": [(services.reason_text(k), v) for k, v in sorted(reasons.items())],
            "history": selectors.history(found),
            "pathways": _labels(found.pathways, Pathway.choices) or [_("No preference")],
            "languages": _labels(found.languages, LANGUAGES),
            "identities": _labels(found.identities, Identity.choices),
        },
    )


def _mentor_data(form: MentorForm) -> services.MentorData:
    data = form.cleaned_data
    return services.MentorData(
        alias=data["alias"], channel=data["channel"], contact=data["contact"],
        languages=list(data["languages"]), pathways=list(data["pathways"]),
        identities=list(data.get("identities") or []), areas=data.get("areas") or "",
        online=data["online"], in_person=data["in_person"], capacity=data["capacity"],
        lang=data["lang"], trained_on=data.get("trained_on"),
        lived_experience=data["lived_experience"], active=data["active"],
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def mentors(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    form = MentorForm(request.POST or None, initial={"lang": _lang(), "languages": [_lang()]})
    if request.method == "POST" and form.is_valid():
        try:
            services.mentor_save(actor=request.user, organization=org, data=_mentor_data(form))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Mentor saved."))
            return redirect("mentoring-staff:mentors", slug=org.slug)
    rows = [
        {
            "mentor": m,
            "pathways": _labels(m.pathways, Pathway.choices),
            "languages": _labels(m.languages, LANGUAGES),
        }
        for m in selectors.mentors_of(request.user, organization=org)
    ]
    return render(
        request,
        "mentoring/staff/mentors.html",
        {"org": org, "form": form, "rows": rows},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mentor_edit(request: HttpRequest, slug: str, mentor_id: Any) -> HttpResponse:
    org = _org(request, slug)
    mentor = selectors.mentor_for(request.user, organization=org, mentor_id=mentor_id)
    initial = {
        "alias": mentor.alias, "channel": mentor.channel, "contact": "", "lang": mentor.lang,
        "languages": mentor.languages.split(), "pathways": mentor.pathways.split(),
        "identities": mentor.identities.split(), "online": mentor.online,
        "in_person": mentor.in_person, "areas": mentor.areas.strip(), "capacity": mentor.capacity,
        "trained_on": mentor.trained_on, "lived_experience": mentor.lived_experience,
        "active": mentor.active,
    }  # fmt: skip
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None and not data.get("contact"):
        data["contact"] = mentor.contact  # left empty: unchanged (it is never shown here)
    form = MentorForm(data, initial=initial)
    form.fields["contact"].required = False
    form.fields["contact"].help_text = _("Leave empty to keep the current one.")
    if data is not None and form.is_valid():
        try:
            services.mentor_save(
                actor=request.user, organization=org, data=_mentor_data(form), mentor=mentor
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Mentor saved."))
            return redirect("mentoring-staff:mentors", slug=org.slug)
    return render(
        request,
        "mentoring/staff/mentor_edit.html",
        {"org": org, "form": form, "mentor": mentor},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def match_detail(request: HttpRequest, slug: str, match_id: Any) -> HttpResponse:
    org = _org(request, slug)
    match = selectors.match_for(request.user, organization=org, match_id=match_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "checked-in":
                services.checkin_done(match=match, by="coordinator", actor=request.user)
                messages.success(request, _("Check-in recorded."))
            elif action in (EndReason.REMATCH, EndReason.COMPLETED):
                services.match_end(match=match, by="coordinator", reason=action,
                                   actor=request.user)  # fmt: skip
                messages.success(request, _("Match ended."))
            else:
                raise Http404
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("mentoring-staff:match", slug=org.slug, match_id=match.pk)
    return render(
        request,
        "mentoring/staff/match.html",
        {"org": org, "match": match, "checkins": match.checkins.order_by("number")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def program(request: HttpRequest, slug: str) -> HttpResponse:
    org = _org(request, slug)
    current = services.program_of(org) or Program(organization=org)
    fields = ["enabled", "areas", "checkin_every_days", "answer_days", "quiet_after_missed",
              "proposal_days", "purge_days", "crisis_line"]  # fmt: skip
    initial = {name: getattr(current, name) for name in fields}
    initial["areas"] = current.areas.strip()
    form = ProgramForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.program_save(actor=request.user, organization=org, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Program saved."))
            return redirect("mentoring-staff:dashboard", slug=org.slug)
    return render(
        request,
        "mentoring/staff/program.html",
        {"org": org, "form": form},
        status=400 if form.errors else 200,
    )
