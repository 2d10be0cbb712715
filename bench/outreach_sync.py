"""Outreach sync benchmark: 50 simulated devices send 20,000 encounters, with 10 % duplicate
retries, to a real ``harbour serve`` (gunicorn, 2 processes) on loopback.

Each device holds 400 encounters (team, postal area or named spot, people, supplies that are
deducted from stock, services, some notes and client codes: encrypted) and sends them as a
phone coming back online does: batches of 50 new records (as the street app sends them) to
``POST /api/v1/outreach/organizations/{id}/sync``, each batch also carrying records the device
already sent (as if their answer had been lost), so that one record in ten sent is a retry.
Devices authenticate with an organization API key (the street app uses the staff session; the
work per record is the same). Batching several records per request is what the offline app does.

The baseline, in the same run against the same server: the same number of requests, from the
same 50 threads, to ``GET /api/v1/health`` (a few small reads: database, worker heartbeat,
check-in lag), i.e. what the same server and client do per request without the sync's work.

Reported: encounters stored per second (first request to last answer), requests per second
against the baseline, the final count in the database (must be exactly 20,000), the duplicates
the server recognised (must equal the retries sent), nothing rejected, and the stock ledger
(what was deducted equals what the encounters gave; each balance is the sum of its movements).

Goals (issue "Outreach that works on the street"): at least 1,000 encounters/s, exactly 20,000
stored.

    python bench/outreach_sync.py [--quick] [--devices N] [--encounters N] [--batch N]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/harbour_outreach_bench \
        python bench/outreach_sync.py
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SLUG = "bench-outreach"
AREAS = ["K7L", "K7K", "K7M", "K7P", "K7N"]
SUPPLIES = [
    ("syringes", 0.5, (5, 40)),
    ("strips-fentanyl", 0.35, (2, 10)),
    ("naloxone-nasal", 0.25, (1, 2)),
    ("smoking-kit", 0.4, (1, 3)),
    ("condoms", 0.15, (3, 12)),
    ("food-water", 0.3, (1, 3)),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it does not exist (never drops one)."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def setup() -> tuple[Any, Any, str, list[str]]:
    """The organization, its team with stock for the whole run, two named spots, an API key."""
    from harbour.accounts import services as accounts
    from harbour.accounts.models import Organization, User
    from harbour.core.roles import Role
    from harbour.outreach import services
    from harbour.outreach.models import (
        Encounter,
        Program,
        Spot,
        StockLevel,
        StockMovement,
        Team,
    )

    org = Organization.objects.filter(slug=SLUG).first()
    if org is not None:  # a previous run on this database: start afresh
        Encounter.objects.filter(organization=org).delete()
        StockMovement.objects.filter(team__organization=org).delete()
        StockLevel.objects.filter(team__organization=org).delete()
        Team.objects.filter(organization=org).delete()
        Spot.objects.filter(organization=org).delete()
        Program.objects.filter(organization=org).delete()
    else:
        org = accounts.organization_create(
            name_en="Bench outreach", name_fr="Banc", slug=SLUG, type="harm_reduction_site"
        )
    admin = User.objects.filter(email="admin@bench-outreach.test").first()
    if admin is None:
        admin = User.objects.create_user(email="admin@bench-outreach.test", password=None)
        accounts.membership_set(organization=org, user=admin, role=Role.ORG_ADMIN)
    services.program_update(
        actor=admin,
        organization=org,
        tracked=list(services.DEFAULT_TRACKED),
        areas=AREAS[:2],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    team = services.team_save(actor=admin, organization=org, name="Bench van", fsa="K7L")
    spots = [
        str(services.spot_save(actor=admin, organization=org, name=f"Spot {n}", fsa=AREAS[n]).pk)
        for n in range(2)
    ]
    for supply, _share, _range in SUPPLIES:
        if supply == "food-water":
            continue
        naloxone = supply.startswith("naloxone")
        for _ in range(20):  # 2 million of each: the run never runs out
            services.stock_receive(
                actor=admin,
                team=team,
                supply=supply,
                quantity=100_000,
                lot="BENCH1" if naloxone else "",
                expires_on=time_now_date(400) if naloxone else None,
            )
    key = accounts.api_key_create(
        organization=org, name="bench devices", role=Role.OUTREACH_WORKER, actor=admin
    ).secret
    return org, team, key, spots


def time_now_date(days: int) -> Any:
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localdate() + timedelta(days=days)


def encounters(device: int, count: int, team: str, spots: list[str]) -> list[dict[str, Any]]:
    from datetime import UTC, datetime, timedelta

    rng = random.Random(device)
    now = datetime.now(UTC)
    out = []
    for n in range(count):
        record: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "team": team,
            "occurred_at": (now - timedelta(minutes=rng.randint(1, 60 * 24 * 7))).isoformat(),
            "people_new": 1 if rng.random() < 0.2 else 0,
            "people_returning": rng.choice([1, 1, 2, 3]),
            "supplies": {s: rng.randint(*r) for s, share, r in SUPPLIES if rng.random() < share},
            "naloxone_recipient": "pwud",
            "naloxone_trained": True,
            "services": ["wound-care"] if rng.random() < 0.1 else [],
        }
        if rng.random() < 0.4:
            record["spot"] = rng.choice(spots)
        else:
            record["fsa"] = rng.choice(AREAS)
        if rng.random() < 0.15:
            record["notes"] = "Asked about detox beds; will come back Thursday."
        if rng.random() < 0.1:
            record["client_code"], record["consent"] = f"BX{device:02d}{n % 97:02d}", True
        out.append(record)
    return out


class Device(threading.Thread):
    def __init__(
        self,
        base: str,
        key: str,
        org: str,
        records: list[dict[str, Any]],
        batch: int,
        seed: int,
        start_gate: threading.Event,
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.key, self.org, self.records, self.batch = base, key, org, records, batch
        self.rng = random.Random(seed)
        self.gate = start_gate
        self.sent = self.retries = self.stored = self.duplicates = self.rejected = self.requests = 0
        self.errors: list[str] = []

    def run(self) -> None:
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        url = f"{self.base}/api/v1/outreach/organizations/{self.org}/sync"
        done: list[dict[str, Any]] = []
        self.gate.wait()
        for start in range(0, len(self.records), self.batch):
            fresh = self.records[start : start + self.batch]
            # one record in ten sent is a retry of one whose answer was "lost"
            retries = self.rng.sample(done, min(len(done), round(len(fresh) / 9))) if done else []
            body = {"encounters": fresh + retries}
            for attempt in range(3):
                try:
                    answer = session.post(url, json=body, timeout=60)
                    break
                except requests.RequestException as error:  # retried: idempotent
                    self.errors.append(str(error))
                    if attempt == 2:
                        raise
            self.requests += 1
            if answer.status_code != 200:
                self.errors.append(f"{answer.status_code} {answer.text[:200]}")
                continue
            data = answer.json()
            self.stored += data["stored"]
            self.duplicates += data["duplicates"]
            self.rejected += data["rejected"]
            self.sent += len(body["encounters"])
            self.retries += len(retries)
            done.extend(fresh)


def health_baseline(base: str, threads: int, total: int) -> float:
    """Requests per second of ``GET /api/v1/health`` from the same number of threads."""
    import requests

    per_thread = max(1, total // threads)
    gate = threading.Event()

    def work() -> None:
        session = requests.Session()
        gate.wait()
        for _ in range(per_thread):
            session.get(f"{base}/api/v1/health", timeout=30)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    t0 = time.perf_counter()
    gate.set()
    for w in workers:
        w.join()
    return per_thread * threads / (time.perf_counter() - t0)


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import requests

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit("outreach_sync: harbour serve exited at start")
        try:
            if requests.get(f"{base}/api/v1/health", timeout=2).status_code in (200, 503):
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit("outreach_sync: harbour serve did not answer in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 encounters")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--encounters", type=int, default=20_000)
    parser.add_argument(
        "--batch", type=int, default=50, help="new records per request (the app: 50)"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes")
    args = parser.parse_args()
    total = 5_000 if args.quick else args.encounters
    per_device = total // args.devices
    total = per_device * args.devices

    var_dir = tempfile.mkdtemp(prefix="harbour-outreach-")
    environment = {
        **os.environ,
        "HARBOUR_VAR_DIR": var_dir,
        "HARBOUR_ENV": "development",
        "LOG_LEVEL": "WARNING",
        # one key for every run: a PostgreSQL database kept between runs stays readable
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-outreach-sync-" + "k" * 40,
    }
    if environment.get("DATABASE_URL", "").startswith("postgres"):
        ensure_postgres_database(environment["DATABASE_URL"])
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    org, team, key, spots = setup()
    data = [encounters(d, per_device, str(team.pk), spots) for d in range(args.devices)]
    connection.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "harbour"),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.web_workers),
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_up(base, server)
        requests_expected = args.devices * -(-per_device // args.batch)
        health_baseline(base, args.devices, min(500, requests_expected))  # warm up both workers
        gate = threading.Event()
        devices = [
            Device(base, key, str(org.pk), data[d], args.batch, 1000 + d, gate)
            for d in range(args.devices)
        ]
        for device in devices:
            device.start()
        t0 = time.perf_counter()
        gate.set()
        for device in devices:
            device.join()
        elapsed = time.perf_counter() - t0
        baseline = health_baseline(base, args.devices, sum(d.requests for d in devices))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    return report(args, vendor, total, devices, elapsed, baseline, org, team)


def report(
    args: Any,
    vendor: str,
    total: int,
    devices: list[Device],
    elapsed: float,
    baseline: float,
    org: Any,
    team: Any,
) -> int:
    from django.db.models import Sum

    from harbour.outreach.models import Distribution, Encounter, StockLevel, StockMovement

    stored_rows = Encounter.objects.filter(organization=org).count()
    stored = sum(d.stored for d in devices)
    duplicates = sum(d.duplicates for d in devices)
    retries = sum(d.retries for d in devices)
    rejected = sum(d.rejected for d in devices)
    sent = sum(d.sent for d in devices)
    requests_made = sum(d.requests for d in devices)
    errors = [e for d in devices for e in d.errors]
    rate = stored / elapsed
    request_rate = requests_made / elapsed
    given = Distribution.objects.filter(
        team=team, supply__in=[s for s, _p, _r in SUPPLIES if s != "food-water"]
    )
    given_total = given.aggregate(n=Sum("quantity"))["n"] or 0
    deducted = -(
        StockMovement.objects.filter(team=team, kind="distribution").aggregate(n=Sum("change"))["n"]
        or 0
    )
    ledger = StockMovement.objects.filter(team=team).aggregate(n=Sum("change"))["n"] or 0
    balance = StockLevel.objects.filter(team=team).aggregate(n=Sum("quantity"))["n"] or 0
    print(
        f"outreach_sync on {vendor}: {args.devices} devices, {total:,} encounters, batches of "
        f"{args.batch} new + retries, harbour serve with {args.web_workers} gunicorn processes"
    )
    print(
        f"sent {sent:,} records in {requests_made:,} requests ({retries:,} retries = "
        f"{retries / max(sent, 1):.0%}) in {elapsed:.1f} s"
    )
    print(
        f"stored {stored:,} = {rate:,.0f} encounters/s; {request_rate:,.1f} sync requests/s vs "
        f"{baseline:,.0f} health requests/s (baseline) = {request_rate / baseline:.3f}"
    )
    print(
        f"in the database: {stored_rows:,} encounters (expected {total:,}); duplicates recognised "
        f"{duplicates:,} of {retries:,} retries; rejected {rejected}; request errors {len(errors)}"
    )
    print(
        f"stock: {given_total:,} given in tracked supplies, {deducted:,} deducted; ledger sum "
        f"{ledger:,} = balances {balance:,}"
    )
    failures = []
    if rate < 1000:
        failures.append(f"{rate:,.0f} encounters/s < 1,000")
    if stored_rows != total:
        failures.append(f"{stored_rows} stored, not {total}")
    if duplicates != retries or rejected or errors:
        failures.append(
            f"duplicates {duplicates}/{retries}, rejected {rejected}, errors {len(errors)}"
        )
    if given_total != deducted or ledger != balance:
        failures.append("stock ledger does not match")
    if errors:
        print("first errors:", errors[:3])
    print(
        f"outreach_sync[{vendor}]: devices={args.devices} encounters={total} rate={rate:.0f}/s "
        f"requests={request_rate:.1f}/s health={baseline:.0f}/s "
        f"ratio={request_rate / baseline:.3f} "
        f"stored={stored_rows} duplicates={duplicates}/{retries} "
        + ("ok" if not failures else "FAIL " + "; ".join(failures))
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
