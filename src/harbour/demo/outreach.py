"""Fictional demo outreach: two demo organizations (Kingston, Montréal) with mobile teams and
sites, named spots, stock with naloxone lots (one about to expire), three months of
plausible encounters and overdose responses logged through the same services as the street
app, naloxone training sessions and a few anonymous "I used a kit" reports. Idempotent: an
organization that already has outreach teams is left as it is."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from harbour.accounts.models import Organization, User
from harbour.outreach import services
from harbour.outreach.models import Team

DAYS = 90
NAMESPACE = uuid.UUID("6f0c7d52-8a57-4cf3-9a39-5d1e3a6c0e11")


@dataclass(frozen=True)
class DemoProgram:
    slug: str
    areas: tuple[str, ...]
    teams: tuple[tuple[str, str, str], ...]  # name, kind, usual postal area
    spots: tuple[tuple[str, str], ...]
    per_day: int  # encounters on an ordinary day


PROGRAMS = (
    DemoProgram(
        "demo-lighthouse",
        ("K7L", "K7K", "K7M"),
        (("Street van (demo)", "team", "K7L"), ("Drop-in, Princess St. (demo)", "site", "K7L")),
        (
            ("Skeleton Park (demo)", "K7K"),
            ("Waterfront path (demo)", "K7L"),
            ("Bus terminal (demo)", "K7M"),
        ),
        9,
    ),
    DemoProgram(
        "demo-riverside",
        ("H2X", "H2L", "H2J"),
        (("Équipe de rue (démo)", "team", "H2X"), ("Site fixe Riverside (démo)", "site", "H2L")),
        (("Parc Émilie-Gamelin (démo)", "H2L"), ("Métro Berri (démo)", "H2L")),
        6,
    ),
)


def _user(spec: DemoProgram, local: str) -> User | None:
    domain = spec.slug.removeprefix("demo-")
    return User.objects.filter(email=f"{local}@{domain}.demo.harbour.test").first()


def _supplies(rng: random.Random) -> dict[str, int]:
    given: dict[str, int] = {}
    if rng.random() < 0.28:
        given["naloxone-nasal"] = rng.choice([1, 1, 1, 2])
    if rng.random() < 0.04:
        given["naloxone-injectable"] = 1
    if rng.random() < 0.35:
        given["strips-fentanyl"] = rng.choice([2, 5, 5, 10])
    if rng.random() < 0.12:
        given["strips-benzo"] = rng.choice([2, 5])
    if rng.random() < 0.08:
        given["strips-xylazine"] = rng.choice([2, 5])
    if rng.random() < 0.45:
        given["syringes"] = rng.choice([5, 10, 10, 20, 40])
    if rng.random() < 0.4:
        given["smoking-kit"] = rng.choice([1, 2, 3])
    if rng.random() < 0.1:
        given["sharps-container"] = 1
    if rng.random() < 0.15:
        given["condoms"] = rng.choice([3, 6, 12])
    if rng.random() < 0.12:
        given["wound-care"] = rng.choice([1, 2])
    if rng.random() < 0.35:
        given["food-water"] = rng.choice([1, 2, 3])
    if rng.random() < 0.1:
        given["warm-clothing"] = 1
    return given


# how much more than the three months' use each team received (a little short of benzo strips,
# so the stock page shows low stock and an order suggestion)
MARGIN = {"strips-benzo": 1.03}


def _receive(coordinator: User, team: Team, needed: dict[str, int], today: Any) -> None:
    for supply, used in sorted(needed.items()):
        if supply not in services.DEFAULT_TRACKED:
            continue
        quantity = max(10, round(used * MARGIN.get(supply, 1.25)))
        naloxone = supply.startswith("naloxone")
        services.stock_receive(
            actor=coordinator,
            team=team,
            supply=supply,
            quantity=quantity,
            lot=f"DEMO-{team.name[:3].upper()}-{supply[-3:].upper()}" if naloxone else "",
            expires_on=today + timedelta(days=500) if naloxone else None,
            note="demo",
        )


def _load(spec: DemoProgram, rng: random.Random) -> int:
    org = Organization.objects.filter(slug=spec.slug).first()
    coordinator, worker = _user(spec, "coordinator"), _user(spec, "outreach")
    if org is None or coordinator is None or worker is None:
        return 0
    if Team.objects.filter(organization=org).exists():
        return 0
    services.program_update(
        actor=coordinator,
        organization=org,
        tracked=list(services.DEFAULT_TRACKED),
        areas=list(spec.areas),
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    teams = [
        services.team_save(actor=coordinator, organization=org, name=n, kind=k, fsa=f)
        for n, k, f in spec.teams
    ]
    spots = [
        services.spot_save(actor=coordinator, organization=org, name=n, fsa=f)
        for n, f in spec.spots
    ]
    today = timezone.localdate()
    tz = ZoneInfo(settings.TIME_ZONE)
    encounters: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    for days_ago in range(DAYS, -1, -1):
        day = today - timedelta(days=days_ago)
        # busier at the start of the month (income assistance day) and on weekdays
        count = spec.per_day + (4 if day.day <= 3 else 0) - (3 if day.weekday() >= 5 else 0)
        for n in range(max(1, count + rng.randint(-2, 2))):
            team = teams[0] if rng.random() < 0.7 else teams[1]
            moment = datetime.combine(day, time(rng.randint(9, 22), rng.randint(0, 59)), tz)
            if moment > timezone.now():
                continue
            spot = rng.choice(spots) if team.kind == "team" and rng.random() < 0.6 else None
            services_given = [
                s
                for s, p in (
                    ("wound-care", 0.08),
                    ("drug-checking-referral", 0.06),
                    ("housing-help", 0.07),
                    ("id-help", 0.04),
                )
                if rng.random() < p
            ]
            encounters.append(
                {
                    "id": str(uuid.uuid5(NAMESPACE, f"{spec.slug}:e:{day}:{n}")),
                    "team": str(team.pk),
                    "occurred_at": moment,
                    "spot": str(spot.pk) if spot else "",
                    "fsa": "" if spot else team.fsa or spec.areas[0],
                    "people_new": 1 if rng.random() < 0.18 else 0,
                    "people_returning": rng.choice([1, 1, 1, 1, 2, 3]),
                    "supplies": _supplies(rng),
                    "naloxone_recipient": "family-friend" if rng.random() < 0.15 else "pwud",
                    "naloxone_trained": rng.random() < 0.8,
                    "services": services_given,
                }
            )
        if rng.random() < 0.17:
            team = teams[0]
            outcome = rng.choices(
                ["recovered", "ems", "transported", "deceased", "unknown"],
                weights=[55, 20, 20, 2, 3],
            )[0]
            doses = rng.choice([1, 2, 2, 3, 4])
            responses.append(
                {
                    "id": str(uuid.uuid5(NAMESPACE, f"{spec.slug}:r:{day}")),
                    "team": str(team.pk),
                    "occurred_at": datetime.combine(
                        day, time(rng.randint(10, 23), rng.randint(0, 59)), tz
                    ),
                    "fsa": rng.choice(spec.areas),
                    "naloxone_doses": doses,
                    "route": "nasal",
                    "kits_nasal": (doses + 1) // 2,
                    "breathing": rng.choice(["none", "slow", "slow"]),
                    "oxygen": rng.random() < 0.5,
                    "outcome": outcome,
                    "substances": rng.choice(
                        [
                            ["fentanyl"],
                            ["fentanyl", "benzodiazepines"],
                            ["fentanyl", "xylazine"],
                            ["unknown"],
                        ]
                    ),
                }
            )
    for team in teams:
        needed: dict[str, int] = {}
        for record in encounters:
            if record["team"] == str(team.pk):
                for supply, quantity in record["supplies"].items():
                    needed[supply] = needed.get(supply, 0) + quantity
        for record in responses:
            if record["team"] == str(team.pk):
                needed["naloxone-nasal"] = needed.get("naloxone-nasal", 0) + record["kits_nasal"]
        if team.kind == "site":  # kits handed out at the training sessions below
            needed["naloxone-nasal"] = needed.get("naloxone-nasal", 0) + 30
        _receive(coordinator, team, needed, today)
    stored = 0
    for start in range(0, len(encounters), 200):
        results = services.encounters_record(
            actor=worker, organization=org, records=encounters[start : start + 200], via="demo"
        )
        stored += sum(1 for r in results if r.status == "stored")
    services.responses_record(actor=worker, organization=org, records=responses, via="demo")
    # a box that arrived last and expires soon: the stock page and the notice flag it
    services.stock_receive(
        actor=coordinator,
        team=teams[0],
        supply="naloxone-nasal",
        quantity=12,
        lot="DEMO-SOON",
        expires_on=today + timedelta(days=20),
    )
    for weeks_ago in (10, 6, 2):
        services.training_record(
            actor=coordinator,
            team=teams[1],
            held_on=today - timedelta(weeks=weeks_ago),
            people_trained=rng.randint(6, 14),
            audience="family-friend",
            kits_given=rng.randint(4, 10),
        )
    for n in range(4):
        services.kit_use_report(
            report_id=uuid.uuid5(NAMESPACE, f"{spec.slug}:k:{n}"),
            used_on=today - timedelta(days=rng.randint(1, 60)),
            fsa=rng.choice(spec.areas),
            doses=rng.choice([1, 2, 2]),
            outcome=rng.choice(["recovered", "recovered", "ems"]),
            ems_came=rng.choice(["yes", "no"]),
            kit_kind="nasal",
            want_refill=n == 0,
        )
    return stored


@transaction.atomic
def load() -> int:
    """Returns how many encounters were added."""
    rng = random.Random(17)  # noqa: S311 - fictional figures
    return sum(_load(spec, rng) for spec in PROGRAMS)
