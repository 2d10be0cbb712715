"""What several benchmarks share: Django on a scratch database, and a percentile.

On PostgreSQL the benchmark gets a database of its own next to the configured one (created
here, dropped by ``teardown``); on SQLite, a file in ``var_dir``.
"""

from __future__ import annotations

import os


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def setup(var_dir: str, label: str) -> None:
    os.environ["HARBOUR_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        from django.db import connection

        name = f"harbour_bench_{label}_{os.getpid()}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        connection.close()
        settings.DATABASES["default"]["NAME"] = name
        os.environ["HARBOUR_BENCH_PG_DB"] = name
    call_command("migrate", verbosity=0)


def teardown() -> None:
    name = os.environ.get("HARBOUR_BENCH_PG_DB")
    if not name:
        return
    from django.conf import settings
    from django.db import connection

    connection.close()
    settings.DATABASES["default"]["NAME"] = "postgres"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
