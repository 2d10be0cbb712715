from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_search_page_without_a_query_shows_the_form_only(client, taxonomy):
    response = client.get(reverse("directory:search"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Find help near you" in body
    assert "places found" not in body


def test_search_by_postal_code_lists_nearby_services_with_call_and_directions(client, make_service):
    make_service("Naloxone kit", codes=("harm-reduction.naloxone",))
    body = client.get(
        reverse("directory:search"), {"q": "naloxone", "near": "K7L"}
    ).content.decode()
    assert "1 place found" in body
    assert "Naloxone kit" in body
    assert 'href="tel:6135550100"' in body
    assert "openstreetmap.org/directions?to=44.23120%2C-76.48600" in body


def test_unknown_postal_code_explains_and_still_shows_results(client, make_service):
    make_service("Naloxone kit")
    body = client.get(
        reverse("directory:search"), {"q": "naloxone", "near": "Z9Z"}
    ).content.decode()
    assert "We do not know the postal code “Z9Z”." in body
    assert "Naloxone kit" in body


def test_confidential_locations_hide_address_and_directions(client, make_service):
    make_service("Safe house", confidential=True)
    body = client.get(reverse("directory:search"), {"q": "safe house"}).content.decode()
    assert "Address shared when you call." in body
    assert "1 Main St" not in body
    assert "openstreetmap.org/directions" not in body


def test_search_page_in_french(client, make_service):
    make_service("Food bank", "Banque alimentaire")
    client.cookies["django_language"] = "fr"
    body = client.get(reverse("directory:search"), {"q": "banque"}).content.decode()
    assert "Banque alimentaire" in body
    assert '<html lang="fr">' in body


def test_service_page_shows_hours_and_verification(client, make_service):
    sal = make_service("Clinic", hours=(("MO,TU,WE,TH,FR", "09:00", "17:00"),))
    body = client.get(reverse("directory:service", args=[sal.service_id])).content.decode()
    assert '<th scope="row">Monday</th><td>9 a.m. – 5 p.m.</td>' in body
    assert '<th scope="row">Sunday</th><td>Closed</td>' in body
    assert "Not verified yet." in body


def test_unknown_service_is_404(client, taxonomy):
    response = client.get(
        reverse("directory:service", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert response.status_code == 404


def test_api_search(client, make_service):
    make_service("Naloxone kit", codes=("harm-reduction.naloxone",))
    data = client.get(
        "/api/v1/directory/search", {"q": "naloxone", "near": "K7L", "lang": "fr"}
    ).json()
    assert data["total"] == 1
    assert data["place"].startswith("K7L")
    item = data["items"][0]
    assert item["name"] == "Naloxone kit"
    assert item["phone"] == "613-555-0100"
    assert item["url"].startswith("/find/service/")


def test_api_search_errors_are_clear(client, taxonomy):
    bad_place = client.get("/api/v1/directory/search", {"near": "Z9Z"})
    assert bad_place.status_code == 400
    assert bad_place.json()["code"] == "error"
    assert client.get("/api/v1/directory/search", {"lat": "44"}).status_code == 400
    assert client.get("/api/v1/directory/search", {"radius_km": "0"}).status_code == 400
    assert client.get("/api/v1/directory/search", {"sort": "price"}).status_code == 400


def test_anonymous_search_is_rate_limited(client, taxonomy, settings):
    codes = [client.get("/api/v1/directory/search").status_code for _ in range(121)]
    assert codes[:120] == [200] * 120
    assert codes[120] == 429


def test_nothing_within_the_radius_shows_the_nearest_instead(client, make_service):
    make_service("Kingston clinic", lat=44.2955 + 0.3, lng=-76.428)  # ~33 km from K7L's centre
    body = client.get(reverse("directory:search"), {"near": "K7L", "radius": "5"}).content.decode()
    assert "Nothing within 5 km. These are the nearest:" in body
    assert "Kingston clinic" in body


def test_radius_defaults_to_25_km_in_the_form(client, taxonomy):
    body = client.get(reverse("directory:search"), {"q": "x"}).content.decode()
    assert '<option value="25" selected>25 km</option>' in body


def test_tel_filter_keeps_only_what_a_phone_dials():
    from harbour.core.templatetags.harbour import tel

    assert tel("1-800-668-6868") == "18006686868"
    assert tel("(613) 544-4229 ext 2") == "6135444229"
    assert tel("+1 613 555 0100") == "+16135550100"


def test_open_at_a_chosen_time(client, make_service):
    make_service("Evening drop-in", hours=(("WE", "18:00", "21:00"),))
    # 2026-11-25 is a Wednesday; the form reads Eastern time
    evening = client.get(
        reverse("directory:search"), {"q": "drop", "open_at": "2026-11-25T19:30"}
    ).content.decode()
    morning = client.get(
        reverse("directory:search"), {"q": "drop", "open_at": "2026-11-25T09:00"}
    ).content.decode()
    assert "1 place found" in evening
    assert "0 places found" in morning
    bad = client.get(
        reverse("directory:search"), {"q": "drop", "open_at": "someday"}
    ).content.decode()
    assert "Enter a valid date/time." in bad and "1 place found" in bad
