"""Fictional demo referrals: the Bayview Recovery Centre (demo) lists a day program in the
directory; Lighthouse's outreach worker refers clients to it, one referral in each state of
the lifecycle, with consent, messages and notes, spread over the past months so the
service-gap report has something to show. Written through the referral services (so the
audit trail and the timeline are real). Idempotent: nothing is added once the demo clients
exist."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from harbour.accounts.models import Organization, User
from harbour.directory import services as directory_services
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
)
from harbour.referrals import services
from harbour.referrals.lifecycle import Action
from harbour.referrals.models import (
    Client,
    ConsentMethod,
    ContactMethod,
    Purpose,
    Referral,
    SharedField,
)

NAMESPACE = uuid.UUID("3f9a7c1e-52b4-4d0b-a6e8-9c1d2b3a4e5f")


def sid(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(parts))


def _service(bayview: Organization) -> Service:
    provider, _ = DirectoryOrganization.objects.update_or_create(
        id=sid("org", "bayview"),
        defaults={
            "owner": bayview,
            "name_en": "Bayview Recovery Centre (demo)",
            "name_fr": "Centre de rétablissement Bayview (démo)",
        },
    )
    service, _ = Service.objects.update_or_create(
        id=sid("service", "bayview-day"),
        defaults={
            "organization": provider,
            "name_en": "Day recovery program (demo)",
            "name_fr": "Programme de rétablissement de jour (démo)",
            "description_en": "A fictional recovery program for trying Harbour's referrals.",
            "description_fr": "Un programme fictif pour essayer les orientations de Harbour.",
            "status": ServiceStatus.ACTIVE,
            "assured_date": date(2026, 11, 1),
        },
    )
    location, _ = Location.objects.update_or_create(
        id=sid("location", "bayview"),
        defaults={
            "organization": provider,
            "name_en": "Bayview (demo)",
            "name_fr": "Bayview (démo)",
            "latitude": 44.2385,
            "longitude": -76.4800,
            "timezone": "America/Toronto",
            "coordinates_approximate": True,
        },
    )
    Address.objects.update_or_create(
        id=sid("address", "bayview"),
        defaults={
            "location": location,
            "address_1": "2 Demo Street",
            "city": "Kingston",
            "state_province": "ON",
            "postal_code": "K7K 0A0",
        },
    )
    Phone.objects.update_or_create(
        id=sid("phone", "bayview"), defaults={"service": service, "number": "555-0102"}
    )
    sal, _ = ServiceAtLocation.objects.get_or_create(
        id=sid("sal", "bayview"), defaults={"service": service, "location": location}
    )
    if not Schedule.objects.filter(location=location).exists():
        Schedule.objects.create(
            location=location,
            freq="WEEKLY",
            byday="MO,TU,WE,TH,FR",
            opens_at=time(9),
            closes_at=time(16),
        )
    from harbour.directory.models import TaxonomyTerm

    if not TaxonomyTerm.objects.filter(code="recovery.recovery-centres").exists():
        directory_services.taxonomy_load_harbour()
    directory_services.service_set_terms(
        service=service, codes=["recovery.recovery-centres", "barrier.free"]
    )
    directory_services.opening_rows_rebuild(service_at_locations=[sal])
    directory_services.service_reindex(services=[service])
    return service


# (alias, language, path of actions after sending, (reason, note) of the last one, days ago)
STORIES: list[tuple[str, str, list[str], tuple[str, str], int]] = [
    ("Sky (demo)", "en", [], ("", ""), 0),
    ("River (demo)", "fr", [Action.RECEIVE], ("", ""), 3),
    ("Robin (demo)", "en", [Action.ACCEPT], ("", ""), 10),
    ("Jules (demo)", "fr", [Action.ACCEPT, Action.START], ("", ""), 20),
    ("Ash (demo)", "en", [Action.RECEIVE, Action.HOLD], ("waitlist", ""), 25),
    ("Morgan (demo)", "en", [Action.ACCEPT, Action.START, Action.COMPLETE], ("", ""), 40),
    ("Kai (demo)", "en", [Action.ACCEPT, Action.START, Action.COMPLETE], ("", ""), 55),
    ("Rene (demo)", "fr", [Action.ACCEPT, Action.COMPLETE], ("", ""), 70),
    ("Quinn (demo)", "en", [Action.ACCEPT, Action.START, Action.COMPLETE], ("", ""), 85),
    ("Sam (demo)", "en", [Action.ACCEPT, Action.START, Action.COMPLETE], ("", ""), 100),
    ("Lou (demo)", "en", [Action.DECLINE], ("no_capacity", "No beds until next month."), 30),
    ("Dani (demo)", "fr", [Action.DECLINE], ("not_eligible", "Program is for adults 19+."), 45),
    ("Alex (demo)", "en", [Action.ACCEPT, Action.UNSUCCESSFUL], ("no_show", ""), 60),
    ("Charlie (demo)", "en", [Action.REDIRECT], ("better_fit", "Try Riverside's clinic."), 35),
    ("Eden (demo)", "en", [Action.WITHDRAW], ("client_request", ""), 15),
    ("Finn (demo)", "en", [Action.ACCEPT, Action.CANCEL], ("no_longer_needed", ""), 50),
    ("Gray (demo)", "en", [Action.ENTERED_IN_ERROR], ("duplicate", ""), 5),
]
RECEIVER_SIDE = {a for a in Action} - {Action.SEND, Action.WITHDRAW, Action.ENTERED_IN_ERROR}


def _user(email: str) -> User | None:
    return User.objects.filter(email=email).first()


@transaction.atomic
def load() -> int:
    lighthouse = Organization.objects.filter(slug="demo-lighthouse").first()
    bayview = Organization.objects.filter(slug="demo-bayview").first()
    riverside = Organization.objects.filter(slug="demo-riverside").first()
    worker = _user("outreach@lighthouse.demo.harbour.test")
    staff = _user("coordinator@bayview.demo.harbour.test")
    if None in (lighthouse, bayview, riverside, worker, staff):
        return 0
    assert lighthouse and bayview and riverside and worker and staff
    service = _service(bayview)
    if Client.objects.filter(organization=lighthouse, created_by=worker).exists():
        return 0
    now = timezone.now()
    made = 0
    for alias, lang, path, (reason, note), days_ago in STORIES:
        client = services.client_create(
            actor=worker,
            organization=lighthouse,
            data=services.ClientData(
                alias=alias,
                contact_method=ContactMethod.WORKER,
                contact_notes="Through Lighthouse outreach (demo), weekdays.",
                language=lang,
            ),
        )
        services.consent_record(
            actor=worker,
            client=client,
            organizations=[bayview, riverside],
            fields=[SharedField.ALIAS, SharedField.CONTACT, SharedField.LANGUAGE,
                    SharedField.NEEDS],
            purpose=Purpose.REFERRAL,
            method=ConsentMethod.VERBAL,
            valid_until=now + timedelta(days=180),
        )  # fmt: skip
        referral = services.referral_create(
            actor=worker,
            client=client,
            service=service,
            needs="Wants a day program close to downtown (demo).",
            send=True,
        )
        if alias == "Sky (demo)":
            made += 1
            continue  # waiting for Bayview to acknowledge
        for index, action in enumerate(path):
            last = index == len(path) - 1
            referral = services.referral_transition(
                actor=staff if action in RECEIVER_SIDE else worker,
                referral=referral,
                action=action,
                reason_code=reason if last else "",
                note=note if last else "",
                organization=bayview if action in RECEIVER_SIDE else lighthouse,
                redirect_to=riverside if action == Action.REDIRECT else None,
            )
        if alias == "Jules (demo)":
            services.message_post(
                actor=staff,
                referral=referral,
                body="Jules came to the first session today (demo).",
                organization=bayview,
            )
            services.message_post(
                actor=worker,
                referral=referral,
                body="Thank you! I'll see them Thursday (demo).",
                organization=lighthouse,
            )
        _age(referral, days_ago, now)
        made += 1
    draft_client = Client.objects.filter(organization=lighthouse, created_by=worker).first()
    if draft_client is not None:
        services.referral_create(
            actor=worker, client=draft_client, service=service, needs="Draft (demo)."
        )
        made += 1
    publish_past()
    return made


def publish_past() -> int:
    """The gap report's release of the last closed quarter, as the scheduler would make it
    (the demo's referrals go back about three months); returns how many were made."""
    from harbour.core import releases
    from harbour.referrals import gaps

    return int(releases.make(gaps.KIND) is not None)


def _age(referral: Referral, days_ago: int, now: Any) -> None:
    """Move a demo referral back in time, so figures such as time to accept mean something."""
    if not days_ago:
        return
    shift = timedelta(days=days_ago)
    fields: dict[str, Any] = {"created_at": now - shift - timedelta(hours=2)}
    if referral.sent_at:
        fields["sent_at"] = referral.sent_at - shift
        fields["remind_at"] = None
    if referral.acknowledged_at:
        fields["acknowledged_at"] = referral.acknowledged_at - shift + timedelta(hours=20)
    if referral.accepted_at:
        fields["accepted_at"] = referral.accepted_at - shift + timedelta(hours=26)
    if referral.closed_at:
        fields["closed_at"] = referral.closed_at - shift + timedelta(days=6)
    Referral.objects.filter(pk=referral.pk).update(**fields)
    for transition in referral.transitions.all():
        later = timedelta(0) if transition.action == Action.SEND else timedelta(hours=26)
        transition.at = transition.at - shift + later
        transition.save(update_fields=["at"])
