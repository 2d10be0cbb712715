"""Never use alone: timed check-in sessions, the people who answer when someone does not
(their own contacts and volunteer peer responders), and every step with its time.

The database is the state machine (DESIGN.md, "Timed work"): a session's ``state`` and
``due_at`` say what happens next and when; the worker's clock claims due sessions and advances
them with a compare-and-set on ``version``, in one transaction with the messages it queues.
Where people are (address, device position, access notes) is encrypted and purged a few hours
after the session ends."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel
from harbour.notify.crypto import EncryptedTextField

# a program may keep where people were for at most three days after a session ends
PURGE_HOURS_MAX = 72


class Program(BaseModel):
    """A community's check-in service, run by one organization, with its escalation ladder."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="checkin_program"
    )
    enabled = models.BooleanField(_("taking check-ins"), default=True)
    # sessions with no postal area (e.g. started by text message) go to the default program
    is_default = models.BooleanField(_("default program"), default=False)
    areas = models.CharField(_("postal areas served"), max_length=400, blank=True)
    grace_seconds = models.PositiveIntegerField(
        _("seconds to answer the prompt before help is called"), default=60
    )
    accept_seconds = models.PositiveIntegerField(
        _("seconds for a responder to accept before the dispatcher is alerted"), default=120
    )
    arrival_seconds = models.PositiveIntegerField(
        _("seconds for a responder to arrive before the dispatcher is alerted"), default=900
    )
    purge_hours = models.PositiveIntegerField(
        _("hours after a session ends before its location is erased"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(PURGE_HOURS_MAX)],
    )
    crisis_line = models.CharField(_("crisis line shown to people"), max_length=40, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purge_hours__gte=1, purge_hours__lte=PURGE_HOURS_MAX),
                name="checkin_purge_hours_bounded",
            )
        ]
        verbose_name = _("check-in program")
        verbose_name_plural = _("check-in programs")

    def __str__(self) -> str:
        return f"check-ins by {self.organization_id}"


