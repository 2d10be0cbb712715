"""Every write to alerts: draft, submit, approve (a second person), publish with fan-out to the
subscribers of the alert's areas, withdraw, expire; subscriptions by text message (JOIN), by
email (double opt-in, one-click signed unsubscribe); drafts from dangerous samples."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from harbour.alerts import images
from harbour.alerts.models import (
    OPEN,
    Alert,
    AlertPolicy,
    AlertStatus,
    CommunityReport,
    ReportKind,
    ReportStatus,
    Severity,
    Subscription,
    tr,
)
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import org_ids, require_role
from harbour.core.roles import Role
from harbour.core.views import absolute_url
from harbour.notify import addresses
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index

FSA = re.compile(r"^[A-Z][0-9][A-Z]$")
EVERYWHERE = " * "
CONFIRM_SALT = "alerts-confirm"
CONFIRM_DAYS = 7  # the confirmation link's life; an unconfirmed address is deleted after it
UNSUBSCRIBE_SALT = "alerts-unsubscribe"


def parse_areas(raw: str | list[str]) -> list[str]:
    """Postal areas (FSA, e.g. K7L) from text or a list; ValidationError on anything else."""
    items = raw if isinstance(raw, list) else re.split(r"[\s,;]+", raw)
    areas = []
    for item in items:
        code = item.strip().upper()[:3] if item.strip() else ""
        if not code:
            continue
        if not FSA.match(code):
            raise ValidationError(
                _("“%(value)s” is not a postal area: use the first three characters, like K7L."),
                params={"value": item.strip()},
            )
        areas.append(code)
    return list(dict.fromkeys(areas))


def _padded(areas: list[str]) -> str:
    return f" {' '.join(areas)} " if areas else EVERYWHERE


def local_time(moment: datetime, lang: str) -> str:
    """A moment as people read it in an alert: Harbour's local time (``TIME_ZONE``), in
    words of ``lang`` ("2 December 2026, 14:00"; "2 décembre 2026, 14 h 00"), never UTC."""
    from django.utils import formats

    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    with translation.override(lang):
        return formats.date_format(local, "j F Y, H:i" if lang == "en" else "j F Y, H \\h i")


def second_approval(organization: Any) -> bool:
    policy = AlertPolicy.objects.filter(organization=organization).first()
    return True if policy is None else policy.second_approval


# --- alerts -----------------------------------------------------------------------------------


def _fill(
    alert: Alert,
    *,
    title_en: str,
    body_en: str,
    areas: list[str],
    area_description_en: str,
    valid_until: datetime,
    title_fr: str = "",
    body_fr: str = "",
    appearance_en: str = "",
    appearance_fr: str = "",
    area_description_fr: str = "",
    severity: str = Severity.SEVERE,
) -> None:
    """Set an alert's public texts (English and French) and reach; ValidationError, field by
    field, on anything that cannot go out."""
    texts = {
        "title_en": title_en.strip(),
        "title_fr": title_fr.strip() or None,
        "body_en": body_en.strip(),
        "body_fr": body_fr.strip() or None,
        "appearance_en": appearance_en.strip(),
        "appearance_fr": appearance_fr.strip() or None,
        "area_description_en": area_description_en.strip(),
        "area_description_fr": area_description_fr.strip() or None,
    }
    for name, value in texts.items():  # modeltranslation's fields, one per language
        setattr(alert, name, value)
    alert.severity = severity
    alert.areas = _padded(parse_areas(areas))
    alert.valid_until = valid_until
    missing = {
        name: _("Write it in English (the French can follow).")
        for name in ("title_en", "body_en", "area_description_en")
        if not getattr(alert, name)
    }
    if missing:
        raise ValidationError(missing)
    alert.full_clean(
        exclude=["organization", "created_by", "approved_by", "source_sample"],
        validate_constraints=False,
    )
    if valid_until <= timezone.now():
        raise ValidationError({"valid_until": _("An alert must be valid for some time to come.")})


@transaction.atomic
def alert_draft(
    *,
    actor: Any,
    organization: Any,
    title_en: str,
    body_en: str,
    areas: list[str],
    area_description_en: str,
    valid_until: datetime,
    title_fr: str = "",
    body_fr: str = "",
    appearance_en: str = "",
    appearance_fr: str = "",
    area_description_fr: str = "",
    severity: str = Severity.SEVERE,
    substances: list[Any] | None = None,
    source_sample: Any = None,
) -> Alert:
    """Outreach workers and above draft; nothing goes out until it is published."""
    if actor is not None:
        require_role(actor, organization.pk, Role.OUTREACH_WORKER)
    alert = Alert(
        organization=organization,
        created_by=actor if getattr(actor, "is_user", False) else None,
        source_sample=source_sample,
    )
    _fill(
        alert, title_en=title_en, title_fr=title_fr, body_en=body_en, body_fr=body_fr,
        appearance_en=appearance_en, appearance_fr=appearance_fr, severity=severity, areas=areas,
        area_description_en=area_description_en, area_description_fr=area_description_fr,
        valid_until=valid_until,
    )  # fmt: skip
    alert.save()
    if substances:
        alert.substances.set(substances)
    audit.record(
        action=AuditAction.ALERT_DRAFT,
        actor=actor,
        organization=organization,
        obj=alert,
        label="" if actor is not None else "drug checking",
        metadata={"from_sample": bool(source_sample)},
    )
    return alert


EDITABLE = (
    "title_en", "title_fr", "body_en", "body_fr", "appearance_en", "appearance_fr", "severity",
    "areas", "area_description_en", "area_description_fr", "valid_until",
)  # fmt: skip


@transaction.atomic
def alert_edit(
    *,
    alert: Alert,
    actor: Any,
    title_en: str,
    body_en: str,
    areas: list[str],
    area_description_en: str,
    valid_until: datetime,
    title_fr: str = "",
    body_fr: str = "",
    appearance_en: str = "",
    appearance_fr: str = "",
    area_description_fr: str = "",
    severity: str = Severity.SEVERE,
) -> Alert:
    """Change a draft's texts (both languages), severity, areas or end; only a draft changes
    (one waiting for approval goes back to draft first: :func:`alert_to_draft`)."""
    if actor is not None:
        require_role(actor, alert.organization_id, Role.OUTREACH_WORKER)
    locked = Alert.objects.select_for_update().defer("photo").get(pk=alert.pk)
    if locked.status != AlertStatus.DRAFT:
        raise ValidationError(_("Only a draft can be changed."))
    before = {name: getattr(locked, name) for name in EDITABLE}
    _fill(
        locked, title_en=title_en, title_fr=title_fr, body_en=body_en, body_fr=body_fr,
        appearance_en=appearance_en, appearance_fr=appearance_fr, severity=severity, areas=areas,
        area_description_en=area_description_en, area_description_fr=area_description_fr,
        valid_until=valid_until,
    )  # fmt: skip
    changed = [name for name in EDITABLE if getattr(locked, name) != before[name]]
    if changed:
        locked.save(update_fields=[*EDITABLE, "updated_at"])
        audit.record(
            action=AuditAction.ALERT_EDIT, actor=actor, organization_id=locked.organization_id,
            obj=locked, label="" if actor is not None else "drug checking",
            metadata={"fields": changed},
        )  # fmt: skip
    return locked


@transaction.atomic
def alert_to_draft(*, alert: Alert, actor: Any) -> Alert:
    """An alert waiting for a second person goes back to draft, to be changed."""
    require_role(actor, alert.organization_id, Role.OUTREACH_WORKER)
    locked = Alert.objects.select_for_update().defer("photo").get(pk=alert.pk)
    if locked.status != AlertStatus.PENDING:
        raise ValidationError(_("Only an alert waiting for approval goes back to draft."))
    locked.status = AlertStatus.DRAFT
    locked.save(update_fields=["status", "updated_at"])
    audit.record(
        action=AuditAction.ALERT_EDIT, actor=actor, organization_id=locked.organization_id,
        obj=locked, metadata={"status": "draft"},
    )  # fmt: skip
    return locked


@transaction.atomic
def alert_discard(*, alert: Alert, actor: Any) -> Alert:
    """Throw away a draft (or one waiting for approval): it is kept for the audit log, listed
    nowhere and never sent."""
    require_role(actor, alert.organization_id, Role.OUTREACH_WORKER)
    locked = Alert.objects.select_for_update().defer("photo").get(pk=alert.pk)
    if locked.status not in OPEN:
        raise ValidationError(_("Only a draft can be discarded; withdraw a published alert."))
    before = locked.status
    locked.status = AlertStatus.DISCARDED
    locked.discarded_at = timezone.now()
    locked.save(update_fields=["status", "discarded_at", "updated_at"])
    audit.record(
        action=AuditAction.ALERT_DISCARD, actor=actor, organization_id=locked.organization_id,
        obj=locked, metadata={"was": before},
    )  # fmt: skip
    return locked


PHOTO_ERRORS = {
    "not-an-image": gettext_lazy("The photo must be a JPEG or PNG picture."),
    "too-large": gettext_lazy("The photo is too large: at most 1.5 MB."),
    "too-big": gettext_lazy(
        "The photo is too big: at most 8000 pixels a side and 40 million pixels in all."
    ),
    "broken": gettext_lazy("The photo file is damaged or not a picture."),
}


@transaction.atomic
def alert_photo_set(
    *, alert: Alert, actor: Any, data: bytes, alt_en: str, alt_fr: str = ""
) -> Alert:
    """Add (or replace) a draft's photo, without its metadata (where and when it was taken, the
    phone's make). Needs words for people who cannot see it."""
    require_role(actor, alert.organization_id, Role.OUTREACH_WORKER)
    current = Alert.objects.select_for_update().filter(pk=alert.pk).values_list("status", flat=True)
    if current.first() != AlertStatus.DRAFT:
        raise ValidationError({"photo": _("Only a draft's photo can change.")})
    if not alt_en.strip():
        raise ValidationError(
            {
                "photo_alt_en": _(
                    "Say in a few words what the photo shows, for people who cannot see it."
                )
            }
        )
    try:
        image = images.clean(data)
    except images.ImageRejected as exc:
        raise ValidationError({"photo": PHOTO_ERRORS[exc.code]}) from exc
    Alert.objects.filter(pk=alert.pk).update(
        photo=image.data, photo_type=image.content_type, photo_width=image.width,
        photo_height=image.height, photo_alt_en=alt_en.strip()[:200],
        photo_alt_fr=alt_fr.strip()[:200] or None, updated_at=timezone.now(),
    )  # fmt: skip
    audit.record(
        action=AuditAction.ALERT_DRAFT, actor=actor, organization=alert.organization, obj=alert,
        metadata={"photo": image.content_type, "bytes": len(image.data)},
    )  # fmt: skip
    alert.refresh_from_db()
    return alert


