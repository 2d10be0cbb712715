"""Never use alone: the person's pages (start, their session), the responder's private page,
and the dispatcher view for staff of the operating organization."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from harbour.accounts.models import User
from harbour.accounts.selectors import organization_for
from harbour.checkins import services, watchdog
from harbour.checkins.forms import (
    DebriefForm,
    MoreForm,
    OperatorStartForm,
    OutcomeForm,
    ProgramForm,
    ResponderForm,
    StartForm,
)
from harbour.checkins.models import (
    OPEN_STATES,
    Callout,
    CalloutStatus,
    Event,
    OnDuty,
    Outcome,
    Program,
    Responder,
    Session,
    State,
)
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.ratelimit import FormBudget, form_wait, limited_response, ratelimit
from harbour.core.roles import Role
from harbour.notify import addresses


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required views only
    return request.user


def _lang() -> str:
    return "fr" if (get_language() or "en").startswith("fr") else "en"


def _start_data(form: StartForm) -> services.Start:
    data = form.cleaned_data
    return services.Start(
        alias=data["alias"],
        phone=data.get("phone") or "",
        minutes=int(data["minutes"]),
        lang=_lang(),
        address=data.get("address") or "",
        position=data.get("position") or "",
        access_notes=data.get("access_notes") or "",
        fsa=data.get("fsa") or "",
        substance=data.get("substance") or "",
        route=data.get("route") or "",
        contacts=(data.get("contact_1") or "", data.get("contact_2") or ""),
        training=bool(data.get("training")),
    )


def _source(nonce: str | None) -> str | None:
    """A form's one-time value: submitting the same form twice does the thing once."""
    text = (nonce or "").strip()[:60]
    return f"web:{text}" if text else None


