"""Shared fixtures: organizations, a member of each role, sign-in helpers, the task worker."""

from __future__ import annotations

import json as _json
import os
import socket as _socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from hypothesis import settings as hypothesis_settings

from harbour.accounts import services
from harbour.accounts.models import Organization, OrganizationType, User
from harbour.core.roles import Role

os.environ.setdefault("HARBOUR_ENV", "test")

# CI (.ci/run) tries the same generated inputs every run, so that whether work lands never rests
# on luck; `make test` on a developer's machine draws new ones each time and keeps exploring.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("HARBOUR_CI"):
    hypothesis_settings.load_profile("ci")

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Rate limits live in the cache; every test starts with none used.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_to_start() -> None:
    # A request in French leaves French active in the thread (LocaleMiddleware activates the
    # language and nothing deactivates it): every test starts in the default language.
    from django.utils import translation

    translation.activate("en")


@pytest.fixture(autouse=True)
def _force_login_passes_mfa(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Client.force_login`` skips the password; here it also skips the code for a user who has
    TOTP set up, recording the second factor in the session as allauth's MFA step does (staff
    pages refuse a session without it). Sign-in itself is tested through the real pages."""
    import time

    from allauth.mfa.models import Authenticator
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):  # type: ignore[no-untyped-def]
        original(self, user, backend)
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is not None:
            session = self.session
            session["account_authentication_methods"] = [
                {"method": "mfa", "at": time.time(), "id": totp.pk, "type": "totp"}
            ]
            session["account_authentication_methods_user"] = str(user.pk)
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def make_org(db: None) -> Callable[..., Organization]:
    def make(slug: str = "org-a", **kwargs: str) -> Organization:
        return services.organization_create(
            name_en=kwargs.pop("name_en", f"{slug} services"),
            name_fr=kwargs.pop("name_fr", f"services {slug}"),
            type=kwargs.pop("type", OrganizationType.HARM_REDUCTION_SITE),
            slug=slug,
            **kwargs,
        )

    return make


@pytest.fixture
def make_member(db: None) -> Callable[..., User]:
    def make(org: Organization, role: str = Role.COORDINATOR, email: str = "") -> User:
        user = User.objects.create_user(
            email=email or f"{role}@{org.slug}.example.org", password=PASSWORD
        )
        services.membership_set(organization=org, user=user, role=role)
        return user

    return make


@pytest.fixture
def org_a(make_org: Callable[..., Organization]) -> Organization:
    return make_org("org-a")


@pytest.fixture
def org_b(make_org: Callable[..., Organization]) -> Organization:
    return make_org("org-b")


@pytest.fixture
def admin_a(org_a: Organization, make_member: Callable[..., User]) -> User:
    return make_member(org_a, Role.ORG_ADMIN)


@pytest.fixture
def run_tasks(db: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Run every queued task with the real worker, then return (``harbour worker --batch``).

    Inside a test's transaction Django's ``close_old_connections`` would close the
    connection (autocommit is off), so it is disabled here, as Django's test client does."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> None:
        call_command("worker", batch=True, startup_delay=False, verbosity=0)

    return run


@pytest.fixture
def mfa_off(settings) -> None:  # type: ignore[no-untyped-def]
    """Demo mode for demo accounts only; for tests that are not about MFA, mark users as demo."""
    settings.DEMO_MODE = True


def totp_code(secret: str) -> str:
    """The current code an authenticator app would show for ``secret``.

    A code is valid for its 30-second window only (no tolerance), so near the end of a window
    this waits for the next one: a busy machine must not turn a late click into a wrong code.
    """
    import time

    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    period = 30
    if period - time.time() % period < 5:
        time.sleep(period - time.time() % period + 0.1)
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


@pytest.fixture
def enable_totp(db: None) -> Callable[[User], str]:
    """Turn on TOTP for a user as the set-up page would; returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    def enable(user: User) -> str:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        return secret

    return enable


@pytest.fixture
def staff_client(client, enable_totp):  # type: ignore[no-untyped-def]
    """A test client signed in as ``user`` with two-factor authentication set up."""

    def sign_in(user: User):  # type: ignore[no-untyped-def]
        enable_totp(user)
        client.force_login(user)
        return client

    return sign_in


# --- network edges for messages: a Twilio REST stub and a local SMTP server ---------------------


ACCOUNT = "AC" + "0" * 32
TOKEN = "test-auth-token"
FROM = "+16135550100"