@transaction.atomic
def alert_submit(*, alert: Alert, actor: Any) -> Alert:
    """Send for approval, or publish at once where the organization needs no second person."""
    require_role(actor, alert.organization_id, Role.OUTREACH_WORKER)
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != AlertStatus.DRAFT:
        raise ValidationError(_("Only a draft can be submitted."))
    if second_approval(alert.organization):
        alert.status = AlertStatus.PENDING
        alert.save(update_fields=["status", "updated_at"])
        audit.record(
            action=AuditAction.ALERT_SUBMIT, actor=actor, organization_id=alert.organization_id,
            obj=alert,
        )  # fmt: skip
        return alert
    require_role(actor, alert.organization_id, Role.COORDINATOR)
    return _publish(alert, actor)


@transaction.atomic
def alert_approve(*, alert: Alert, actor: Any) -> Alert:
    """A coordinator who did not write it approves; the alert is published and sent."""
    require_role(actor, alert.organization_id, Role.COORDINATOR)
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != AlertStatus.PENDING:
        raise ValidationError(_("Only an alert waiting for approval can be approved."))
    if alert.created_by_id is not None and alert.created_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("A second person must approve an alert you wrote."))
    return _publish(alert, actor)


def _publish(alert: Alert, actor: Any) -> Alert:
    if alert.valid_until <= timezone.now():
        raise ValidationError({"valid_until": _("This alert has already expired.")})
    alert.status = AlertStatus.PUBLISHED
    alert.approved_by = actor if getattr(actor, "is_user", False) else None
    alert.published_at = timezone.now()
    alert.save(update_fields=["status", "approved_by", "published_at", "updated_at"])
    sent = fan_out(alert)
    audit.record(
        action=AuditAction.ALERT_PUBLISH,
        actor=actor,
        organization_id=alert.organization_id,
        obj=alert,
        metadata={"messages": sent},
    )
    return alert


