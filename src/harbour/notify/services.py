"""Sending and receiving: enqueue a message (idempotent, in the caller's transaction), deliver
due messages with leases, retries and backoff, record provider callbacks, and route inbound
text messages to the app that owns their keyword (STOP always wins)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from harbour.notify import addresses, crypto, senders
from harbour.notify.models import Channel, Message, OptOut, Status

log = logging.getLogger(__name__)


def lease(*, urgent: bool = False) -> timedelta:
    """How long a worker may hold a message it is sending before another takes it over. Urgent
    messages (check-in prompts and call-outs) are claimed a few at a time on a short lease, so a
    killed worker delays them seconds, not minutes."""
    if urgent:
        return timedelta(seconds=float(getattr(settings, "NOTIFY_URGENT_LEASE_SECONDS", 10)))
    return timedelta(seconds=float(getattr(settings, "NOTIFY_LEASE_SECONDS", 120)))


MAX_ATTEMPTS = 8
STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "arret", "arrêt"}
START_WORDS = {"start", "unstop", "yes", "debut", "début"}
HELP_WORDS = {"help", "info", "aide"}


def recipient_index(channel: str, recipient: str) -> str:
    return crypto.blind_index(recipient, kind=channel)


def is_opted_out(channel: str, recipient: str) -> bool:
    return OptOut.objects.filter(
        channel=channel, recipient_index=recipient_index(channel, recipient)
    ).exists()


def opt_out(*, channel: str, recipient: str, reason: str) -> None:
    OptOut.objects.get_or_create(
        channel=channel,
        recipient_index=recipient_index(channel, recipient),
        defaults={"reason": reason},
    )


def opt_in(*, channel: str, recipient: str) -> None:
    OptOut.objects.filter(
        channel=channel, recipient_index=recipient_index(channel, recipient)
    ).delete()


def enqueue(
    *,
    key: str,
    channel: str,
    to: str,
    body: str,
    subject: str = "",
    lang: str = "en",
    urgent: bool = False,
    unsubscribe_url: str = "",
    ephemeral: bool = False,
) -> Message:
    """Queue one message. The same ``key`` again returns the message already queued (so a
    retried caller never sends twice). An opted-out recipient gets a cancelled message: the
    outbox accounts for every message asked for. Delivery starts when the transaction commits.
    An ``ephemeral`` message (a reply to an inbound text) loses its recipient and text as soon
    as it is final."""
    recipient = addresses.normalize(channel, to)
    existing = Message.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    cancelled = is_opted_out(channel, recipient)
    message = Message.objects.create(
        idempotency_key=key,
        channel=channel,
        recipient=recipient,
        recipient_index=recipient_index(channel, recipient),
        subject=subject[:200],
        unsubscribe_url=unsubscribe_url[:500],
        body=body,
        lang=lang,
        urgent=urgent,
        ephemeral=ephemeral,
        status=Status.CANCELLED if cancelled else Status.QUEUED,
        next_attempt_at=None if cancelled else timezone.now(),
    )
    if cancelled and ephemeral:
        _erase_ephemeral([message.pk])
    if not cancelled and not urgent:
        # urgent messages are sent by the worker's clock within half a second (and by the
        # sweep if no clock runs): no delivery task is needed for them
        transaction.on_commit(_kick)
    return message


@dataclass
class Outgoing:
    key: str
    channel: str
    to: str
    body: str
    subject: str = ""
    lang: str = "en"
    unsubscribe_url: str = ""


def enqueue_many(items: list[Outgoing], *, batch_size: int = 1000) -> int:
    """``enqueue`` for a fan-out: one INSERT per batch; keys already queued are skipped (so
    publishing twice queues once). Returns how many messages were queued to be sent."""
    if not items:
        return 0
    now = timezone.now()
    opted: dict[str, set[str]] = {}
    queued = 0
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        existing = set(
            Message.objects.filter(idempotency_key__in=[i.key for i in chunk]).values_list(
                "idempotency_key", flat=True
            )
        )
        rows = []
        for item in chunk:
            if item.key in existing:
                continue
            recipient = addresses.normalize(item.channel, item.to)
            index = recipient_index(item.channel, recipient)
            rows.append((item, recipient, index))
        for channel in {item.channel for item, _r, _i in rows}:
            indexes = [i for item, _r, i in rows if item.channel == channel]
            opted.setdefault(channel, set()).update(
                OptOut.objects.filter(channel=channel, recipient_index__in=indexes).values_list(
                    "recipient_index", flat=True
                )
            )
        messages = []
        for item, recipient, index in rows:
            cancelled = index in opted.get(item.channel, set())
            queued += not cancelled
            messages.append(
                Message(
                    idempotency_key=item.key,
                    channel=item.channel,
                    recipient=recipient,
                    recipient_index=index,
                    subject=item.subject[:200],
                    unsubscribe_url=item.unsubscribe_url[:500],
                    body=item.body,
                    lang=item.lang,
                    status=Status.CANCELLED if cancelled else Status.QUEUED,
                    next_attempt_at=None if cancelled else now,
                )
            )
        Message.objects.bulk_create(messages, ignore_conflicts=True)
    if queued:
        transaction.on_commit(_kick)
    return queued


def _kick() -> None:
    from harbour.notify.tasks import deliver

    try:
        deliver.enqueue()
    except Exception:  # the 30-second sweep delivers anyway
        log.exception("could not enqueue a delivery run")


def _bookkeeping() -> None:
    """In a transaction on PostgreSQL: commit without waiting for the disk flush. Only for
    delivery bookkeeping (claims and statuses): one lost in a database crash means a message is
    sent once more, with the same idempotency token (text), Message-ID (email) or Topic (push),
    while a flush per message would cost several milliseconds each."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _claim(limit: int, now: datetime, owner: str, *, urgent: bool) -> list[Message]:
    """Lease up to ``limit`` due messages to this delivery run, in one short transaction."""
    # Two queries, each a range of the (urgent, status, next_attempt_at) index: an OR of the two
    # made both databases read every queued row and sort them on each claim (100,000 queued
    # messages: the fan-out slowed down as it went).
    with transaction.atomic():
        _bookkeeping()
        base = Message.objects.filter(urgent=urgent)
        expired = base.filter(status=Status.SENDING, lease_until__lt=now)
        queued = base.filter(status=Status.QUEUED, next_attempt_at__lte=now)
        if connection.vendor == "postgresql":
            expired = expired.select_for_update(skip_locked=True)
            queued = queued.select_for_update(skip_locked=True)
        claimed = list(expired.order_by("next_attempt_at")[:limit])
        if len(claimed) < limit:
            claimed += list(queued.order_by("next_attempt_at")[: limit - len(claimed)])
        if claimed:
            Message.objects.filter(pk__in=[m.pk for m in claimed]).update(
                status=Status.SENDING, lease_until=now + lease(urgent=urgent), lease_owner=owner
            )
    return claimed


