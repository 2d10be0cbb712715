"""Referrals benchmark: the inbound queue at size, the service-gap report, and concurrent answers.

50,000 referrals across 200 organizations (one "hub" recovery centre receives a fifth of them,
the rest spread evenly), in every status, with 12,000 pseudonymous clients (encrypted).
Figures, each against a baseline measured in the same run:

- the inbound-queue page of the hub (10,000 referrals, the open ones, first page of 25):
  p50 / p95 of the whole page through Django (session, permission layer, template), and the
  queue's own queries (the scoped selector's page and the paginator's count) against the same
  25 rows fetched by primary key. Goals: page p95 < 50 ms; queue queries <= 3x the rows by key.
- the gap report across all organizations (50,000 rows, table suppression): build time against
  reading the same columns into a list. Goals: < 1.5 s and <= 4x the read.
- concurrent answers: 4 threads each answer the same 200 freshly sent referrals (accept or
  decline) with the version they read, as staff on two phones would. Goals: exactly one winner
  per referral, no lost or double update (one transition, version 2, for each).

    python bench/referrals.py [--quick]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/harbour_referrals_bench \
        python bench/referrals.py   # a database of its own: the benchmark empties it first
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

GOAL_PAGE_P95_MS = 50.0
GOAL_QUEUE_RATIO = 3.0
GOAL_REPORT_S = 1.5
GOAL_REPORT_RATIO = 4.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def setup_django(var_dir: str) -> None:
    os.environ["HARBOUR_VAR_DIR"] = var_dir
    os.environ.setdefault("HARBOUR_ENV", "development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("DATABASE_URL"):
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)


def build(n_referrals: int, n_orgs: int, rng: random.Random):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from harbour.accounts.models import Membership, Organization, User
    from harbour.core.roles import Role
    from harbour.referrals import services
    from harbour.referrals.models import Client, Referral

    orgs = Organization.objects.bulk_create(
        Organization(slug=f"org-{i}", name_en=f"Org {i}", name_fr=f"Org {i}",
                     type="community_organization", province="ON", city="Kingston")
        for i in range(n_orgs)
    )  # fmt: skip
    hub = orgs[0]
    staff = User.objects.create_user(email="hub@example.org", password="bench-password-1")
    staff.is_demo = True
    staff.save()
    Membership.objects.create(user=staff, organization=hub, role=Role.COORDINATOR)
    n_clients = max(200, n_referrals // 4)
    clients = []
    for i in range(n_clients):
        org = orgs[1 + i % (n_orgs - 1)]
        clean = {
            "alias": f"Client {i}",
            "contact_method": "worker",
            "phone": "",
            "email": "",
            "contact_notes": "Through outreach",
            "language": "en",
            "birth_year": "",
        }
        clients.append(Client(organization=org, **clean, **services._indexes(org.pk, clean)))
    Client.objects.bulk_create(clients, batch_size=2000)
    mix = {"sent": 8, "received": 6, "accepted": 8, "in_progress": 6, "on_hold": 2,
           "completed": 40, "declined": 14, "unsuccessful": 6, "cancelled": 4, "withdrawn": 3,
           "redirected": 2, "draft": 1}  # fmt: skip
    statuses = [status for status, weight in mix.items() for _ in range(weight)]
    kinds = ["recovery", "treatment", "harm-reduction", "mental-health", "basic-needs",
             "health-care", "legal", "employment", "family-support", "indigenous"]  # fmt: skip
    areas = [f"K{d}{c}" for d in range(10) for c in "ALMP"]
    now = timezone.now()
    rows = []
    for i in range(n_referrals):
        client = clients[i % n_clients]
        receiver = hub if i % 5 == 0 else orgs[1 + (i * 7919) % (n_orgs - 1)]
        if receiver.pk == client.organization_id:
            receiver = hub
        status = rng.choice(statuses)
        sent = now - timedelta(days=rng.uniform(0, 360))
        accepted = sent + timedelta(hours=rng.uniform(1, 96))
        rows.append(
            Referral(
                client=client, sender_id=client.organization_id, receiver=receiver,
                service_name="Program", service_type=rng.choice(kinds), area=rng.choice(areas),
                status=status, version=1, sent_at=None if status == "draft" else sent,
                accepted_at=accepted if status in {"accepted", "in_progress", "completed",
                                                   "unsuccessful", "cancelled"} else None,
                reason_code=rng.choice(["no_capacity", "not_eligible", "other"])
                if status == "declined" else "",
            )
        )  # fmt: skip
    Referral.objects.bulk_create(rows, batch_size=2000)
    return hub, staff, orgs, clients


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 referrals, 50 organizations")
    args = parser.parse_args()
    n_referrals, n_orgs, repeat, racers = (
        (5000, 50, 60, 40) if args.quick else (50000, 200, 300, 200)
    )
    rng = random.Random(8)

    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from django.conf import settings
        from django.db import close_old_connections, connection
        from django.test import Client as Browser

        from harbour.referrals import selectors, services
        from harbour.referrals.models import Referral, Transition

        settings.DEMO_MODE = True
        settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
        t0 = time.perf_counter()
        hub, staff, orgs, clients = build(n_referrals, n_orgs, rng)
        built_s = time.perf_counter() - t0
        vendor = connection.vendor
        # planner statistics, as autovacuum keeps them for a table that grows day by day: right
        # after a bulk load of 50,000 rows PostgreSQL still guesses one row per organization
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        # --- the inbound queue ----------------------------------------------------------
        browser = Browser()
        browser.force_login(staff)
        url = f"/org/{hub.slug}/referrals/?status=open"
        assert browser.get(url).status_code == 200  # warm
        first_page = list(
            selectors.queue(staff, organization=hub, box="inbound", group="open")[:25]
        )
        page_ids = [r.pk for r in first_page]

        def queue_queries() -> None:
            staff.forget_roles()
            rows = selectors.queue(staff, organization=hub, box="inbound", group="open")
            rows.count()
            list(rows[:25])

        def by_key() -> None:
            list(Referral.objects.filter(pk__in=page_ids).select_related("sender", "receiver"))

        page_ms, queue_ms, key_ms = [], [], []
        for _ in range(repeat):  # interleaved: a busy moment weighs on every side alike
            start = time.perf_counter()
            response = browser.get(url)
            page_ms.append((time.perf_counter() - start) * 1e3)
            assert response.status_code == 200
            start = time.perf_counter()
            queue_queries()
            queue_ms.append((time.perf_counter() - start) * 1e3)
            start = time.perf_counter()
            by_key()
            key_ms.append((time.perf_counter() - start) * 1e3)
        page_p50, page_p95 = statistics.median(page_ms), pct(page_ms, 0.95)
        queue_p95, key_p95 = pct(queue_ms, 0.95), pct(key_ms, 0.95)
        queue_ratio = statistics.median(queue_ms) / statistics.median(key_ms)

        # --- the gap report -------------------------------------------------------------
        runs = 3
        report_s, read_s = [], []
        for _ in range(runs):
            start = time.perf_counter()
            report = selectors.gap_report(staff)
            report_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            list(
                Referral.objects.exclude(status__in=["draft", "entered_in_error"])
                .filter(sent_at__isnull=False)
                .values_list(
                    "service_type", "area", "status", "reason_code", "sent_at", "accepted_at"
                )
            )
            read_s.append(time.perf_counter() - start)
        report_t, read_t = statistics.median(report_s), statistics.median(read_s)
        report_ratio = report_t / read_t
        total = report.total.value

        # --- concurrent answers ---------------------------------------------------------
        from harbour.accounts.models import Membership, User
        from harbour.core.roles import Role
        from harbour.referrals.models import Consent

        desk = []
        for i in range(4):
            user = User.objects.create_user(email=f"desk{i}@example.org", password="bench-pw-12")
            Membership.objects.create(user=user, organization=hub, role=Role.PEER_WORKER)
            desk.append(user)
        sender = User.objects.create_user(email="sender@example.org", password="bench-pw-12")
        giver = orgs[1]
        Membership.objects.create(user=sender, organization=giver, role=Role.OUTREACH_WORKER)
        from datetime import timedelta

        from django.utils import timezone

        fresh = []
        own = [
            services.client_create(
                actor=sender,
                organization=giver,
                data=services.ClientData(
                    alias=f"Racer {i}", contact_method="worker", contact_notes="outreach"
                ),
            )
            for i in range(racers)
        ]
        for client in own:
            consent = Consent.objects.create(
                client=client, fields=["alias"], purpose="referral", method="verbal",
                valid_until=timezone.now() + timedelta(days=30),
            )  # fmt: skip
            consent.organizations.set([hub])
            fresh.append(
                services.referral_create(actor=sender, client=client, receiver=hub, send=True)
            )
        versions = {r.pk: r.version for r in fresh}
        outcome = {"won": 0, "conflict": 0, "refused": 0, "error": 0}
        lock = threading.Lock()
        barrier = threading.Barrier(len(desk))

        def answer(user, index: int) -> None:  # type: ignore[no-untyped-def]
            try:
                barrier.wait(30)
                order = list(fresh)
                random.Random(index).shuffle(order)
                for referral in order:
                    action = "accept" if (index + hash(referral.pk)) % 2 else "decline"
                    try:
                        services.referral_transition(
                            actor=user, referral=referral, action=action,
                            reason_code="no_capacity" if action == "decline" else "",
                            expected_version=versions[referral.pk], organization=hub,
                        )  # fmt: skip
                        key = "won"
                    except services.Conflict:
                        key = "conflict"
                    except Exception as exc:  # a refusal counts; anything else is a failure
                        key = "refused" if type(exc).__name__ == "ValidationError" else "error"
                    with lock:
                        outcome[key] += 1
            finally:
                close_old_connections()

        threads = [threading.Thread(target=answer, args=(u, i)) for i, u in enumerate(desk)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        race_s = time.perf_counter() - start
        final = {
            r.pk: (r.status, r.version)
            for r in Referral.objects.filter(pk__in=[f.pk for f in fresh])
        }
        steps = Transition.objects.filter(referral__in=fresh).exclude(action="send").count()
        lost = sum(1 for status, version in final.values() if version != 2 or status == "sent")
        double = steps - len(fresh)
        answers_per_s = len(desk) * len(fresh) / race_s

    print(f"database: {vendor}; referrals: {n_referrals}, organizations: {n_orgs}, "
          f"clients: {len(clients)} (built in {built_s:.1f} s)")  # fmt: skip
    print(f"inbound queue page (hub, open, page 1 of 25): p50 {page_p50:.1f} ms, p95 "
          f"{page_p95:.1f} ms (goal < {GOAL_PAGE_P95_MS:.0f} ms)")  # fmt: skip
    print(f"queue queries p95 {queue_p95:.2f} ms vs the same rows by key p95 {key_p95:.2f} ms; "
          f"median ratio {queue_ratio:.2f}x (goal <= {GOAL_QUEUE_RATIO:.0f}x)")  # fmt: skip
    print(f"gap report over {total} referrals: {report_t * 1e3:.0f} ms vs reading the rows "
          f"{read_t * 1e3:.0f} ms: {report_ratio:.2f}x (goals < {GOAL_REPORT_S} s, "
          f"<= {GOAL_REPORT_RATIO:.0f}x)")  # fmt: skip
    print(f"concurrent answers: {len(desk)} threads x {len(fresh)} referrals in {race_s:.1f} s "
          f"({answers_per_s:.0f}/s): won {outcome['won']}, told someone was first "
          f"{outcome['conflict']}, refused {outcome['refused']}, errors {outcome['error']}; "
          f"lost {lost}, double {double}")  # fmt: skip
    failures = []
    if page_p95 >= GOAL_PAGE_P95_MS:
        failures.append(f"queue page p95 {page_p95:.1f} ms >= {GOAL_PAGE_P95_MS:.0f} ms")
    if queue_ratio > GOAL_QUEUE_RATIO:
        failures.append(f"queue/by-key {queue_ratio:.2f}x > {GOAL_QUEUE_RATIO:.0f}x")
    if report_t >= GOAL_REPORT_S:
        failures.append(f"gap report {report_t:.2f} s >= {GOAL_REPORT_S} s")
    if report_ratio > GOAL_REPORT_RATIO:
        failures.append(f"gap report/read {report_ratio:.2f}x > {GOAL_REPORT_RATIO:.0f}x")
    if outcome["won"] != len(fresh) or lost or double or outcome["error"]:
        failures.append(
            f"answers: {outcome['won']} winners for {len(fresh)}, lost {lost}, double {double}, "
            f"errors {outcome['error']}"
        )
    status = "FAIL " + "; ".join(failures) if failures else "ok"
    print(
        f"referrals[{vendor}]: referrals={n_referrals} page_p95={page_p95:.1f}ms "
        f"queue_ratio={queue_ratio:.2f}x report={report_t * 1e3:.0f}ms "
        f"report_ratio={report_ratio:.2f}x winners={outcome['won']}/{len(fresh)} lost={lost} "
        f"double={double} {status}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