@transaction.atomic
def alert_withdraw(*, alert: Alert, actor: Any) -> Alert:
    require_role(actor, alert.organization_id, Role.COORDINATOR)
    current = Alert.objects.select_for_update().filter(pk=alert.pk).values_list("status", flat=True)
    if current.first() != AlertStatus.PUBLISHED:
        raise ValidationError(_("Only a published alert can be withdrawn."))
    Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.WITHDRAWN)
    alert.status = AlertStatus.WITHDRAWN
    audit.record(
        action=AuditAction.ALERT_WITHDRAW, actor=actor, organization_id=alert.organization_id,
        obj=alert,
    )  # fmt: skip
    return alert


def subscribers_of(alert: Alert) -> Any:
    match = Q(areas=EVERYWHERE)
    if alert.areas.strip() != "*":
        for area in alert.area_list:
            match |= Q(areas__contains=f" {area} ")
    else:
        match = Q()
    return Subscription.objects.filter(match, confirmed=True)


CHANNELS = ("sms", "email", "push")


def reach(alert: Alert) -> dict[str, int]:
    """How many confirmed subscriptions the alert would go to, by channel, with ``total``
    (each is one person's phone, address or browser). For staff deciding to send."""
    from django.db.models import Count

    counts = {channel: 0 for channel in CHANNELS}
    for row in subscribers_of(alert).order_by().values("channel").annotate(n=Count("pk")):
        counts[row["channel"]] = row["n"]
    counts["total"] = sum(counts[channel] for channel in CHANNELS)
    return counts


