from __future__ import annotations

import uuid

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
    DIRECTORY_SERVICE_UPDATE = "directory-service-update", _("Listing updated")
    DIRECTORY_SUGGESTION_ACCEPT = "directory-suggestion-accept", _("Suggested edit accepted")
    DIRECTORY_SUGGESTION_REJECT = "directory-suggestion-reject", _("Suggested edit rejected")
    DRUGCHECK_SAMPLE_RECORD = "drugcheck-sample-record", _("Drug-checking sample recorded")
    DRUGCHECK_LAB_CONFIRM = "drugcheck-lab-confirm", _("Lab confirmation recorded")
    DRUGCHECK_IMPORT = "drugcheck-import", _("Drug-checking results imported")
    ALERT_DRAFT = "alert-draft", _("Alert drafted")
    ALERT_SUBMIT = "alert-submit", _("Alert sent for approval")
    ALERT_PUBLISH = "alert-publish", _("Alert published")
    ALERT_WITHDRAW = "alert-withdraw", _("Alert withdrawn")
    REPORT_DISMISS = "report-dismiss", _("Community report dismissed")
    REPORT_ALERT = "report-alert", _("Community report turned into an alert draft")
    CHECKIN_VIEWED = "checkin-viewed", _("Check-in session opened by staff")
    CHECKIN_CLOSED = "checkin-closed", _("Check-in session closed by a dispatcher")
    RESPONDER_CHANGED = "responder-changed", _("Peer responder added or changed")
    CHECKIN_PROGRAM_CHANGED = "checkin-program-changed", _("Check-in program settings changed")
    SURVEILLANCE_IMPORT = "surveillance-import", _("Overdose events imported")
    SURVEILLANCE_SETTINGS = "surveillance-settings", _("Spike detection settings changed")
    SIGNAL_DISMISS = "signal-dismiss", _("Signal dismissed")
    SIGNAL_ALERT = "signal-alert", _("Signal turned into an alert draft")


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
