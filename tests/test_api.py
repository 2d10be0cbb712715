from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from harbour.accounts import services
from harbour.core.roles import Role
from harbour.core.tasks import heartbeat
from harbour.wsgi import application

pytestmark = pytest.mark.django_db


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def key_a(org_a, admin_a) -> str:
    return services.api_key_create(
        organization=org_a, name="t", role=Role.VIEWER, actor=admin_a
    ).secret


def test_health_reports_database_and_worker(client, run_tasks, key_a):
    before = client.get("/api/v1/health", **auth(key_a)).json()
    assert before["database"] == "ok"
    assert before["worker"] == {"status": "unknown", "last_heartbeat": None}
    assert before["status"] == "degraded"
    heartbeat.enqueue()
    run_tasks()
    after = client.get("/api/v1/health", **auth(key_a)).json()
    assert after["worker"]["status"] == "ok"
    assert after["status"] == "ok"


def test_errors_are_json_with_detail_and_code(client, key_a, org_b):
    unauthenticated = client.get("/api/v1/me")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {
        "detail": "Authentication required: an API key or a signed-in session.",
        "code": "unauthenticated",
    }
    other_org = client.get(f"/api/v1/organizations/{org_b.id}", **auth(key_a))
    assert other_org.status_code == 404
    assert other_org.json() == {"detail": "Not found.", "code": "not_found"}
    not_uuid = client.get("/api/v1/organizations/xyz", **auth(key_a))
    assert not_uuid.status_code == 422
    assert not_uuid.json()["code"] == "invalid"
    unknown = client.get("/api/v1/nothing-here", **auth(key_a))
    assert unknown.status_code == 404


def test_api_key_sees_only_its_organization(client, key_a, org_a, org_b):
    me = client.get("/api/v1/me", **auth(key_a)).json()
    assert me["kind"] == "api_key"
    assert me["memberships"] == [{"organization_id": str(org_a.id), "role": "viewer"}]
    orgs = client.get("/api/v1/organizations", **auth(key_a)).json()
    assert orgs["count"] == 1
    assert [o["slug"] for o in orgs["items"]] == ["org-a"]
    assert orgs["items"][0]["name_fr"] == "services org-a"
    one = client.get(f"/api/v1/organizations/{org_a.id}", HTTP_X_API_KEY=key_a)
    assert one.status_code == 200 and one.json()["your_role"] == "viewer"


def test_revoked_or_wrong_key_is_401(client, org_a, admin_a):
    new = services.api_key_create(organization=org_a, name="t", actor=admin_a)
    services.api_key_revoke(api_key=new.api_key, actor=admin_a)
    assert client.get("/api/v1/me", **auth(new.secret)).status_code == 401
    assert client.get("/api/v1/me", **auth("hbk_x_y")).status_code == 401


def test_audit_events_need_an_admin_key(client, org_a, admin_a, key_a):
    assert (
        client.get(f"/api/v1/organizations/{org_a.id}/audit-events", **auth(key_a)).status_code
        == 403
    )
    admin_key = services.api_key_create(
        organization=org_a, name="a", role=Role.ORG_ADMIN, actor=admin_a
    ).secret
    page = client.get(
        f"/api/v1/organizations/{org_a.id}/audit-events",
        {"action": "api-key-create"},
        **auth(admin_key),
    ).json()
    assert page["count"] == 2
    assert {item["metadata"]["name"] for item in page["items"]} == {"t", "a"}
    bad = client.get(
        f"/api/v1/organizations/{org_a.id}/audit-events", {"action": "x"}, **auth(admin_key)
    )
    assert bad.status_code == 422


@pytest.mark.parametrize("role", Role.values)
def test_session_user_of_every_role_gets_404_for_another_org(
    role, client, org_a, org_b, make_member, staff_client
):
    user = make_member(org_a, role)
    c = staff_client(user)
    response = c.get(f"/api/v1/organizations/{org_b.id}")
    assert response.status_code == 404
    assert c.get(f"/api/v1/organizations/{org_a.id}").json()["your_role"] == role


def test_session_without_required_totp_is_refused(client, org_a, make_member):
    client.force_login(make_member(org_a, Role.COORDINATOR))
    assert client.get("/api/v1/me").status_code == 401


def test_openapi_document_is_served(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Harbour API"
    assert "/api/v1/health" in doc["paths"]
    assert json.dumps(doc)  # serializable


# --- Fuzzing every operation: no input may produce a server error -----------------------------

# Reading the OpenAPI document touches no table, so it can be loaded at collection time.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def in_process_wsgi():  # type: ignore[no-untyped-def]
    """Let the WSGI app share the test's transaction, as Django's test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_api_never_answers_5xx(case, org_a, admin_a, in_process_wsgi):  # type: ignore[no-untyped-def]
    key = services.api_key_create(
        organization=org_a, name="fuzz", role=Role.ORG_ADMIN, actor=admin_a
    ).secret
    for headers in ({"Authorization": f"Bearer {key}"}, {}):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
        if response.status_code >= 400:
            content_type = response.headers.get("content-type", [""])[0]
            assert content_type.startswith("application/json"), (
                response.status_code,
                case.method,
                case.formatted_path,
                response.text[:200],
            )
            assert set(response.json()) == {"detail", "code"}, response.text[:200]


hsds_schema = schemathesis.openapi.from_wsgi("/api/hsds/openapi.json", application)


@hsds_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_hsds_api_never_answers_5xx(case, in_process_wsgi):  # type: ignore[no-untyped-def]
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