@dataclass(frozen=True)
class Preview:
    lang: str
    sms: str
    sms_size: Any
    email_subject: str
    email_body: str
    push_title: str
    push_body: str


def preview(alert: Alert, lang: str) -> Preview:
    """The alert as each channel will send it in ``lang``: the text message (with its length,
    parts and encoding), the email and the push notification. The unsubscribe link is a
    sample one (each subscriber gets their own)."""
    from harbour.alerts import sms

    sample = Subscription(channel="sms", lang=lang)
    title, text, _link = _texts(alert, lang, sample)
    sample = Subscription(channel="email", lang=lang)
    _title, email, _link = _texts(alert, lang, sample)
    return Preview(
        lang=lang, sms=text, sms_size=sms.size(text), email_subject=f"Harbour: {title}",
        email_body=email, push_title=title, push_body=email,
    )  # fmt: skip


def _texts(alert: Alert, lang: str, subscription: Subscription) -> tuple[str, str, str]:
    with translation.override(lang):
        title = tr(alert, "title", lang)
        body = tr(alert, "body", lang)
        link = absolute_url("alerts:detail", alert_id=alert.pk)
        if subscription.channel == "sms":
            text = _("Harbour drug alert: %(title)s. %(body)s") % {"title": title, "body": body}
            text = f"{text[:480]} {link} " + _("Reply STOP to stop.")
            return title, text, ""
        unsubscribe = absolute_url(
            "alerts:unsubscribe", token=signing.dumps(str(subscription.pk), salt=UNSUBSCRIBE_SALT)
        )
        email = f"{body}\n\n{link}\n\n" + _("Stop these alerts: %(link)s") % {"link": unsubscribe}
        return title, email, unsubscribe


def fan_out(alert: Alert) -> int:
    """One message per confirmed subscriber of the alert's areas, in their language, queued in
    this transaction with keys ``alert:<id>:sub:<id>:<channel>`` (publishing twice sends once)."""
    items = []
    for subscription in subscribers_of(alert).iterator(chunk_size=2000):
        lang = subscription.lang if subscription.lang in ("en", "fr") else "en"
        title, text, unsubscribe_link = _texts(alert, lang, subscription)
        items.append(
            notify.Outgoing(
                key=f"alert:{alert.pk}:sub:{subscription.pk}:{subscription.channel}",
                channel=subscription.channel,
                to=subscription.recipient,
                subject=f"Harbour: {title}" if subscription.channel == "email" else title,
                body=text,
                lang=lang,
                unsubscribe_url=unsubscribe_link,
            )
        )
    return notify.enqueue_many(items)


# --- subscriptions ----------------------------------------------------------------------------


def _index(channel: str, recipient: str) -> str:
    return blind_index(recipient, kind=f"alerts-{channel}")


@transaction.atomic
def subscribe_sms(*, phone: str, areas: list[str], lang: str = "en") -> Subscription:
    """Texting JOIN is the consent: confirmed at once. Joining again adds areas."""
    number = addresses.normalize_phone(phone)
    notify.opt_in(channel="sms", recipient=number)
    found = Subscription.objects.filter(channel="sms", recipient_index=_index("sms", number))
    subscription = found.select_for_update().first()
    if subscription is None:
        return Subscription.objects.create(
            channel="sms",
            recipient=number,
            recipient_index=_index("sms", number),
            areas=_padded(areas),
            lang=lang,
            confirmed=True,
        )
    current = [] if subscription.areas == EVERYWHERE else subscription.areas.split()
    subscription.areas = _padded(list(dict.fromkeys(current + areas)) if areas else [])
    subscription.lang = lang
    subscription.save(update_fields=["areas", "lang", "updated_at"])
    return subscription


