"""Harbour's own error pages: in the person's language, with the quick exit; a long query gets
Harbour's 414 page, not gunicorn's bare one."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path

from harbour.core import views
from harbour.core.management.commands.serve import LIMIT_REQUEST_LINE, gunicorn_command
from harbour.core.middleware import MAX_QUERY

pytestmark = pytest.mark.django_db


def forbidden(request):  # type: ignore[no-untyped-def]
    raise PermissionDenied


def broken(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("boom")


urlpatterns: list = []


def _setup_urls() -> None:
    import harbour.urls

    urlpatterns[:] = [
        path("forbidden/", forbidden),
        path("broken/", broken),
        *harbour.urls.urlpatterns,
    ]


handler400 = "harbour.core.views.bad_request"
handler403 = "harbour.core.views.permission_denied"
handler404 = "harbour.core.views.not_found"
handler500 = "harbour.core.views.server_error"


@pytest.mark.parametrize(
    ("language", "title", "exit_name"),
    [("en", "Page not found", "Quick exit"), ("fr", "Page introuvable", "Quitter rapidement")],
)
def test_404_is_a_harbour_page_in_the_persons_language(
    client: Client, language: str, title: str, exit_name: str
) -> None:
    client.cookies["django_language"] = language
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert f'<html lang="{language}">' in body
    assert f"<h1>{title}</h1>" in body
    assert f">{exit_name}</a>" in body and "data-quick-exit" in body


@pytest.mark.parametrize(
    ("language", "title", "exit_name"),
    [
        ("en", "You cannot open this page", "Quick exit"),
        ("fr", "Vous ne pouvez pas ouvrir cette page", "Quitter rapidement"),
    ],
)
def test_403_is_a_harbour_page(settings, language: str, title: str, exit_name: str) -> None:  # type: ignore[no-untyped-def]
    _setup_urls()
    settings.ROOT_URLCONF = __name__
    client = Client()
    client.cookies["django_language"] = language
    response = client.get("/forbidden/")
    body = response.content.decode()
    assert response.status_code == 403
    assert f'<html lang="{language}">' in body
    assert f"<h1>{title}</h1>" in body
    assert f">{exit_name}</a>" in body


def test_a_stale_form_gets_the_403_page_that_says_what_to_do() -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = "fr"
    response = client.post("/i18n/setlang/", {"language": "en"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "rechargez la page et envoyez-le de nouveau" in body
    assert ">Quitter rapidement</a>" in body


def test_csrf_failure_under_api_stays_what_the_api_turns_into_json(rf) -> None:  # type: ignore[no-untyped-def]
    # ApiJsonErrorsMiddleware answers {"code": "csrf_failed"} when the 403 says CSRF
    response = views.csrf_failure(rf.post("/api/v1/keys"), "CSRF cookie not set.")
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_400_and_500_pages(rf) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    request = rf.get("/")
    request.user = AnonymousUser()
    with translation.override("fr"):
        bad = views.bad_request(request)
        error = views.server_error(request)
    assert bad.status_code == 400
    assert "Quelque chose n’allait pas dans la demande" in bad.content.decode()
    assert ">Quitter rapidement</a>" in bad.content.decode()
    assert error.status_code == 500
    body = error.content.decode()
    assert '<html lang="fr">' in body and ">Quitter rapidement</a>" in body
    assert "Une erreur s’est produite" in body


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "That address is too long"), ("fr", "Cette adresse est trop longue")],
)
def test_a_long_query_gets_harbours_414_page(client: Client, language: str, title: str) -> None:
    client.cookies["django_language"] = language
    response = client.get("/directory/", {"q": "x" * (MAX_QUERY + 1)})
    body = response.content.decode()
    assert response.status_code == 414
    assert f"<h1>{title}</h1>" in body and "data-quick-exit" in body
    assert client.get("/", {"q": "x" * 100}).status_code == 200


def test_a_long_query_under_api_is_json(client: Client) -> None:
    response = client.get("/api/hsds/services", {"q": "x" * (MAX_QUERY + 1)})
    assert response.status_code == 414
    assert response.json() == {"detail": "Request-URI Too Long", "code": "error"}


def test_gunicorn_accepts_the_longest_request_line_it_can() -> None:
    command = gunicorn_command(bind="127.0.0.1:1", workers=1)
    assert command[command.index("--limit-request-line") + 1] == str(LIMIT_REQUEST_LINE)
    assert LIMIT_REQUEST_LINE == 8190  # gunicorn's maximum (0 would mean no limit at all)
    assert MAX_QUERY < LIMIT_REQUEST_LINE - 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_through_real_gunicorn_a_5000_character_query_gets_harbours_page() -> None:
    port = _free_port()
    command = gunicorn_command(bind=f"127.0.0.1:{port}", workers=1)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/directory/?q=" + "x" * 5000
        for _ in range(100):  # gunicorn starting: up to 20 s
            try:
                urllib.request.urlopen(url, timeout=5)
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not answer")
        assert status == 414
        assert "<h1>That address is too long</h1>" in body
        assert "data-quick-exit" in body
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert sys.executable in command
