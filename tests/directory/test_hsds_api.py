"""The HSDS API: every response validates against Open Referral's JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harbour.directory import hsds
from harbour.directory.models import DirectoryOrganization, Service, TaxonomyTerm

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "hsds" / "schema"
BASE = "https://hsds.test/schema/"
REGISTRY = Registry().with_resources(
    (
        BASE + path.name,
        Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012),
    )
    for path in SCHEMAS.glob("*.json")
    if path.name != "openapi.json"
)
PAGE = json.loads((SCHEMAS / "openapi.json").read_text())["components"]["schemas"]["Page"]


def valid(instance: object, schema_file: str) -> None:
    validator = Draft202012Validator({"$ref": BASE + schema_file}, registry=REGISTRY)
    errors = sorted(
        str(e.message) + " at " + "/".join(map(str, e.absolute_path))
        for e in validator.iter_errors(instance)
    )
    assert errors == []


def valid_page(body: dict, item_schema: str) -> None:
    Draft202012Validator(PAGE).validate(body)
    for item in body["contents"]:
        valid(item, item_schema)


@pytest.fixture
def directory(make_service):  # type: ignore[no-untyped-def]
    make_service(
        "Naloxone kit", "Trousse de naloxone", codes=("harm-reduction.naloxone", "barrier.free")
    )
    make_service("Food bank", "Banque alimentaire", codes=("basic-needs.food",), confidential=True)
    hsds.import_tabular(Path(__file__).resolve().parents[1] / "data" / "hsds" / "csv")


def test_root(client, directory):
    body = client.get("/api/hsds/").json()
    assert body["version"] == "3.0"


def test_services_page_and_full_service_validate(client, directory):
    body = client.get("/api/hsds/services", {"per_page": 2}).json()
    assert body["total_items"] == 3 and body["total_pages"] == 2 and body["size"] == 2
    valid_page(body, "service.json")
    for service in Service.objects.all():
        full = client.get(f"/api/hsds/services/{service.id}").json()
        valid(full, "service.json")
    naloxone = Service.objects.get(name_en="Naloxone kit")
    full = client.get(f"/api/hsds/services/{naloxone.id}", {"lang": "fr"}).json()
    assert full["name"] == "Trousse de naloxone"
    assert {a["taxonomy_term"]["code"] for a in full["attributes"]} == {
        "harm-reduction.naloxone",
        "barrier.free",
    }
    assert full["service_at_locations"][0]["location"]["addresses"][0]["city"] == "Kingston"


def test_confidential_locations_are_published_without_position(client, directory):
    food = Service.objects.get(name_en="Food bank")
    location = client.get(f"/api/hsds/services/{food.id}").json()["service_at_locations"][0][
        "location"
    ]
    assert "latitude" not in location and "addresses" not in location


def test_filters(client, directory):
    term = TaxonomyTerm.objects.get(code="harm-reduction.naloxone")
    assert [
        s["name"]
        for s in client.get("/api/hsds/services", {"taxonomy_term_id": str(term.id)}).json()[
            "contents"
        ]
    ] == ["Naloxone kit"]
    assert [
        s["name"] for s in client.get("/api/hsds/services", {"search": "banque"}).json()["contents"]
    ] == ["Food bank"]
    assert (
        client.get("/api/hsds/services", {"modified_after": "2100-01-01T00:00:00Z"}).json()["empty"]
        is True
    )
    assert (
        client.get("/api/hsds/services", {"attribute": "barrier.free"}).json()["total_items"] == 1
    )


def test_modified_after_with_any_offset_python_accepts_answers_without_a_server_error(
    client, directory
):
    # an offset PostgreSQL refuses (beyond ±15:59) is compared in UTC; one that leaves the
    # calendar's range is a 400 with the reason (found by the schemathesis fuzz test)
    odd = client.get("/api/hsds/services", {"modified_after": "1364-05-07T14:29:01.1+18:20"})
    everything = client.get("/api/hsds/services").json()["total_items"]
    assert (odd.status_code, odd.json()["total_items"]) == (200, everything)
    edge = client.get("/api/hsds/services", {"modified_after": "0001-01-01T00:00:00+18:00"})
    assert (edge.status_code, edge.json()["detail"]) == (400, "modified_after is out of range.")


def test_service_at_locations_near_a_postcode(client, directory):
    body = client.get(
        "/api/hsds/service_at_locations", {"postcode": "K7L", "proximity": "25000"}
    ).json()
    valid_page(body, "service_at_location.json")
    assert body["total_items"] == 2
    bad = client.get("/api/hsds/service_at_locations", {"postcode": "Z9Z"})
    assert bad.status_code == 400 and bad.json()["code"] == "error"


def test_open_at_on_both_lists(client, directory):
    near = {"postcode": "K7L", "proximity": "25000"}
    night, noon = "2026-11-25T03:00:00-05:00", "2026-11-25T12:00:00-05:00"
    sals = "/api/hsds/service_at_locations"
    assert client.get(sals, {**near, "open_at": night}).json()["total_items"] == 0
    body = client.get(sals, {**near, "open_at": noon}).json()
    valid_page(body, "service_at_location.json")
    assert body["total_items"] == 2
    open_at_noon = client.get("/api/hsds/services", {"open_at": noon}).json()["contents"]
    assert {"Naloxone kit", "Food bank"} <= {s["name"] for s in open_at_noon}
    open_at_night = client.get("/api/hsds/services", {"open_at": night}).json()["contents"]
    assert not {"Naloxone kit", "Food bank"} & {s["name"] for s in open_at_night}
    naive = client.get(sals, {**near, "open_at": "2026-11-25T12:00:00"})
    assert naive.status_code == 400 and "time zone" in naive.json()["detail"]


def test_organizations_and_taxonomies_validate(client, directory):
    body = client.get("/api/hsds/organizations").json()
    valid_page(body, "organization.json")
    org = DirectoryOrganization.objects.first()
    valid(client.get(f"/api/hsds/organizations/{org.id}").json(), "organization.json")
    valid_page(client.get("/api/hsds/taxonomies").json(), "taxonomy.json")
    terms = client.get("/api/hsds/taxonomy_terms", {"top_only": "true", "per_page": 200}).json()
    valid_page(terms, "taxonomy_term.json")
    codes = {t.get("code") for t in terms["contents"]}
    assert "harm-reduction" in codes and "harm-reduction.naloxone" not in codes
    one = terms["contents"][0]
    valid(client.get(f"/api/hsds/taxonomy_terms/{one['id']}").json(), "taxonomy_term.json")


def test_unknown_ids_and_bad_paging_are_4xx_json(client, directory):
    for path in (
        "/api/hsds/services/nope",
        "/api/hsds/organizations/00000000-0000-0000-0000-000000000000",
    ):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get("/api/hsds/services", {"per_page": 0}).status_code == 400