class Responder(BaseModel):
    """A volunteer peer responder. No account: they answer by text message or a private link."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="checkin_responders"
    )
    alias = models.CharField(_("name they go by"), max_length=60)
    phone = EncryptedTextField(_("mobile number"))
    phone_index = models.CharField(max_length=40, db_index=True)
    lang = models.CharField(_("language"), max_length=5, default="en")
    naloxone_trained_until = models.DateField(_("naloxone training valid until"), null=True)
    areas = models.CharField(_("postal areas they cover"), max_length=400, blank=True)
    on_call = models.BooleanField(_("on call now"), default=False)
    training = models.BooleanField(
        _("training responder (gets training sessions only)"), default=False
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("peer responder")
        verbose_name_plural = _("peer responders")

    def __str__(self) -> str:
        return self.alias


class State(models.TextChoices):
    ACTIVE = "active", _("Timer running")
    PROMPTED = "prompted", _("Asked if they are all right")
    CALLING = "calling", _("Calling responders")
    ASSIGNED = "assigned", _("Responder on the way")
    ON_SCENE = "on_scene", _("Responder with them")
    DISPATCH = "dispatch", _("Needs the dispatcher")
    ENDED = "ended", _("Ended")


OPEN_STATES = [State.ACTIVE, State.PROMPTED, State.CALLING, State.ASSIGNED, State.ON_SCENE,
               State.DISPATCH]  # fmt: skip
TIMED_STATES = [State.ACTIVE, State.PROMPTED, State.CALLING, State.ASSIGNED]


class Outcome(models.TextChoices):
    OK = "ok", _("They said they were all right")
    ENDED_BY_PERSON = "ended", _("They ended the session")
    RESPONDER_OK = "responder_ok", _("Responder found them okay")
    NALOXONE = "naloxone", _("Naloxone given")
    EMS_CALLED = "ems", _("Emergency services called")
    REACHED_BY_PHONE = "phone", _("Reached by phone")
    FALSE_ALARM = "false_alarm", _("False alarm")
    OTHER = "other", _("Other")
    CLOSED_BY_CLOCK = "clock", _("Closed automatically: open too long")


class Via(models.TextChoices):
    WEB = "web", _("the web page")
    SMS = "sms", _("a text from their own phone")
    OPERATOR = "operator", _("an operator")


class Route(models.TextChoices):
    SMOKE = "smoke", _("Smoking")
    INJECT = "inject", _("Injecting")
    SNORT = "snort", _("Snorting")
    SWALLOW = "swallow", _("Swallowing")
    OTHER = "other", _("Other")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Session(BaseModel):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="sessions")
    # the person's private page (/checkin/s/<token>/): whoever holds the link can answer
    token = models.CharField(max_length=40, unique=True, default=new_token)
    alias = models.CharField(_("what should we call you?"), max_length=40)
    phone = EncryptedTextField(_("mobile number"), blank=True)
    phone_index = models.CharField(max_length=40, blank=True, db_index=True)
    push = EncryptedTextField(blank=True)
    lang = models.CharField(max_length=5, default="en")
    # where they are: encrypted, erased ``purge_hours`` after the session ends
    address = EncryptedTextField(_("where are you?"), blank=True)
    position = EncryptedTextField(blank=True)  # "lat,lng" rounded to 5 decimals, from the device
    access_notes = EncryptedTextField(_("how to get in (buzzer, door, floor)"), blank=True)
    fsa = models.CharField(_("postal area"), max_length=3, blank=True)  # coarse, for matching
    substance = models.CharField(_("what are you using? (optional)"), max_length=80, blank=True)
    route = models.CharField(_("how? (optional)"), max_length=10, choices=Route.choices, blank=True)
    contacts = EncryptedTextField(blank=True)  # the person's own contacts, one number per line
    # how it was started, and whether the number was proven to be theirs: a session started on
    # the web calls no contact and no responder until the person confirms their number (the
    # code texted to it, typed on their page, or any reply from that phone)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.WEB)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_hash = models.CharField(max_length=40, blank=True)
    confirm_tries = models.PositiveSmallIntegerField(default=0)
    minutes = models.PositiveSmallIntegerField(default=10)
    training = models.BooleanField(default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    due_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    naloxone_doses = models.PositiveSmallIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    prompted_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    responder = models.ForeignKey(
        "Callout", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["program", "state"]),
        ]
        verbose_name = _("check-in session")
        verbose_name_plural = _("check-in sessions")

    def __str__(self) -> str:
        return f"{self.alias} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CalloutStatus(models.TextChoices):
    ASKED = "asked", _("Asked")
    ACCEPTED = "accepted", _("Going")
    ARRIVED = "arrived", _("With them")
    DONE = "done", _("Done")
    STOOD_DOWN = "stood_down", _("Not needed")


class Callout(BaseModel):
    """One person asked to go: a registered responder or one of the person's own contacts."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="callouts")
    responder = models.ForeignKey(
        Responder, null=True, blank=True, on_delete=models.SET_NULL, related_name="callouts"
    )
    phone = EncryptedTextField()
    phone_index = models.CharField(max_length=40, db_index=True)
    lang = models.CharField(max_length=5, default="en")
    token = models.CharField(max_length=40, unique=True, default=new_token)
    status = models.CharField(
        max_length=10, choices=CalloutStatus.choices, default=CalloutStatus.ASKED
    )
    asked_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    naloxone_doses = models.PositiveSmallIntegerField(null=True, blank=True)
    debrief = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("call-out")
        verbose_name_plural = _("call-outs")

    def __str__(self) -> str:
        return f"call-out {self.status}"


class Step(models.TextChoices):
    STARTED = "started", _("Started")
    OK = "ok", _("Said they are all right")
    EXTENDED = "extended", _("Added time")
    PROMPTED = "prompted", _("Asked if they are all right")
    ESCALATED = "escalated", _("Called responders")
    ACCEPTED = "accepted", _("A responder is going")
    ARRIVED = "arrived", _("Responder arrived")
    DISPATCH = "dispatch", _("Dispatcher alerted")
    ENDED = "ended", _("Ended")
    IGNORED = "ignored", _("Reply after the end")


class Event(models.Model):
    """What happened to a session, when; for timed steps, also when it was due (lateness)."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    step = models.CharField(max_length=10, choices=Step.choices)
    at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    by = models.CharField(max_length=20, blank=True)  # person, responder, dispatcher, clock
    # an inbound message id or a form's nonce: the same reply twice is recorded once
    source = models.CharField(max_length=80, null=True, blank=True, unique=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # each timed step fires once per session version: a second worker cannot repeat it
            models.UniqueConstraint(
                fields=["session", "step", "due_at"],
                condition=models.Q(by="clock"),
                name="timed_step_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.step} at {self.at:%H:%M:%S}"


class OnDuty(BaseModel):
    """A staff member watching the dispatcher view, to be told when a session needs a person
    and when the check-in worker falls behind."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    phone = EncryptedTextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="on_duty_once")
        ]

    def __str__(self) -> str:
        return f"on duty {self.user_id}"


class WatchdogNotice(models.Model):
    """One notice per worker stall, sent by the watchdog (not the worker)."""

    id = models.BigAutoField(primary_key=True)
    started_at = models.DateTimeField(unique=True)
    sent_at = models.DateTimeField()
    lag_seconds = models.FloatField()
    recovered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"worker behind {self.lag_seconds:.0f}s"
