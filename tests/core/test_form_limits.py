"""Rate limits of the public forms (core.ratelimit.FormBudget), on the anonymous report form:
when limited the form comes back as typed, with the real waiting time; invalid attempts do not
count; a drop-in centre's shared Wi-Fi (one address, many people) is not locked out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache

from harbour.alerts.views import REPORT_BUDGET

pytestmark = pytest.mark.django_db

URL = "/alerts/report/"
FORM = {
    "kind": "bad-dope",
    "sold_as": "purple down",
    "looks_like": "purple, chunky",
    "what_happened": "Two people fell out after one hit; long to wake with naloxone.",
    "city": "Kingston",
    "fsa": "K7L",
    "website": "",
}
AT_10_53 = datetime(2026, 3, 4, 15, 53, tzinfo=UTC)  # the hour's window ends in 7 minutes


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def test_when_limited_the_form_keeps_what_was_typed_and_says_the_real_wait(client) -> None:
    with time_machine.travel(AT_10_53, tick=False):
        for _ in range(REPORT_BUDGET.per_content):
            assert client.post(URL, FORM).status_code == 200
        page = client.post(URL, FORM)
    body = page.content.decode()
    assert page.status_code == 429
    assert page["Retry-After"] == "420"
    assert "Too many tries from this connection. Try again in 7 minutes." in body
    assert "Two people fell out after one hit; long to wake with naloxone." in body
    assert 'value="purple down"' in body and 'value="K7L"' in body


def test_the_wait_is_said_in_french(client) -> None:
    client.cookies["django_language"] = "fr"
    with time_machine.travel(AT_10_53.replace(minute=59, second=30), tick=False):
        for _ in range(REPORT_BUDGET.per_content):
            client.post(URL, FORM)
        page = client.post(URL, FORM)
    assert page.status_code == 429
    assert "Trop d’essais depuis cette connexion. Réessayez dans 1 minute." in (
        page.content.decode()
    )


def test_invalid_attempts_do_not_count(client) -> None:
    with time_machine.travel(AT_10_53, tick=False):
        for _ in range(40):  # a person fixing the form, over and over
            page = client.post(URL, {**FORM, "what_happened": ""})
            assert page.status_code != 429
        assert client.post(URL, FORM).status_code == 200


def test_a_drop_in_centres_wifi_is_not_locked_out(client) -> None:
    wifi = "203.0.113.50"
    with time_machine.travel(AT_10_53, tick=False):
        # 25 people on the centre's Wi-Fi, each with their own report
        codes = [
            client.post(URL, {**FORM, "what_happened": f"Report from person {n}, blue pills."},
                        REMOTE_ADDR=wifi).status_code
            for n in range(25)
        ]  # fmt: skip
        assert codes == [200] * 25
        # one person sending the same report again and again is stopped, from any address
        same = {**FORM, "what_happened": "The same words, again and again."}
        codes = [
            client.post(URL, same, REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        # the others on the Wi-Fi still can
        assert client.post(URL, {**FORM, "what_happened": "Someone else now."},
                           REMOTE_ADDR=wifi).status_code == 200  # fmt: skip


def test_one_address_still_has_a_ceiling(client) -> None:
    with time_machine.travel(AT_10_53, tick=False):
        codes = [
            client.post(URL, {**FORM, "what_happened": f"Flood number {n} of many."},
                        REMOTE_ADDR="192.0.2.7").status_code
            for n in range(REPORT_BUDGET.per_connection + 1)
        ]  # fmt: skip
    assert codes[:-1] == [200] * REPORT_BUDGET.per_connection
    assert codes[-1] == 429
