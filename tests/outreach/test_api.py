"""The sync endpoint a device calls when it is back online: staff session with CSRF (as the
street app does it) or an API key; idempotent; per-record answers; JSON errors, never 500."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from harbour.accounts import services as accounts
from harbour.core.roles import Role
from harbour.outreach.models import Encounter, OverdoseResponse

from .conftest import encounter, response

pytestmark = pytest.mark.django_db


def url(org) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/outreach/organizations/{org.pk}/sync"


@pytest.fixture
def device(worker, enable_totp):  # type: ignore[no-untyped-def]
    """A phone signed in as the worker, with CSRF enforced as in a real browser."""
    enable_totp(worker)
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)
    return client


def post(client, org, body, token="", **headers):  # type: ignore[no-untyped-def]
    return client.post(
        url(org),
        json.dumps(body),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
        **headers,
    )


def test_a_device_sends_its_batch_with_the_session_and_a_retry_stores_nothing_twice(
    device, org, stocked
):
    # given the street app asks who is signed in and gets a CSRF token
    status = device.get(f"/org/{org.slug}/outreach/status.json")
    assert status.status_code == 200 and status["Cache-Control"] == "no-store, private"
    me = status.json()
    assert set(me) == {"user", "organization", "csrf"} and me["organization"] == str(org.pk)
    body = {
        "encounters": [
            encounter(stocked, supplies={"syringes": 10}),
            encounter(stocked, people_new=99),
        ],
        "responses": [response(stocked)],
    }
    # when it sends, then sends the same again (the answer was lost)
    first = post(device, org, body, me["csrf"])
    second = post(device, org, body, me["csrf"])
    # then each record has its answer, and the retry stores nothing
    assert first.status_code == 200
    assert [(r["kind"], r["status"]) for r in first.json()["results"]] == [
        ("encounter", "stored"),
        ("encounter", "rejected"),
        ("response", "stored"),
    ]
    assert first.json()["results"][1]["errors"] == {
        "people_new": ["New people must be between 0 and 50."]
    }
    assert second.json() | {"results": None} == {
        "stored": 0,
        "duplicates": 2,
        "rejected": 1,
        "results": None,
    }
    assert Encounter.objects.count() == 1 and OverdoseResponse.objects.count() == 1


def test_without_the_csrf_token_the_session_is_refused_as_json(device, org, stocked):
    response_ = post(device, org, {"encounters": [encounter(stocked)]})
    assert response_.status_code in (401, 403)
    assert set(response_.json()) == {"detail", "code"}
    assert Encounter.objects.count() == 0


def test_a_session_that_ended_gets_401_and_nothing_is_stored(client, org, stocked):
    status = client.get(f"/org/{org.slug}/outreach/status.json")
    assert status.status_code == 401
    assert status.json()["code"] == "unauthenticated"
    sent = post(client, org, {"encounters": [encounter(stocked)]})
    assert sent.status_code == 401 and sent.json()["code"] == "unauthenticated"
    assert Encounter.objects.count() == 0


def test_another_organizations_staff_get_404(org, stocked, make_org, make_member, enable_totp):
    other = make_org("elsewhere")
    stranger = make_member(other, Role.ORG_ADMIN)
    enable_totp(stranger)
    client = Client()
    client.force_login(stranger)
    sent = post(client, org, {"encounters": [encounter(stocked)]})
    assert sent.status_code == 404
    assert sent.json() == {"detail": "Not found.", "code": "not_found"}
    assert client.get(f"/org/{org.slug}/outreach/status.json").status_code == 404
    assert Encounter.objects.count() == 0


def test_an_api_key_of_the_organization_can_sync(client, org, stocked, make_member):
    admin = make_member(org, Role.ORG_ADMIN)
    key = accounts.api_key_create(
        organization=org, name="tablet", role=Role.OUTREACH_WORKER, actor=admin
    ).secret
    sent = post(
        client, org, {"encounters": [encounter(stocked)]}, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert sent.status_code == 200 and sent.json()["stored"] == 1
    viewer_key = accounts.api_key_create(
        organization=org, name="board", role=Role.VIEWER, actor=admin
    ).secret
    refused = post(
        client, org, {"encounters": [encounter(stocked)]}, HTTP_AUTHORIZATION=f"Bearer {viewer_key}"
    )
    assert refused.status_code == 404
    assert Encounter.objects.count() == 1


def test_reasons_come_back_in_french_for_a_french_phone(device, org, stocked):
    device.cookies["django_language"] = "fr"
    me = device.get(f"/org/{org.slug}/outreach/status.json").json()
    sent = post(device, org, {"encounters": [encounter(stocked, fsa="XYZ")]}, me["csrf"])
    assert sent.json()["results"][0]["errors"] == {
        "fsa": [
            "«\u00a0XYZ\u00a0» n’est pas une zone postale canadienne\u00a0: utilisez les trois "
            "premiers caractères, comme K7L."
        ]
    }


def test_a_malformed_batch_is_a_json_4xx(device, org, stocked):
    me = device.get(f"/org/{org.slug}/outreach/status.json").json()
    not_uuid = post(device, org, {"encounters": [{**encounter(stocked), "id": "42"}]}, me["csrf"])
    too_big = post(
        device, org, {"encounters": [encounter(stocked) for _ in range(201)]}, me["csrf"]
    )
    not_json = device.post(
        url(org), "{", content_type="application/json", HTTP_X_CSRFTOKEN=me["csrf"]
    )
    for answer in (not_uuid, too_big, not_json):
        assert 400 <= answer.status_code < 500
        assert set(answer.json()) == {"detail", "code"}
    unknown_org = device.post(
        f"/api/v1/outreach/organizations/{uuid.uuid4()}/sync",
        "{}",
        content_type="application/json",
        HTTP_X_CSRFTOKEN=me["csrf"],
    )
    assert unknown_org.status_code == 404
    assert Encounter.objects.count() == 0