@dataclass
class Limiter:
    """At most ``per_second`` sends (0: no limit), spaced evenly, in this worker."""

    per_second: float
    next_at: float = 0.0

    def wait(self) -> None:
        if self.per_second <= 0:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + 1 / self.per_second


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


URGENT_BATCH = 20


def deliver_due(*, limit: int = 200, status_callback: str = "", urgent_only: bool = False) -> int:
    """Send what is due, urgent messages first; returns how many were handed to a provider.
    Safe to run in several workers at once (leases; on PostgreSQL also SKIP LOCKED)."""
    now = timezone.now()
    owner = uuid.uuid4().hex
    urgent = True
    batch = _claim(min(limit, URGENT_BATCH), now, owner, urgent=True)
    if not batch and not urgent_only:
        urgent = False
        batch = _claim(limit, now, owner, urgent=False)
    if not batch:
        return 0
    safe_until = time.monotonic() + lease(urgent=urgent).total_seconds() / 2
    limiters = {
        Channel.SMS: Limiter(float(getattr(settings, "NOTIFY_SMS_PER_SECOND", 0) or 0)),
        Channel.EMAIL: Limiter(float(getattr(settings, "NOTIFY_EMAIL_PER_SECOND", 0) or 0)),
        Channel.PUSH: Limiter(0),
    }
    opted = set(
        OptOut.objects.filter(recipient_index__in={m.recipient_index for m in batch}).values_list(
            "channel", "recipient_index"
        )
    )
    mail = None
    sent = 0
    texted: list[tuple[Message, str]] = []
    try:
        for message in batch:
            if (message.channel, message.recipient_index) in opted:
                _finish(message, status=Status.CANCELLED)
                continue
            limiters[Channel(message.channel)].wait()
            # Within the first half of the lease the message is ours for sure; after that, a run
            # slower than its lease may have lost it to another: check, and renew, before sending.
            if time.monotonic() > safe_until and not Message.objects.filter(
                pk=message.pk, status=Status.SENDING, lease_owner=owner
            ).update(lease_until=timezone.now() + lease(urgent=urgent)):
                continue
            try:
                if message.channel == Channel.SMS:
                    provider_id = senders.send_sms(message, status_callback=status_callback)
                elif message.channel == Channel.EMAIL:
                    if mail is None:
                        mail = get_connection()
                        mail.open()
                    provider_id = senders.send_email(message, connection=mail)
                else:
                    provider_id = senders.send_push(message)
            except senders.SendError as exc:
                _failed(message, exc)
                continue
            if message.channel == Channel.SMS:
                # texts carry Twilio's idempotency token, so their status is written in small
                # batches: a text resent after a crash before the write is dropped by Twilio
                texted.append((message, provider_id))
                if len(texted) >= SMS_STATUS_BATCH:
                    _sent_many(texted)
                    texted = []
            else:
                _finish(message, status=Status.SENT, provider_id=provider_id)
            sent += 1
    finally:
        _sent_many(texted)
        if mail is not None:
            mail.close()
    return sent


