"""Attack: read the database (a backup, a stolen dump) after a password reset and an invitation
were sent, and find the secret links in the task queue's rows."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from harbour.accounts import services
from harbour.core.roles import Role
from harbour.core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def every_stored_text() -> str:
    """Every value of every column of every table, as text, one row a line."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            lines.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(lines)


def test_no_reset_or_invitation_secret_is_left_in_any_table(
    client, org_a, admin_a, make_member, run_tasks
):
    # given a staff member who asks for a password reset, and a newcomer who is invited
    user = make_member(org_a, Role.VIEWER)
    assert client.post(reverse("account_reset_password"), {"email": user.email}).status_code == 302
    _invitation, token = services.member_invite(
        organization=org_a, email="newcomer@example.org", role=Role.VIEWER, actor=admin_a
    )
    # when the worker sends both emails
    run_tasks()
    reset_mail = next(m for m in mail.outbox if m.to == [user.email])
    invite_mail = next(m for m in mail.outbox if m.to == ["newcomer@example.org"])
    reset = re.search(r"https?://\S+/accounts/password/reset/key/(\S+?)/", reset_mail.body)
    invite = re.search(r"https?://\S+/org/invitation/(\S+?)/", invite_mail.body)
    assert reset is not None and invite is not None
    assert invite.group(1) == token
    reset_key = unquote(reset.group(1))  # "<user id>-<token>"
    reset_token = reset_key.split("-", 1)[1]
    secrets_sent = {
        "reset link": reset.group(0),
        "reset token": reset_token,
        "invitation link": invite.group(0),
        "invitation token": token,
    }
    # then the links work...
    assert client.get(urlsplit(reset.group(0)).path, follow=True).status_code == 200
    # ...and no table holds any of them (task rows: arguments, return values, errors)
    stored = every_stored_text()
    assert DBTaskResult.objects.count() >= 2
    assert "newcomer@example.org" in stored  # the search reads what is there
    found = {name: value for name, value in secrets_sent.items() if value in stored}
    assert found == {}


def test_finished_task_rows_are_pruned(settings, run_tasks):
    from harbour.core.tasks import prune_task_results

    # given finished task rows, an old one and a fresh one, and one not run yet
    settings.HARBOUR_TASK_RESULTS_KEEP_SECONDS = 3600
    heartbeat.enqueue(worker="old")
    heartbeat.enqueue(worker="fresh")
    run_tasks()
    DBTaskResult.objects.filter(args_kwargs__kwargs__worker="old").update(
        finished_at=timezone.now() - timedelta(hours=2)
    )
    heartbeat.enqueue(worker="waiting")
    # when the periodic job runs
    assert prune_task_results.call() == 1
    # then only the old finished row is gone
    left = sorted(r.args_kwargs["kwargs"]["worker"] for r in DBTaskResult.objects.all())
    assert left == ["fresh", "waiting"]