def _apply_errors(form: StartForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = "contact_1" if field == "contacts" else field
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# a drop-in centre's Wi-Fi is one address for many people (core.ratelimit.FormBudget)
START_BUDGET = FormBudget("checkin-start", per_connection=40, per_content=5)


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """No account. The phone number is kept encrypted and erased hours after the session."""
    form = StartForm(request.POST or None)
    program = services.program_for("")
    not_served = ""
    if request.method == "POST" and form.is_valid():
        wait = form_wait(request, START_BUDGET, form)
        if wait:
            context = {"form": form, "program": program}
            return limited_response(render(request, "checkins/start.html", context), wait)
        try:
            fsa = services.postal_area(form.cleaned_data.get("fsa") or "")
        except ValidationError:
            fsa = ""  # the service says what is wrong with it, at the field
        if fsa and services.program_for(fsa) is None:
            # said at the top of the page, with buttons to call, before the person relies on it
            not_served = fsa
            return render(
                request,
                "checkins/start.html",
                {
                    "form": form,
                    "program": program,
                    "not_served": not_served,
                    "not_served_text": services.not_served(fsa),
                },
            )
        try:
            session = services.start(
                _start_data(form), source=_source(form.cleaned_data.get("nonce")), via="web"
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            request.session[SESSION_KEY] = session.token
            return redirect("checkins:mine")
    return render(request, "checkins/start.html", {"form": form, "program": program})


# Tokens in paths end up in server logs and Referer headers: the link in a text message opens
# the path with the token once; the token goes into the visitor's (server-side) session and
# they are sent on to a path without it (as Django's password reset confirmation does).
SESSION_KEY = "checkin_session_token"
CALLOUT_KEY = "checkin_callout_token"


def _session_or_404(token: str) -> Session:
    session = Session.objects.select_related("program__organization").filter(token=token).first()
    if session is None or session.purged_at is not None:
        raise Http404
    return session


def _mine(request: HttpRequest) -> Session:
    return _session_or_404(str(request.session.get(SESSION_KEY) or "-"))


@require_http_methods(["GET"])
def session_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link with the token: remember it, and go on to the page without it."""
    _session_or_404(token)
    request.session[SESSION_KEY] = token
    return redirect("checkins:mine")


@require_http_methods(["GET"])
def session_page(request: HttpRequest) -> HttpResponse:
    session = _mine(request)
    return render(
        request,
        "checkins/session.html",
        {"session": session, "more_form": MoreForm(), "nonce": uuid.uuid4().hex},
    )


@require_POST
@ratelimit("checkin-confirm", limit=10, window=600, methods=("POST",))
def session_confirm(request: HttpRequest) -> HttpResponse:
    """The person types the code texted to their number: now contacts and responders can be
    called."""
    session = _mine(request)
    result = services.confirm(session.pk, code=request.POST.get("code", ""))
    if result in {"confirmed", "already"}:
        messages.success(request, _("Your number is confirmed."))
    elif result == "too-many-tries":
        messages.error(request, _("Too many wrong codes. Reply OK to our text to confirm."))
    else:
        messages.error(request, _("This is not the code we texted. Try again."))
    return redirect("checkins:mine")


@require_POST
@ratelimit("checkin-reply", limit=60, window=600, methods=("POST",))
def session_reply(request: HttpRequest, action: str) -> HttpResponse:
    session = _mine(request)
    if action not in {"ok", "more", "done"}:
        raise Http404
    minutes = None
    if action == "more":
        form = MoreForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose how much more time."))
            return redirect("checkins:mine")
        minutes = form.cleaned_data["minutes"]
    result = services.reply(
        session.pk, action, minutes=minutes, source=_source(request.POST.get("nonce"))
    )
    if result == "already-ended":
        messages.info(request, _("This check-in had already ended; nothing was changed."))
    elif result == "ended":
        messages.success(request, _("Check-in ended. Glad you are okay."))
    elif result == "extended":
        session.refresh_from_db(fields=["due_at"])
        messages.success(
            request,
            _("%(minutes)s minutes added. We will text you at %(time)s.")
            % {
                "minutes": minutes,
                "time": date_format(timezone.localtime(session.due_at), "H:i"),
            },
        )
    elif result == "reset":
        messages.success(request, _("Got it. The timer starts again."))
    return redirect("checkins:mine")


# --- responders ------------------------------------------------------------------------------


def _callout_or_404(token: str) -> Callout:
    callout = (
        Callout.objects.select_related("session__program__organization", "responder")
        .filter(token=token)
        .first()
    )
    if callout is None or callout.session.purged_at is not None:
        raise Http404
    return callout


@require_http_methods(["GET"])
def respond_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link with the token: remember it, and go on to the page without it."""
    _callout_or_404(token)
    request.session[CALLOUT_KEY] = token
    return redirect("checkins:respond")


@require_http_methods(["GET", "POST"])
@ratelimit("checkin-respond", limit=60, window=600, methods=("POST",))
def respond(request: HttpRequest) -> HttpResponse:
    """The responder's private page: where to go, and Go / Here / what happened / debrief."""
    callout = _callout_or_404(str(request.session.get(CALLOUT_KEY) or "-"))
    outcome_form = OutcomeForm(request.POST if request.POST.get("step") == "outcome" else None)
    debrief_form = DebriefForm(request.POST if request.POST.get("step") == "debrief" else None)
    if request.method == "POST":
        step = request.POST.get("step")
        source = _source(request.POST.get("nonce"))
        if step == "go":
            result = services.accept(callout.pk, source=source)
            if result == "taken":
                messages.info(request, _("Someone else is already going. Thank you."))
            elif result == "closed":
                messages.info(request, _("This call-out is over. Thank you."))
            return redirect("checkins:respond")
        if step == "here":
            services.arrive(callout.pk, source=source)
            return redirect("checkins:respond")
        if step == "outcome" and outcome_form.is_valid():
            services.finish(
                callout.pk,
                outcome=outcome_form.cleaned_data["outcome"],
                naloxone_doses=outcome_form.cleaned_data.get("naloxone_doses"),
            )
            messages.success(request, _("Thank you. Recorded."))
            return redirect("checkins:respond")
        if step == "debrief" and debrief_form.is_valid():
            services.debrief(callout.pk, debrief_form.cleaned_data)
            messages.success(request, _("Thank you for answering."))
            return redirect("checkins:respond")
    callout.refresh_from_db()
    return render(
        request,
        "checkins/respond.html",
        {
            "callout": callout,
            "session": callout.session,
            "outcome_form": outcome_form,
            "debrief_form": debrief_form,
            "nonce": uuid.uuid4().hex,
            "statuses": CalloutStatus,
        },
    )


# --- dispatcher ------------------------------------------------------------------------------


# who dispatches: the staff of the organization that serves the check-in, from peer workers up
# (a viewer sees no check-in, and nobody outside the organization does)
DISPATCHER = Role.PEER_WORKER

URGENCY = {
    State.DISPATCH: 0,
    State.PROMPTED: 1,
    State.CALLING: 2,
    State.ASSIGNED: 3,
    State.ON_SCENE: 4,
    State.ACTIVE: 5,
}


def _program(org: Any) -> Program:
    program, _created = Program.objects.get_or_create(organization=org)
    return program


def figures(program: Program, *, days: int = 30) -> dict[str, Any]:
    """Aggregate figures only, for the operating organization's own staff: sessions,
    escalations, outcomes, average response times. Training sessions are left out."""
    since = timezone.now() - timedelta(days=days)
    sessions = Session.objects.filter(program=program, started_at__gte=since, training=False)
    counts = sessions.aggregate(
        total=Count("pk"),
        escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
        dispatched=Count("pk", filter=Q(dispatched_at__isnull=False)),
        accept=Avg(F("accepted_at") - F("escalated_at")),
        arrive=Avg(F("arrived_at") - F("accepted_at")),
    )
    outcomes = dict(
        sessions.filter(state=State.ENDED)
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    labels = dict(Outcome.choices)
    return {
        "days": days,
        "total": counts["total"],
        "escalated": counts["escalated"],
        "dispatched": counts["dispatched"],
        "accept": _seconds(counts["accept"]),
        "arrive": _seconds(counts["arrive"]),
        "outcomes": [(labels.get(k, k), v) for k, v in sorted(outcomes.items())],
    }


def _seconds(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds())
    return round(float(value) / 1_000_000)  # SQLite returns microseconds


@login_required
def board(request: HttpRequest, slug: str) -> HttpResponse:
    """The dispatcher view: open sessions, the ones needing a person first and loud."""
    org = organization_for(request.user, slug=slug, minimum=DISPATCHER)
    program = _program(org)
    now = timezone.now()
    sessions = sorted(
        services.open_for(org), key=lambda s: (URGENCY.get(State(s.state), 9), s.started_at)
    )
    late = timedelta(seconds=watchdog.threshold())
    revealed = set(request.session.get(REVEALED_KEY, []))
    for session in sessions:
        session.overdue = bool(session.due_at and now - session.due_at > late)
        session.overdue_minutes = overdue_minutes(session, now)
        session.revealed = str(session.pk) in revealed
    return render(
        request,
        "checkins/staff/board.html",
        {
            "org": org,
            "program": program,
            "sessions": sessions,
            "health": watchdog.status(now),
            "on_duty": OnDuty.objects.filter(organization=org, user=_user(request)).exists(),
            "figures": figures(program),
            "now": now,
            "dispatch_outcomes": [(o.value, o.label) for o in services.DISPATCH_OUTCOMES],
        },
    )


def overdue_minutes(session: Session, now: Any) -> int | None:
    """Whole minutes since the person should have checked in (None while they are not late):
    since their timer ran out (``prompted_at``) once they were prompted, or since the timer's
    end when the worker has not prompted them yet."""
    if session.state == State.ACTIVE:
        since = session.due_at if session.due_at and session.due_at < now else None
    elif session.state == State.ON_SCENE:
        since = None  # someone is with them
    else:
        since = session.prompted_at
    if since is None:
        return None
    return int((now - since).total_seconds() // 60)


# the check-ins whose phone and address this staff member revealed on the board (this sign-in)
REVEALED_KEY = "checkins_revealed"
REVEALED_MAX = 50


@login_required
@require_POST
def board_contact(request: HttpRequest, slug: str, session_id: Any) -> HttpResponse:
    """A dispatcher reveals a person's phone and address on the board: audited as viewed,
    once per session and sign-in; the board then shows them until the session closes."""
    org = organization_for(request.user, slug=slug, minimum=DISPATCHER)
    session = get_object_or_404(
        Session, pk=session_id, program__organization=org, state__in=OPEN_STATES
    )
    revealed = [str(x) for x in request.session.get(REVEALED_KEY, [])]
    if str(session.pk) not in revealed:
        audit.record(
            action=AuditAction.CHECKIN_CONTACT_VIEWED,
            actor=request.user,
            organization=org,
            obj=session,
            metadata={"where": "board"},
        )
        request.session[REVEALED_KEY] = [*revealed, str(session.pk)][-REVEALED_MAX:]
    return redirect(reverse("checkins-staff:board", kwargs={"slug": org.slug}) + f"#s-{session.pk}")


@login_required
def board_session(request: HttpRequest, slug: str, session_id: Any) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    session = get_object_or_404(Session, pk=session_id, program__organization=org)
    audit.record(
        action=AuditAction.CHECKIN_VIEWED, actor=request.user, organization=org, obj=session
    )
    return render(
        request,
        "checkins/staff/session.html",
        {
            "org": org,
            "session": session,
            "events": Event.objects.filter(session=session),
            "callouts": session.callouts.select_related("responder"),
            "dispatch_outcomes": [(o.value, o.label) for o in services.DISPATCH_OUTCOMES],
        },
    )


@login_required
@require_POST
def board_outcome(request: HttpRequest, slug: str, session_id: Any) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    session = get_object_or_404(Session, pk=session_id, program__organization=org)
    try:
        result = services.dispatcher_outcome(
            session.pk, outcome=request.POST.get("outcome", ""), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        audit.record(
            action=AuditAction.CHECKIN_CLOSED,
            actor=request.user,
            organization=org,
            obj=session,
            metadata={"outcome": request.POST.get("outcome", "")},
        )
        if result == "already-ended":
            messages.info(request, _("This session had already ended."))
        else:
            messages.success(request, _("Session closed."))
    return redirect("checkins-staff:board", slug=org.slug)


@login_required
@require_http_methods(["GET", "POST"])
def board_start(request: HttpRequest, slug: str) -> HttpResponse:
    """An operator starts a session for a caller."""
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    program = _program(org)
    form = OperatorStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.start(
                _start_data(form),
                program=program,
                started_by=request.user,
                source=_source(form.cleaned_data.get("nonce")),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("Session started for %(alias)s.") % {"alias": session.alias}
            )
            return redirect("checkins-staff:board", slug=org.slug)
    return render(request, "checkins/staff/start.html", {"org": org, "form": form})


@login_required
@require_POST
def board_duty(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.PEER_WORKER)
    found = OnDuty.objects.filter(organization=org, user=_user(request))
    if found.exists():
        found.delete()
        messages.success(request, _("You are off duty."))
    else:
        phone = ""
        if request.POST.get("phone"):
            try:
                phone = addresses.normalize_phone(request.POST["phone"])
            except ValueError:
                messages.error(request, _("This is not a mobile number we can text."))
                return redirect("checkins-staff:board", slug=org.slug)
        OnDuty.objects.create(organization=org, user=_user(request), phone=phone)
        messages.success(request, _("You are on duty: you will be told when a session needs you."))
    return redirect("checkins-staff:board", slug=org.slug)


@login_required
@require_http_methods(["GET", "POST"])
def responders(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    form = ResponderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            number = addresses.normalize_phone(form.cleaned_data["phone"])
        except ValueError:
            form.add_error("phone", _("This is not a mobile number we can text."))
        else:
            responder = form.save(commit=False)
            responder.organization = org
            responder.phone = number
            responder.phone_index = services.phone_index(number)
            responder.areas = form.cleaned_data["areas"]
            responder.save()
            audit.record(
                action=AuditAction.RESPONDER_CHANGED, actor=request.user, organization=org,
                obj=responder, metadata={"change": "added"},
            )  # fmt: skip
            messages.success(request, _("Responder added."))
            return redirect("checkins-staff:responders", slug=org.slug)
    return render(
        request,
        "checkins/staff/responders.html",
        {
            "org": org,
            "form": form,
            "responders": Responder.objects.filter(organization=org, active=True).order_by("alias"),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def responder_toggle(request: HttpRequest, slug: str, responder_id: Any) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.COORDINATOR)
    responder = get_object_or_404(Responder, pk=responder_id, organization=org)
    if request.POST.get("action") == "remove":
        responder.active = False
        responder.on_call = False
        responder.save(update_fields=["active", "on_call", "updated_at"])
    else:
        responder.on_call = not responder.on_call
        responder.save(update_fields=["on_call", "updated_at"])
    audit.record(
        action=AuditAction.RESPONDER_CHANGED, actor=request.user, organization=org,
        obj=responder, metadata={"on_call": responder.on_call, "active": responder.active},
    )  # fmt: skip
    return redirect("checkins-staff:responders", slug=org.slug)


@login_required
@require_http_methods(["GET", "POST"])
def program_settings(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    program = _program(org)
    initial = {"areas": program.areas.strip()}
    form = ProgramForm(request.POST or None, instance=program, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record(
            action=AuditAction.CHECKIN_PROGRAM_CHANGED, actor=request.user, organization=org,
            obj=program, metadata={"fields": sorted(form.changed_data)},
        )  # fmt: skip
        messages.success(request, _("Saved."))
        return redirect("checkins-staff:board", slug=org.slug)
    return render(request, "checkins/staff/program.html", {"org": org, "form": form})