SMS_STATUS_BATCH = 25


def _sent_many(rows: list[tuple[Message, str]]) -> None:
    """``_finish(..., status=SENT)`` for several messages in one statement and transaction."""
    if not rows:
        return
    now = timezone.now()
    table = connection.ops.quote_name(Message._meta.db_table)
    pk = Message._meta.pk
    sent_at = Message._meta.get_field("sent_at")
    assert pk is not None
    when = sent_at.get_db_prep_value(now, connection)
    with transaction.atomic(), connection.cursor() as cursor:
        _bookkeeping()
        cursor.executemany(
            f"UPDATE {table} SET status = %s, provider_id = %s, attempts = attempts + 1, "  # noqa: S608 -- names from the model, values as parameters
            "lease_until = NULL, lease_owner = '', sent_at = %s, error = '' WHERE id = %s",
            [
                (Status.SENT.value, provider_id[:100], when,
                 pk.get_db_prep_value(message.pk, connection))
                for message, provider_id in rows
            ],
        )  # fmt: skip
    _erase_ephemeral([message.pk for message, _id in rows if message.ephemeral])


def _finish(message: Message, *, status: str, provider_id: str = "") -> None:
    now = timezone.now()
    with transaction.atomic():
        _bookkeeping()
        Message.objects.filter(pk=message.pk).update(
            status=status,
            provider_id=provider_id[:100],
            attempts=message.attempts + 1,
            lease_until=None,
            lease_owner="",
            sent_at=now if status == Status.SENT else None,
            error="",
        )
    if message.ephemeral:
        _erase_ephemeral([message.pk])


def _failed(message: Message, error: senders.SendError) -> None:
    attempts = message.attempts + 1
    give_up = error.permanent or attempts >= MAX_ATTEMPTS
    if error.opt_out:
        opt_out(channel=message.channel, recipient=message.recipient, reason=error.opt_out)
    Message.objects.filter(pk=message.pk).update(
        status=Status.FAILED if give_up else Status.QUEUED,
        attempts=attempts,
        lease_until=None,
        next_attempt_at=None if give_up else timezone.now() + _backoff(attempts),
        error=str(error)[:300],
    )
    if give_up and message.ephemeral:
        _erase_ephemeral([message.pk])


# --- provider callbacks -----------------------------------------------------------------------

TWILIO_FINAL = {
    "delivered": Status.DELIVERED,
    "undelivered": Status.FAILED,
    "failed": Status.FAILED,
}


