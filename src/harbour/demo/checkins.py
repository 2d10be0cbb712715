"""Fictional demo check-ins: the demo organization runs the program for Kingston, with three
peer responders (one in training) and a month of ended sessions for the figures."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from harbour.accounts.models import Organization
from harbour.checkins.models import Outcome, Program, Responder, Session, State
from harbour.checkins.services import phone_index

RESPONDERS = [
    ("Jo (demo)", "+16135550161", " K7L K7K ", False),
    ("Ren (demo)", "+16135550162", "", False),
    ("Trainee (demo)", "+16135550163", "", True),
]


@transaction.atomic
def load() -> int:
    org = Organization.objects.filter(slug="demo-lighthouse").first()
    if org is None or Program.objects.filter(organization=org).exists():
        return 0
    program = Program.objects.create(
        organization=org, is_default=True, areas=" K7L K7K K7M ", crisis_line="1-888-688-6677"
    )
    for alias, phone, areas, training in RESPONDERS:
        Responder.objects.create(
            organization=org, alias=alias, phone=phone, phone_index=phone_index(phone),
            areas=areas, on_call=True, training=training,
            naloxone_trained_until=date.today() + timedelta(days=200),
        )  # fmt: skip
    rng = random.Random(7)  # noqa: S311 - fictional figures
    now = timezone.now()
    outcomes = [Outcome.OK] * 30 + [Outcome.ENDED_BY_PERSON] * 12 + [Outcome.RESPONDER_OK] * 4
    outcomes += [Outcome.NALOXONE, Outcome.REACHED_BY_PHONE, Outcome.FALSE_ALARM]
    sessions = []
    for outcome in outcomes:
        started = now - timedelta(days=rng.uniform(1, 29))
        escalated = outcome in {Outcome.RESPONDER_OK, Outcome.NALOXONE}
        sessions.append(
            Session(
                program=program, alias="Demo", lang="en", minutes=rng.choice([10, 15, 20]),
                state=State.ENDED, outcome=outcome, started_at=started,
                escalated_at=started + timedelta(minutes=11) if escalated else None,
                accepted_at=started + timedelta(minutes=12, seconds=rng.randint(5, 90))
                if escalated else None,
                arrived_at=started + timedelta(minutes=rng.randint(18, 26)) if escalated else None,
                dispatched_at=started + timedelta(minutes=14)
                if outcome in {Outcome.REACHED_BY_PHONE, Outcome.FALSE_ALARM} else None,
                ended_at=started + timedelta(minutes=30), purged_at=started + timedelta(days=1),
            )
        )  # fmt: skip
    Session.objects.bulk_create(sessions)
    return len(sessions)