def _free_port() -> int:
    with _socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TwilioStub:
    """Records every message posted; answers 201 with a new SID unless told otherwise."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[tuple[int, dict[str, Any]]] = []  # consumed first, then 201s
        self.lock = threading.Lock()

    def handle(
        self, path: str, form: dict[str, str], auth: str, token: str = "", topic: str = ""
    ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(
                {"path": path, "form": form, "auth": auth, "token": token, "topic": topic}
            )
            if self.replies:
                return self.replies.pop(0)
            sid = f"SM{len(self.requests):032x}"
        return 201, {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")}


@pytest.fixture
def twilio(settings) -> Iterator[TwilioStub]:  # type: ignore[no-untyped-def]
    stub = TwilioStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length).decode(errors="replace")
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            status, body = stub.handle(
                self.path,
                form,
                self.headers.get("Authorization", ""),
                self.headers.get("I-Twilio-Idempotency-Token", ""),
                self.headers.get("Topic", ""),
            )
            data = _json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM = FROM
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield stub
    server.shutdown()
    server.server_close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:  # type: ignore[no-untyped-def]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()


def sign_twilio(url: str, form: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(TOKEN).compute_signature(url, form))


@pytest.fixture
def sms_in(client, twilio):  # type: ignore[no-untyped-def]
    """Post an inbound text to Harbour's webhook, signed as Twilio signs it."""

    def send(body: str, sid: str, sender: str = "613 555 0142"):  # type: ignore[no-untyped-def]
        url = "http://testserver/notify/twilio/inbound/"
        form = {"From": sender, "Body": body, "MessageSid": sid, "AccountSid": ACCOUNT}
        return client.post(url, form, HTTP_X_TWILIO_SIGNATURE=sign_twilio(url, form))

    return send


# --- what a coordinator's home lists (accounts/home.py) -----------------------------------------


@pytest.fixture
def make_needs(db: None) -> Callable[..., dict[str, Any]]:
    """Fill an organization with one of each thing its coordinator's home lists: an alert
    waiting for a second person (written by ``author``), a check-in handed to the dispatcher,
    one burst seen by four detection methods (at two levels) plus a signal elsewhere, a
    referral sent to it and not acknowledged, a naloxone refill request, and low stock."""

    def make(org: Organization, author: User, *, tag: str = "") -> dict[str, Any]:
        from datetime import timedelta

        from django.utils import timezone

        from harbour.alerts.models import Alert, AlertStatus
        from harbour.checkins.models import Program as CheckinProgram
        from harbour.checkins.models import Session, State
        from harbour.outreach import services as outreach
        from harbour.outreach.models import KitUseReport, RefillStatus
        from harbour.referrals.models import Client, Referral, ReferralStatus
        from harbour.surveillance.models import Level, Method, Signal

        now = timezone.now()
        alert = Alert.objects.create(
            organization=org,
            title=f"Green pills {tag}".strip(),
            body="Stronger than usual.",
            severity="Severe",
            areas=" K7L ",
            area_description="Downtown",
            valid_until=now + timedelta(days=3),
            status=AlertStatus.PENDING,
            created_by=author,
        )
        program = CheckinProgram.objects.create(organization=org)
        session = Session.objects.create(
            program=program, alias="Sam", state=State.DISPATCH, started_at=now
        )
        start = now - timedelta(days=1)
        # one burst in K7L: three methods on the postal area and the cluster scan centred on it
        methods = [
            Method.EARS_C1, Method.EARS_C2, Method.POISSON_GAMMA, Method.SCAN, Method.COUNT_24H,
        ]  # fmt: skip
        signals = [
            Signal.objects.create(
                organization=org,
                method=method,
                level=Level.CLUSTER if method == Method.SCAN else Level.FSA,
                area=f"K7K{tag}" if method == Method.COUNT_24H else f"K7L{tag}",
                period_start=start + timedelta(hours=i),
                period_end=now,
                observed=9,
            )
            for i, method in enumerate(methods)
        ]
        client = Client.objects.create(organization=org, alias="Robin", alias_index=f"x{tag}")
        referral = Referral.objects.create(
            client=client, receiver=org, status=ReferralStatus.SENT, sent_at=now
        )
        outreach.program_update(
            actor=author, organization=org, tracked=["naloxone-nasal"], areas=["K7L"],
            expiry_warning_days=60, cover_weeks=4, low_stock_weeks=4,
        )  # fmt: skip
        van = outreach.team_save(actor=author, organization=org, name=f"Van {tag}".strip())
        outreach.stock_receive(
            actor=author, team=van, supply="naloxone-nasal", quantity=3, lot="NX1",
            expires_on=now.date() + timedelta(days=300),
        )  # fmt: skip
        outreach.kits_give(
            actor=author, team=van, supply="naloxone-nasal", quantity=2,
            recipient="pwud", trained=True, given_at=now,
        )  # fmt: skip
        refill = KitUseReport.objects.create(
            used_on=now.date(), doses=1, outcome="recovered", want_refill=True,
            organization=org, refill_status=RefillStatus.OPEN,
        )  # fmt: skip
        return {
            "alert": alert,
            "session": session,
            "signals": signals,
            "referral": referral,
            "refill": refill,
            "van": van,
        }

    return make