def sms_status(*, provider_id: str, status: str, error_code: str = "") -> bool:
    """Twilio's delivery report. Returns False when no message has this id."""
    message = Message.objects.filter(provider_id=provider_id, channel=Channel.SMS).first()
    if message is None:
        return False
    changes: dict[str, Any] = {"provider_status": status[:40]}
    if status in TWILIO_FINAL:
        changes["status"] = TWILIO_FINAL[status]
        if status == "delivered":
            changes["delivered_at"] = timezone.now()
        elif error_code:
            changes["error"] = f"twilio {error_code}"
            reason = senders.TWILIO_OPT_OUT.get(int(error_code) if error_code.isdigit() else 0)
            if reason and message.recipient:  # an erased reply no longer knows its number
                opt_out(channel=Channel.SMS, recipient=message.recipient, reason=reason)
    Message.objects.filter(pk=message.pk).update(**changes)
    return True


# --- inbound text messages --------------------------------------------------------------------

Handler = Callable[..., str]
KEYWORDS: dict[str, Handler] = {}
STOP_HOOKS: list[Callable[[str], object]] = []
FALLBACKS: list[Handler] = []


def register_keyword(word: str, handler: Handler) -> None:
    """``handler(sender=..., text=..., message_id=...)`` returns the reply ("" for none)."""
    KEYWORDS[word.lower()] = handler


def register_fallback(handler: Handler) -> None:
    """For HELP and words no app registered: ``handler(sender=..., text=..., message_id=...)``
    answers when the number is in the middle of something it owns (e.g. a check-in, in that
    person's language), or returns "" to let the next one, then the general help, answer."""
    FALLBACKS.append(handler)


def on_stop(hook: Callable[[str], object]) -> None:
    """Apps that keep their own subscriptions by phone number end them on STOP."""
    STOP_HOOKS.append(hook)


def help_text(lang: str = "en") -> str:
    if lang == "fr":
        return (
            "Harbour : alertes sur les drogues et aide. Répondez STOP pour ne plus rien recevoir, "
            "START pour reprendre. Urgence : 9-1-1."
        )
    return (
        "Harbour: drug alerts and help. Reply STOP to receive nothing more, START to resume. "
        "Emergency: 9-1-1."
    )


def inbound_reply_key(message_id: str) -> str:
    """The outbox key of the reply to one inbound text: the same id gives the same key (a
    retried webhook replies once); the key does not show the id."""
    return f"inbound:{crypto.blind_index(message_id, kind='inbound-sms')[:32]}:reply"


@transaction.atomic
def inbound_sms(*, sender: str, text: str, message_id: str) -> str:
    """Route one inbound text. STOP (and its synonyms) always wins and ends every message to
    that number; START resumes; HELP answers; other first words go to the app that registered
    them. The reply is queued through the outbox, once: Twilio retries webhooks, so the reply's
    key is a keyed hash of the inbound message's id (never the id itself, which the provider's
    logs tie to the number and which an app may have kept next to what the text said, e.g. an
    anonymous REPORT). The reply is ephemeral: its number and text are blanked as soon as it
    is final."""
    number = addresses.normalize_phone(sender)
    words = text.strip().split(None, 1)
    first = words[0].lower().strip(".!") if words else ""
    rest = words[1] if len(words) > 1 else ""
    lang = "fr" if first in {"arret", "arrêt", "aide", "debut", "début"} else "en"
    if first in STOP_WORDS:
        opt_out(channel=Channel.SMS, recipient=number, reason="stop")
        Message.objects.filter(
            channel=Channel.SMS,
            recipient_index=recipient_index(Channel.SMS, number),
            status__in=[Status.QUEUED, Status.SENDING],
        ).update(status=Status.CANCELLED, lease_until=None)
        for hook in STOP_HOOKS:
            hook(number)
        # the carrier sends its own STOP confirmation; Harbour sends nothing more
        return ""
    if first in START_WORDS:
        opt_in(channel=Channel.SMS, recipient=number)
        reply = (
            "Harbour : les messages reprennent. Répondez STOP pour arrêter."
            if lang == "fr"
            else "Harbour: messages resume. Reply STOP to stop."
        )
    elif first in KEYWORDS:
        reply = KEYWORDS[first](sender=number, text=rest, message_id=message_id)
    else:
        reply = ""
        for fallback in FALLBACKS:
            reply = fallback(sender=number, text=text, message_id=message_id)
            if reply:
                break
        reply = reply or help_text(lang)
    if reply and not is_opted_out(Channel.SMS, number):
        enqueue(
            key=inbound_reply_key(message_id),
            channel=Channel.SMS,
            to=number,
            body=reply,
            ephemeral=True,
        )
    return reply


