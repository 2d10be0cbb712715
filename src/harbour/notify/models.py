"""The outbox: every message Harbour sends, with an idempotency key, its delivery state and the
provider's id; and the opt-outs (STOP, bounces, invalid numbers, expired push subscriptions)
that every send checks first. Recipients and bodies are encrypted at rest; recipients are found
by blind index. Once final, a message's recipient and text are blanked after a retention time
(``NOTIFY_KEEP_DAYS``, ``NOTIFY_KEEP_URGENT_HOURS``; replies to inbound texts at once), or
sooner when the app that sent it purges what it was about."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel
from harbour.notify.crypto import EncryptedTextField


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")
    PUSH = "push", _("Push notification")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Not sent (opted out)")


class Message(BaseModel):
    # e.g. "alert:<id>:sub:<id>:sms": the same key twice is the same message, sent once
    idempotency_key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = EncryptedTextField()
    recipient_index = models.CharField(max_length=40, db_index=True)
    subject = models.CharField(max_length=200, blank=True)
    # emails to subscribers: the signed one-click unsubscribe link (List-Unsubscribe, RFC 8058)
    unsubscribe_url = models.CharField(max_length=500, blank=True)
    body = EncryptedTextField()
    lang = models.CharField(max_length=5, default="en")
    # check-in prompts and call-outs: sent before anything else, on a short lease
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # while a worker sends, the message is leased to it; an expired lease means the worker died
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=32, blank=True)  # the delivery run holding it
    provider_id = models.CharField(max_length=100, blank=True, db_index=True)
    provider_status = models.CharField(max_length=40, blank=True)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # a reply to an inbound text: its recipient and text are blanked as soon as it is final
    ephemeral = models.BooleanField(default=False)
    # when the recipient, text, subject, provider id and error were blanked (retention, or the
    # owning app's purge); the row stays so the outbox still accounts for every message
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # what a delivery run claims, urgent first, by due time (services._claim): one partial
        # index each, as Django writes ``urgent=False`` as ``NOT urgent``, which no index on the
        # column itself can serve as a range
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(urgent=True),
                name="notify_due_urgent",
            ),
            models.Index(
                fields=["status", "next_attempt_at"], condition=Q(urgent=False), name="notify_due"
            ),
            # what the retention run erases next (services.messages_expire)
            models.Index(
                fields=["created_at"], condition=Q(erased_at__isnull=True), name="notify_to_erase"
            ),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.channel} {self.status} {self.idempotency_key}"


class OptOut(BaseModel):
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient_index = models.CharField(max_length=40)
    reason = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "recipient_index"], name="one_opt_out")
        ]
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")

    def __str__(self) -> str:
        return f"{self.channel} opt-out ({self.reason})"