def push_endpoint_allowed(endpoint: str) -> bool:
    """Whether Harbour may post to this web-push endpoint: https on the default port, no user
    or password, and a host name in ``WEBPUSH_ALLOWED_HOSTS`` (the browsers' push services).
    An IP address is never allowed, so no endpoint can point Harbour at a private, loopback or
    link-local address (or the cloud's metadata service). Names are not resolved: the
    allow-list holds only the push services' own domains."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme != "https" or parts.username is not None or parts.password is not None:
        return False
    if port not in (None, 443) or not host or "%" in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return False
    for allowed in settings.WEBPUSH_ALLOWED_HOSTS:
        allowed = allowed.strip().lower()
        if allowed.startswith(".") and host.endswith(allowed) and len(host) > len(allowed):
            return True
        if host == allowed:
            return True
    return False


@transaction.atomic
def subscribe_push(
    *, subscription: dict[str, Any], areas: list[str], lang: str = "en"
) -> Subscription:
    """A browser's push subscription; granting the permission is the consent. Its endpoint must
    be one of the push services' (:func:`push_endpoint_allowed`): ValidationError otherwise."""
    import json

    if not push_endpoint_allowed(str(subscription.get("endpoint", ""))):
        raise ValidationError(
            {"endpoint": _("This push service is not one Harbour sends to.")}, code="invalid"
        )
    recipient = json.dumps(subscription, sort_keys=True)
    index = _index("push", str(subscription["endpoint"]))
    found, _created = Subscription.objects.update_or_create(
        channel="push",
        recipient_index=index,
        defaults={"recipient": recipient, "areas": _padded(areas), "lang": lang, "confirmed": True},
    )
    notify.opt_in(channel="push", recipient=recipient)
    return found


def unsubscribe_phone(phone: str) -> int:
    """STOP: every subscription of that number ends (notify calls this)."""
    number = addresses.normalize_phone(phone)
    deleted, _rows = Subscription.objects.filter(
        channel="sms", recipient_index=_index("sms", number)
    ).delete()
    return deleted


@transaction.atomic
def subscribe_email(*, email: str, areas: list[str], lang: str = "en") -> Subscription:
    """Double opt-in: the subscription waits until the link in the email is followed. Asking
    again for the same address sends the link again (nothing says whether it was known)."""
    address = addresses.normalize_email(email)
    subscription = Subscription.objects.filter(
        channel="email", recipient_index=_index("email", address)
    ).first()
    if subscription is None:
        subscription = Subscription.objects.create(
            channel="email",
            recipient=address,
            recipient_index=_index("email", address),
            areas=_padded(areas),
            lang=lang,
        )
    elif not subscription.confirmed:
        subscription.areas = _padded(areas)
        subscription.lang = lang
        subscription.save(update_fields=["areas", "lang", "updated_at"])
    token = signing.dumps(str(subscription.pk), salt=CONFIRM_SALT)
    with translation.override(lang):
        notify.enqueue(
            key=f"alerts:confirm:{subscription.pk}:{timezone.now():%Y%m%d%H}",
            channel="email",
            to=address,
            subject=_("Harbour: confirm your drug alerts"),
            body=_(
                "Someone (we hope you) asked for Harbour drug alerts at this address for: "
                "%(areas)s.\n\nConfirm: %(link)s\n\nIf it was not you, ignore this email."
            )
            % {
                "areas": subscription.areas.strip() if subscription.areas != EVERYWHERE else "*",
                "link": absolute_url("alerts:confirm", token=token),
            },
            lang=lang,
        )
    return subscription


def confirm_email(
    token: str, *, max_age: timedelta = timedelta(days=CONFIRM_DAYS)
) -> Subscription | None:
    try:
        pk = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    subscription = Subscription.objects.filter(pk=pk, channel="email").first()
    if subscription is not None and not subscription.confirmed:
        subscription.confirmed = True
        subscription.save(update_fields=["confirmed", "updated_at"])
    return subscription


