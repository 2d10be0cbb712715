from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from harbour.accounts.models import Organization

pytestmark = pytest.mark.django_db(transaction=True)


def test_backup_then_restore_brings_back_the_data(tmp_path, make_org):
    # given an organization, backed up
    make_org("kept-org")
    path = tmp_path / ("backup.sqlite3" if connection.vendor == "sqlite" else "backup.dump")
    call_command("backup", str(path), verbosity=0)
    assert path.stat().st_size > 10_000
    # when the data changes after the backup, then the backup is restored
    make_org("later-org")
    Organization.objects.filter(slug="kept-org").update(name_en="changed")
    call_command("restore", str(path), yes=True, verbosity=0)
    # then the database is as it was at the backup
    assert sorted(Organization.objects.values_list("slug", "name_en")) == [
        ("kept-org", "kept-org services")
    ]


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, make_org):
    make_org("still-here")
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    with pytest.raises(CommandError, match="not a"):
        call_command("restore", str(bogus), yes=True)
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", str(tmp_path / "missing"), yes=True)
    assert Organization.objects.filter(slug="still-here").exists()
