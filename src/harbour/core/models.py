from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID primary key and created/updated times, for every Harbour table."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    """Stable kebab-case names of audited actions. Never rename a value: add a new one."""

    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login-failed", _("Failed sign-in")
    LOGOUT = "logout", _("Signed out")
    PASSWORD_CHANGE = "password-change", _("Password changed")
    PASSWORD_RESET = "password-reset", _("Password reset")
    MFA_ACTIVATE = "mfa-activate", _("Two-factor authentication turned on")
    MFA_DEACTIVATE = "mfa-deactivate", _("Two-factor authentication turned off")
    ORGANIZATION_CREATE = "organization-create", _("Organization created")
    ORGANIZATION_UPDATE = "organization-update", _("Organization updated")
    MEMBER_ADD = "member-add", _("Member added")
    MEMBER_INVITE = "member-invite", _("Member invited")
    INVITATION_ACCEPT = "invitation-accept", _("Invitation accepted")
    INVITATION_REVOKE = "invitation-revoke", _("Invitation revoked")
    MEMBER_ROLE_CHANGE = "member-role-change", _("Member role changed")
    MEMBER_REMOVE = "member-remove", _("Member removed")
    API_KEY_CREATE = "api-key-create", _("API key created")
    API_KEY_REVOKE = "api-key-revoke", _("API key revoked")
    ACCOUNTS_RETENTION_PURGE = (
        "accounts-retention-purge",
        _("Removed accounts made anonymous, old invitations deleted"),
    )
    DIRECTORY_SERVICE_UPDATE = "directory-service-update", _("Listing updated")
    DIRECTORY_IMPORT = "directory-import", _("Directory listings imported from a CSV file")
    DIRECTORY_SUGGESTION_ACCEPT = "directory-suggestion-accept", _("Suggested edit accepted")
    DIRECTORY_SUGGESTION_REJECT = "directory-suggestion-reject", _("Suggested edit rejected")
    DIRECTORY_SERVICE_MERGE = "directory-service-merge", _("Duplicate listings merged")
    DIRECTORY_DUPLICATE_DISMISS = (
        "directory-duplicate-dismiss",
        _("Listings marked as not duplicates"),
    )
    DRUGCHECK_SAMPLE_RECORD = "drugcheck-sample-record", _("Drug-checking sample recorded")
    DRUGCHECK_LAB_CONFIRM = "drugcheck-lab-confirm", _("Lab confirmation recorded")
    DRUGCHECK_IMPORT = "drugcheck-import", _("Drug-checking results imported")
    DRUGCHECK_SAMPLE_CORRECT = "drugcheck-sample-correct", _("Drug-checking sample corrected")
    ALERT_DRAFT = "alert-draft", _("Alert drafted")
    ALERT_SUBMIT = "alert-submit", _("Alert sent for approval")
    ALERT_PUBLISH = "alert-publish", _("Alert published")
    ALERT_WITHDRAW = "alert-withdraw", _("Alert withdrawn")
    ALERT_EDIT = "alert-edit", _("Alert draft edited")
    ALERT_DISCARD = "alert-discard", _("Alert draft discarded")
    REPORT_DISMISS = "report-dismiss", _("Community report dismissed")
    REPORT_ALERT = "report-alert", _("Community report turned into an alert draft")
    REPORT_CONFIRM = "report-confirm", _("Community report confirmed (it counts)")
    ALERT_SETTINGS = "alert-settings", _("Alert and report settings changed")
    CHECKIN_VIEWED = "checkin-viewed", _("Check-in session viewed by staff")
    CHECKIN_CONTACT_VIEWED = (
        "checkin-contact-viewed",
        _("Check-in phone and address viewed by a dispatcher"),
    )
    CHECKIN_CLOSED = "checkin-closed", _("Check-in session closed by a dispatcher")
    RESPONDER_CHANGED = "responder-changed", _("Peer responder added or changed")
    CHECKIN_PROGRAM_CHANGED = "checkin-program-changed", _("Check-in program settings changed")
    # referrals
    REFERRAL_CLIENT_CREATE = "referral-client-create", _("Client recorded")
    REFERRAL_CLIENT_UPDATE = "referral-client-update", _("Client details changed")
    REFERRAL_CLIENT_VIEW = "referral-client-view", _("Client details seen by a partner")
    REFERRAL_CONSENT_RECORD = "referral-consent-record", _("Consent recorded")
    REFERRAL_CONSENT_REVOKE = "referral-consent-revoke", _("Consent revoked")
    REFERRAL_CREATE = "referral-create", _("Referral created")
    REFERRAL_STATUS_CHANGE = "referral-status-change", _("Referral status changed")
    REFERRAL_MESSAGE = "referral-message", _("Referral message or note written")
    REFERRAL_EXPORT = "referral-export", _("Referral exported as FHIR")
    REFERRAL_RECEIVE = "referral-receive", _("Referral received from a partner system")
    REFERRAL_SELF = "referral-self", _("Request to be contacted received")
    REFERRAL_CLIENT_ERASE = "referral-client-erase", _("Client details erased")
    REFERRAL_RETENTION_PURGE = "referral-retention-purge", _("Old client details erased")
    REFERRAL_POLICY_CHANGE = "referral-policy-change", _("Referral retention changed")
    SURVEILLANCE_IMPORT = "surveillance-import", _("Overdose events imported")
    SURVEILLANCE_SETTINGS = "surveillance-settings", _("Spike detection settings changed")
    SIGNAL_DISMISS = "signal-dismiss", _("Signal dismissed")
    SIGNAL_ALERT = "signal-alert", _("Signal turned into an alert draft")
    # outreach
    OUTREACH_ENCOUNTERS_RECORD = "outreach-encounters-record", _("Outreach encounters recorded")
    OUTREACH_RESPONSES_RECORD = "outreach-responses-record", _("Overdose responses recorded")
    OUTREACH_STOCK_CHANGE = "outreach-stock-change", _("Outreach stock received, moved, corrected")
    OUTREACH_KITS_GIVE = "outreach-kits-give", _("Naloxone kits given at a site")
    OUTREACH_TRAINING_RECORD = "outreach-training-record", _("Naloxone training recorded")
    OUTREACH_KIT_USE_REPORT = "outreach-kit-use-report", _("Naloxone kit-use report received")
    OUTREACH_REFILL = "outreach-refill", _("Naloxone refill request handled")
    OUTREACH_SETTINGS = "outreach-settings", _("Outreach settings changed")
    OUTREACH_REPORT_EXPORT = "outreach-report-export", _("Outreach report exported")
    OUTREACH_RECORD_REMOVE = (
        "outreach-record-remove",
        _("Outreach record removed as entered in error"),
    )
    # meetings and mentoring
    MEETING_CREATE = "meeting-create", _("Meeting added")
    MEETING_UPDATE = "meeting-update", _("Meeting changed")
    MEETING_ARCHIVE = "meeting-archive", _("Meeting archived")
    MEETINGS_IMPORT = "meetings-import", _("Meeting Guide feed imported")
    MEETING_SUGGESTION_ACCEPT = "meeting-suggestion-accept", _("Suggested meeting change accepted")
    MEETING_SUGGESTION_REJECT = "meeting-suggestion-reject", _("Suggested meeting change rejected")
    MENTORING_PROGRAM_CHANGE = "mentoring-program-change", _("Mentoring settings changed")
    MENTOR_CHANGE = "mentor-change", _("Peer mentor added or changed")
    MENTOR_REQUEST_CREATE = "mentor-request-create", _("Request for a mentor received")
    MENTOR_REQUEST_CLOSE = "mentor-request-close", _("Request for a mentor closed")
    MENTOR_CONTACT_VIEW = "mentor-contact-view", _("Mentoring contact details viewed")
    MENTOR_MATCH_PROPOSE = "mentor-match-propose", _("Mentoring match proposed")
    MENTOR_MATCH_CONSENT = "mentor-match-consent", _("Mentoring match accepted")
    MENTOR_MATCH_DECLINE = "mentor-match-decline", _("Mentoring match declined")
    MENTOR_MATCH_END = "mentor-match-end", _("Mentoring match ended")
    MENTOR_MATCH_QUIET = "mentor-match-quiet", _("Mentoring match gone quiet")
    MENTOR_CHECKIN_DONE = "mentor-checkin-done", _("Mentoring check-in recorded")
    # public and shared figures
    RELEASE_MAKE = "release-make", _("Figures released")


class AuditEvent(models.Model):
    """One audited change: who did what to which object, when. Append-only.

    ``metadata`` never holds secrets (passwords, tokens, keys) or free-text personal details.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("actor label"), max_length=200, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
    )
    action = models.CharField(_("action"), max_length=64, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    metadata = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.actor_label}"


