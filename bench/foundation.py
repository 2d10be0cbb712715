"""Foundation benchmark: the permission layer's cost, N+1 freedom, and page weight.

Figures are ratios against baselines measured in the same run (machines here are noisy):
- scoped/unscoped: listing a user's organizations through the permission layer, against the
  same rows fetched by primary key with no scoping. Goal: at most 2.5x (one extra indexed
  query for the actor's memberships).
- dashboard queries with 3 and with 30 memberships: goal: the same number (no N+1).
- home page weight (HTML + CSS + JS, gzip): goal: under 60 KB, for slow phones.

    python bench/foundation.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def setup_django(var_dir: str) -> None:
    os.environ["HARBOUR_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (well under a minute)")
    args = parser.parse_args()
    n_orgs = 300 if args.quick else 5000
    repeat = 200 if args.quick else 1000

    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from django.db import connection
        from django.db.models import Count
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from harbour.accounts import selectors
        from harbour.accounts.models import Membership, Organization, User
        from harbour.core.roles import Role

        orgs = Organization.objects.bulk_create(
            Organization(slug=f"org-{i}", name_en=f"Org {i}", name_fr=f"Org {i}", type="peer_group")
            for i in range(n_orgs)
        )
        user = User.objects.create_user(email="bench@example.org", password="bench-password-1")
        user.is_demo = True
        user.save()
        Membership.objects.bulk_create(
            Membership(user=user, organization=org, role=Role.COORDINATOR) for org in orgs[:3]
        )
        ids = [org.id for org in orgs[:3]]

        def scoped() -> None:
            user.forget_roles()
            list(selectors.organizations_for(user))

        def unscoped() -> None:
            # the same rows and member counts, fetched by primary key without any scoping
            list(
                Organization.objects.filter(pk__in=ids).annotate(member_count=Count("memberships"))
            )

        # interleaved, so that a busy moment of the machine weighs on both sides alike
        scoped_s, base_s = [], []
        for _ in range(repeat):
            scoped_s.append(timed(scoped, 1))
            base_s.append(timed(unscoped, 1))
        t_scoped, t_base = statistics.median(scoped_s), statistics.median(base_s)
        ratio = t_scoped / t_base

        from django.conf import settings

        settings.DEMO_MODE = True
        client = Client()
        client.force_login(user)

        def dashboard_queries() -> int:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get("/org/").status_code == 200
            return len(ctx.captured_queries)

        q3 = dashboard_queries()
        Membership.objects.bulk_create(
            Membership(user=user, organization=org, role=Role.VIEWER) for org in orgs[3:30]
        )
        q30 = dashboard_queries()

        anon = Client()
        html = anon.get("/").content
        static = Path(__file__).resolve().parents[1] / "src" / "harbour" / "static" / "harbour"
        assets = [
            static / "harbour.css",
            static / "quick-exit.js",
            static / "vendor" / "htmx.min.js",
        ]
        weight = len(gzip.compress(html)) + sum(len(gzip.compress(p.read_bytes())) for p in assets)

    print(f"organizations: {n_orgs}, repeats: {repeat}")
    print(f"scoped list {t_scoped * 1e3:.3f} ms vs unscoped {t_base * 1e3:.3f} ms: {ratio:.2f}x")
    print(f"dashboard queries: {q3} with 3 memberships, {q30} with 30")
    print(f"home page weight (gzip, HTML+CSS+JS): {weight / 1024:.1f} KB")
    failures = []
    if ratio > 2.5:
        failures.append(f"scoped/unscoped {ratio:.2f}x > 2.5x")
    if q30 != q3:
        failures.append(f"dashboard queries grow with memberships ({q3} -> {q30})")
    if weight > 60 * 1024:
        failures.append(f"home page {weight / 1024:.1f} KB > 60 KB")
    status = "FAIL " + "; ".join(failures) if failures else "ok"
    print(
        f"foundation: scoped/unscoped={ratio:.2f}x dashboard_queries={q3}/{q30} "
        f"home_gzip={weight / 1024:.1f}KB {status}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
