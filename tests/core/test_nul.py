"""A NUL character anywhere in text input is a 400 with the reason, never a 500 (PostgreSQL
cannot store one; the schemathesis fuzz test found one on PostgreSQL)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

REASON = "Text cannot contain the NUL character (0x00)."


def test_a_nul_in_an_api_query_is_a_400_in_json(client):
    answer = client.get("/api/hsds/service_at_locations", {"attribute": "barrier\x00free"})
    assert (answer.status_code, answer.json()) == (400, {"detail": REASON, "code": "bad_request"})
    answer = client.get("/api/v1/directory/services?q=%00")
    assert answer.status_code == 400 and answer.json()["code"] == "bad_request"


def test_a_nul_in_a_json_body_or_a_form_is_a_400(client):
    answer = client.post(
        "/api/v1/outreach/organizations/00000000-0000-0000-0000-000000000000/sync",
        data=json.dumps({"encounters": [{"notes": "a\x00b"}]}),
        content_type="application/json",
    )
    assert (answer.status_code, answer.json()["detail"]) == (400, REASON)
    page = client.post(
        "/alerts/report/", "sold_as=down%00", content_type="application/x-www-form-urlencoded"
    )
    assert (page.status_code, page.content.decode()) == (400, REASON)
    # a multipart form is left to Django's form fields, which say it at the field
    page = client.post("/alerts/report/", {"sold_as": "down\x00"})
    assert page.status_code == 200 and "Null characters are not allowed." in page.content.decode()
    assert client.get("/find/", {"q": "\x00"}).status_code == 400


def test_text_that_only_looks_like_a_nul_and_binary_uploads_pass(client):
    # "%00" typed as text arrives as %2500; a JSON "\\u0000" is a backslash, not a NUL
    assert client.get("/find/", {"q": "%00"}).status_code == 200
    answer = client.post(
        "/api/v1/outreach/organizations/00000000-0000-0000-0000-000000000000/sync",
        data=json.dumps({"encounters": [{"notes": "\\u0000"}]}),
        content_type="application/json",
    )
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated")