class WorkerHeartbeat(models.Model):
    """The last time each worker ran the heartbeat task (proves the queue is being worked)."""

    worker = models.CharField(max_length=100, primary_key=True)
    seen_at = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.worker} {self.seen_at:%Y-%m-%d %H:%M:%S}"


class PeriodicRun(models.Model):
    """When each periodic job was last put on the queue (so several workers enqueue it once)."""

    name = models.CharField(max_length=100, primary_key=True)
    last_enqueued_at = models.DateTimeField()

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self) -> str:
        return self.name


class Release(models.Model):
    """Figures published for whole closed periods, computed once and served as stored.

    ``data`` is what public and shared pages show, already suppressed: only strings ("12",
    "<5", "x", "0") and labels, never a hidden count. ``period_end`` is exclusive (the end of
    the last closed period in the release)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.SlugField(_("kind"), max_length=50)
    period_start = models.DateField(_("first day"))
    period_end = models.DateField(_("end (exclusive)"))
    made_at = models.DateTimeField(_("published"))
    data = models.JSONField(_("figures"), default=dict)

    class Meta:
        ordering = ["kind", "-period_end"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_end"], name="core_release_once"),
            models.CheckConstraint(
                condition=models.Q(period_start__lt=models.F("period_end")),
                name="core_release_period_order",
            ),
        ]
        verbose_name = _("release of figures")
        verbose_name_plural = _("releases of figures")

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start}–{self.period_end}"

    @property
    def last_day(self) -> date:
        """The last day the release covers (``period_end`` is exclusive)."""
        return self.period_end - timedelta(days=1)