# --- retention ----------------------------------------------------------------------------------

FINAL = [Status.SENT, Status.DELIVERED, Status.FAILED, Status.CANCELLED]
ERASED: dict[str, Any] = {
    "recipient": "",
    "recipient_index": "",
    "subject": "",
    "unsubscribe_url": "",
    "body": "",
    "provider_id": "",
    "provider_status": "",
    "error": "",
}


def _erase_ephemeral(ids: list[Any]) -> None:
    """A final reply to an inbound text keeps nothing of whom it went to or what it said; its
    provider id stays (for the delivery report) until the retention run blanks it too."""
    if ids:
        Message.objects.filter(pk__in=ids, status__in=FINAL).update(
            recipient="", recipient_index="", body="", subject="", error=""
        )


def keep_for(*, urgent: bool) -> timedelta:
    """How long a final message keeps its recipient and text, from when it was queued."""
    if urgent:
        return timedelta(hours=float(getattr(settings, "NOTIFY_KEEP_URGENT_HOURS", 24)))
    return timedelta(days=float(getattr(settings, "NOTIFY_KEEP_DAYS", 7)))


def messages_expire(now: datetime | None = None, *, batch: int = 1000) -> int:
    """The retention run (every 10 minutes): blank the recipient, blind index, subject, text,
    unsubscribe link, provider id and status, and error of every final message older than its
    retention (``keep_for``). Returns how many were erased."""
    now = now or timezone.now()
    erased = 0
    for urgent in (True, False):
        cutoff = now - keep_for(urgent=urgent)
        while True:
            ids = list(
                Message.objects.filter(
                    erased_at__isnull=True, created_at__lte=cutoff, urgent=urgent,
                    status__in=FINAL,
                ).values_list("pk", flat=True)[:batch]
            )  # fmt: skip
            if not ids:
                break
            with transaction.atomic():
                erased += Message.objects.filter(pk__in=ids).update(**ERASED, erased_at=now)
    return erased


@transaction.atomic
def messages_erase(
    *,
    key_prefix: str = "",
    key_prefixes: tuple[str, ...] | list[str] = (),
    channel: str = "",
    recipient: str = "",
    now: datetime | None = None,
) -> int:
    """Erase now what an app's purge erases: every message whose key starts with one of the
    prefixes (e.g. ``checkin:<session id>:``), and/or, with ``channel`` and ``recipient``, every
    message to that address (with a prefix too: only those). Messages not yet sent are
    cancelled first, so nothing about a purged record leaves Harbour afterwards. Returns how
    many were erased."""
    prefixes = [p for p in (key_prefix, *key_prefixes) if p]
    if not prefixes and not recipient:
        raise ValueError("messages_erase needs a key prefix or a recipient")
    now = now or timezone.now()
    found = Message.objects.all()
    if prefixes:
        match = Q()
        for prefix in prefixes:
            match |= Q(idempotency_key__startswith=prefix)
        found = found.filter(match)
    if recipient:
        normalized = addresses.normalize(channel, recipient)
        found = found.filter(channel=channel, recipient_index=recipient_index(channel, normalized))
    ids = list(found.values_list("pk", flat=True))
    if not ids:
        return 0
    Message.objects.filter(pk__in=ids, status__in=[Status.QUEUED, Status.SENDING]).update(
        status=Status.CANCELLED, lease_until=None, lease_owner="", next_attempt_at=None
    )
    return Message.objects.filter(pk__in=ids).update(**ERASED, erased_at=now)
