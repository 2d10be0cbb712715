"""The database cache's table: rate-limit counters shared by every web process when there is
no Redis (settings.CACHES). Does nothing when the configured cache is not a database cache."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0009_release")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