def subscriptions_purge(*, now: datetime | None = None) -> int:
    """Delete email subscriptions never confirmed once their last confirmation link has expired
    (the address was only ever kept to send that link). Ended subscriptions are deleted at
    once (``unsubscribe``, STOP), leaving only ``notify.OptOut``'s blind index. The
    ``alerts.purge-subscriptions`` job; idempotent. Returns how many were deleted."""
    now = now or timezone.now()
    deleted, _rows = Subscription.objects.filter(
        channel="email", confirmed=False, updated_at__lt=now - timedelta(days=CONFIRM_DAYS)
    ).delete()
    return deleted


def unsubscribe(token: str) -> bool:
    """One click from any alert email; the link never expires."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return False
    Subscription.objects.filter(pk=pk).delete()
    return True


def sms_join(*, sender: str, text: str, message_id: str) -> str:
    """``JOIN K7L`` (or ``JOIN K7L K7K``): alerts for those postal areas by text message."""
    lang = "fr" if text.strip().lower().startswith("fr") else "en"
    words = text.replace("fr ", " ", 1) if lang == "fr" else text
    with translation.override(lang):
        try:
            areas = parse_areas(words)
        except ValidationError:
            return _("Send JOIN and a postal area, e.g. JOIN K7L. Reply STOP to stop.")
        if not areas:
            return _("Send JOIN and a postal area, e.g. JOIN K7L. Reply STOP to stop.")
        subscribe_sms(phone=sender, areas=areas, lang=lang)
        return _("Harbour: you will get drug alerts for %(areas)s. Reply STOP to stop.") % {
            "areas": ", ".join(areas)
        }


def sms_language(lang: str) -> Any:
    def handler(*, sender: str, text: str, message_id: str) -> str:
        number = addresses.normalize_phone(sender)
        Subscription.objects.filter(channel="sms", recipient_index=_index("sms", number)).update(
            lang=lang
        )
        with translation.override(lang):
            return (
                _("Harbour: alerts will be in English.")
                if lang == "en"
                else _("Harbour : les alertes seront en français.")
            )

    return handler


# --- drafts from dangerous samples ------------------------------------------------------------


def draft_from_sample(sample: Any) -> Alert | None:
    """A sample holding a high-risk substance it was not bought as drafts an alert for review
    (never published by itself). Called by drug checking after a sample is recorded, and again
    when a lab confirms it: a sample has at most one open alert (a draft, or one waiting for
    approval). Recorded again with the same substances, nothing changes; with others, its
    draft is updated (a draft waiting for approval, or an alert already out, is left as it is
    while it names every substance found)."""
    from harbour.drugcheck.models import HIGH_RISK, Match

    found = [
        c.substance
        for c in sample.components.select_related("substance")
        if c.match == Match.MATCH and c.substance is not None
    ]
    expected = sample.expected_substance
    risky = list(
        {
            s.pk: s
            for s in found
            if s.substance_class in HIGH_RISK
            and (expected is None or s.pk != expected.pk)
            and not (expected is not None and expected.substance_class == s.substance_class)
        }.values()
    )
    if not risky:
        return None
    names_en = ", ".join(dict.fromkeys(str(s.name_en) for s in risky))
    names_fr = ", ".join(dict.fromkeys(str(s.name_fr or s.name_en) for s in risky))
    bought = sample.expected or "?"
    texts: dict[str, Any] = {
        "title_en": f"{names_en} found in {bought}"[:140],
        "title_fr": f"{names_fr} trouvé dans « {bought} »"[:140],
        "body_en": (
            f"Drug checking found {names_en} in a sample sold as {bought}"
            f"{' in ' + sample.city if sample.city else ''}. Use less, go slow, don't use alone, "
            "carry naloxone."
        ),
        "body_fr": (
            f"L’analyse a trouvé {names_fr} dans un échantillon vendu comme « {bought} »"
            f"{' à ' + sample.city if sample.city else ''}. Consommez moins, allez-y lentement, "
            "ne consommez pas seul·e, ayez de la naloxone."
        ),
        "areas": [sample.fsa] if sample.fsa else [],
        "area_description_en": sample.city or sample.site,
        "area_description_fr": sample.city or sample.site,
        "valid_until": timezone.now() + timedelta(days=7),
        "severity": Severity.SEVERE,
    }
    wanted = {s.pk for s in risky}
    with transaction.atomic():
        earlier = (
            Alert.objects.select_for_update()
            .defer("photo")
            .filter(source_sample=sample)
            .exclude(status=AlertStatus.DISCARDED)
            .prefetch_related("substances")
            .order_by("-created_at")
        )
        for alert in earlier:
            named = {s.pk for s in alert.substances.all()}
            if wanted <= named:
                return alert  # already drafted (or out) for these substances
            if alert.status == AlertStatus.DRAFT:
                alert = alert_edit(alert=alert, actor=None, **texts)
                alert.substances.set(risky)
                return alert
            if alert.status == AlertStatus.PENDING:
                return alert  # the second person sees it; a new finding waits for their word
        return alert_draft(
            actor=None, organization=sample.organization, substances=risky,
            source_sample=sample, **texts,
        )  # fmt: skip


# --- anonymous community reports --------------------------------------------------------------

REPORT_HOOKS: list[Callable[[CommunityReport], Any]] = []


def on_report_changed(hook: Callable[[CommunityReport], Any]) -> None:
    """Other apps react to a community report's review (surveillance counts a confirmed
    overdose report, and stops counting it when it is dismissed). Runs in the same transaction.
    A new report is not passed on: nobody has looked at it yet, so it counts nowhere."""
    REPORT_HOOKS.append(hook)


def route_report(fsa: str) -> Any:
    """Which organization reviews a report from a postal area: the one whose alert policy lists
    that area (the most local one: fewest areas, then the organization that has been on Harbour
    longest); else None, and the report waits, seen by nobody, until an organization's admin
    claims the area (:func:`report_areas_save`)."""
    if not fsa:
        return None
    policies = [
        p
        for p in AlertPolicy.objects.filter(
            organization__is_active=True, report_areas__contains=f" {fsa} "
        ).select_related("organization")
        if fsa in p.report_area_list()
    ]
    if not policies:
        return None
    best = min(policies, key=lambda p: (len(p.report_area_list()), p.organization.created_at))
    return best.organization


def _coarse(moment: datetime, source: str) -> datetime:
    """A report's stored time: the start of its hour (web form), or of its day in Harbour's
    time zone (text message: the acknowledgement goes out at once, and the exact hour of a text
    is too close to its provider's and phone company's records)."""
    if source == "sms":
        zone = ZoneInfo(settings.TIME_ZONE)
        local = datetime.combine(moment.astimezone(zone).date(), time(0), zone)
        return local.astimezone(UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def report_create(
    *,
    kind: str,
    what_happened: str,
    sold_as: str = "",
    looks_like: str = "",
    city: str = "",
    fsa: str = "",
    happened_on: Any = None,
    source: str = "web",
) -> CommunityReport | None:
    """Keep an anonymous report for review by the organization serving its area. The same text
    again within a day (a double submit, or a flood) is not kept twice: returns None. Its times
    are stored rounded down (see CommunityReport)."""
    text = " ".join(what_happened.split())[:1000]
    since = timezone.now() - timedelta(days=2)
    if CommunityReport.objects.filter(what_happened=text, created_at__gte=since).exists():
        return None
    area = (parse_areas(fsa) or [""])[0] if fsa.strip() else ""
    report = CommunityReport(
        kind=kind,
        what_happened=text,
        sold_as=sold_as.strip()[:120],
        looks_like=looks_like.strip()[:200],
        city=city.strip()[:120],
        fsa=area,
        happened_on=happened_on,
        source=source,
        organization=route_report(area),
    )
    report.full_clean(exclude=["reviewed_by", "alert", "organization"])
    with transaction.atomic():
        report.save()
        when = _coarse(report.created_at, source)
        CommunityReport.objects.filter(pk=report.pk).update(created_at=when, updated_at=when)
        report.created_at = report.updated_at = when
    return report


def sms_report(*, sender: str, text: str, message_id: str) -> str:
    """``REPORT <what happened>``: kept without the number it came from, and with only the day
    it came in."""
    if len(text.strip()) < 5:
        return _("Send REPORT and what happened, e.g. REPORT purple down, people falling out, K7L.")
    areas = re.findall(r"\b[A-Za-z][0-9][A-Za-z]\b", text)
    kept = report_create(
        kind=ReportKind.OTHER, what_happened=text, fsa=areas[0] if areas else "", source="sms"
    )
    if kept is not None and kept.organization_id is None:
        return _(
            "Thank you. No local team on Harbour reads reports from there yet: add a postal "
            "area, e.g. K7L. It is anonymous. Someone at risk now: call 9-1-1."
        )
    return _("Thank you. Staff will look at your report. It is anonymous.")


def report_queue(actor: Any, *, organization: Any) -> Any:
    """Reports routed to ``organization`` that wait for review, for its coordinators only
    (anyone else: none, and so a 404 for each report)."""
    if organization is None or organization.pk not in org_ids(actor, Role.COORDINATOR):
        return CommunityReport.objects.none()
    return CommunityReport.objects.filter(status=ReportStatus.NEW, organization=organization)


def _review(report: CommunityReport, actor: Any, organization: Any) -> CommunityReport:
    """The report, locked, if it waits for review by ``organization`` and ``actor`` coordinates
    there; PermissionDenied otherwise (another organization's report, whatever its id)."""
    require_role(actor, organization.pk, Role.COORDINATOR)
    locked = CommunityReport.objects.select_for_update().filter(pk=report.pk).first()
    if locked is None or locked.organization_id != organization.pk:
        raise PermissionDenied(_("This report is not for your organization."))
    if locked.status != ReportStatus.NEW:
        raise ValidationError(_("This report has already been reviewed."))
    return locked


def _reviewed(report: CommunityReport, **changes: Any) -> None:
    CommunityReport.objects.filter(pk=report.pk).update(**changes)
    for name, value in changes.items():
        setattr(report, name, value)
    for hook in REPORT_HOOKS:
        hook(report)


@transaction.atomic
def report_confirm(*, report: CommunityReport, actor: Any, organization: Any) -> None:
    """A coordinator of the area judged the report real: from now on it counts (an overdose
    report becomes an event in the figures and in spike detection)."""
    found = _review(report, actor, organization)
    _reviewed(found, status=ReportStatus.CONFIRMED, reviewed_by=actor)
    audit.record(
        action=AuditAction.REPORT_CONFIRM, actor=actor, organization=organization, obj=found
    )


@transaction.atomic
def report_dismiss(*, report: CommunityReport, actor: Any, organization: Any) -> None:
    found = _review(report, actor, organization)
    _reviewed(found, status=ReportStatus.DISMISSED, reviewed_by=actor)
    audit.record(
        action=AuditAction.REPORT_DISMISS, actor=actor, organization=organization, obj=found
    )


@transaction.atomic
def report_to_alert(*, report: CommunityReport, actor: Any, organization: Any) -> Alert:
    """A coordinator turns a report into an alert draft of their organization (still reviewed
    before it goes out). The report counts from then on, as a confirmed one does."""
    found = _review(report, actor, organization)
    title = found.sold_as or found.get_kind_display()
    alert = alert_draft(
        actor=actor,
        organization=organization,
        title_en=f"Community report: {title}"[:140],
        title_fr=f"Signalement : {title}"[:140],
        body_en=found.what_happened,
        appearance_en=found.looks_like,
        areas=[found.fsa] if found.fsa else [],
        area_description_en=found.city or found.fsa or str(organization.name),
        valid_until=timezone.now() + timedelta(days=3),
        severity=Severity.MODERATE,
    )
    _reviewed(found, status=ReportStatus.ALERTED, reviewed_by=actor, alert=alert)
    audit.record(
        action=AuditAction.REPORT_ALERT, actor=actor, organization=organization, obj=found,
        metadata={"alert": str(alert.pk)},
    )  # fmt: skip
    return alert


@transaction.atomic
def report_areas_save(*, actor: Any, organization: Any, areas: str | list[str]) -> AlertPolicy:
    """An organization's admin says which postal areas' community reports it reviews. Reports
    from those areas that wait for nobody (no organization served the area when they came)
    are routed again; reports already routed stay where they are."""
    require_role(actor, organization.pk, Role.ORG_ADMIN)
    codes = parse_areas(areas)
    policy, _created = AlertPolicy.objects.select_for_update().get_or_create(
        organization=organization
    )
    before = policy.report_area_list()
    policy.report_areas = f" {' '.join(codes)} " if codes else ""
    policy.save(update_fields=["report_areas"])
    waiting = CommunityReport.objects.filter(
        status=ReportStatus.NEW, organization__isnull=True, fsa__in=codes
    )
    routed = 0
    for found in waiting.select_for_update():
        target = route_report(found.fsa)
        if target is not None:
            CommunityReport.objects.filter(pk=found.pk).update(organization=target)
            routed += 1
    audit.record(
        action=AuditAction.ALERT_SETTINGS, actor=actor, organization=organization, obj=policy,
        metadata={"report_areas": codes, "before": before, "routed": routed},
    )  # fmt: skip
    return policy
