"""Demo directory: the real, bilingual Kingston services file converted to HSDS records, plus
clearly fictional services in the other demo areas. Idempotent (ids are derived from the
source ids), so `harbour demo` can run again."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, time
from importlib import resources
from typing import Any

from django.db import transaction

from harbour.core import geo
from harbour.directory import services as directory_services
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    LocationType,
    Phone,
    RequiredDocument,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
)

NAMESPACE = uuid.UUID("6b0f4e2a-3c1d-4c8e-9a57-1f2e3d4c5b6a")
POSTAL = re.compile(r"\b([ABCEGHJKLMNPRSTVXY]\d[A-Z])\s?(\d[A-Z]\d)\b", re.IGNORECASE)
ADDRESS = re.compile(
    r"^(?P<street>.+?),\s*(?P<city>[^,]+?),\s*(?P<prov>[A-Z]{2})\s+(?P<postal>[A-Z]\d[A-Z]\s?\d[A-Z]\d)",
    re.IGNORECASE,
)
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

# Kingston's categories -> Harbour taxonomy codes.
CATEGORY_CODES = {
    "Crisis": ["mental-health.crisis-services"],
    "Health": ["health-care"],
    "Community": ["basic-needs.drop-in"],
    "Legal": ["legal.legal-aid"],
    "Food": ["basic-needs.food"],
    "Housing": ["basic-needs.housing"],
    "Employment": ["employment.employment-training"],
    "Wellness": ["mental-health.counselling"],
    "Education": ["employment.employment-training"],
    "Financial": ["employment.income-support"],
    "Indigenous": ["indigenous"],
    "Transport": ["basic-needs"],
}
# Words in a listing that add a more precise code.
KEYWORD_CODES = [
    (re.compile(r"naloxone", re.I), "harm-reduction.naloxone"),
    (re.compile(r"harm reduction|needle|syringe|réduction des méfaits", re.I), "harm-reduction"),
    (re.compile(r"consumption|overdose prevention", re.I), "harm-reduction.supervised-consumption"),
    (re.compile(r"drug checking|test strip", re.I), "harm-reduction.drug-checking"),
    (re.compile(r"methadone|suboxone|buprenorphine|opioid agonist", re.I), "treatment.oat"),
    (re.compile(r"withdrawal|detox", re.I), "treatment.withdrawal-management"),
    (re.compile(r"addiction|substance use", re.I), "treatment"),
    (re.compile(r"shelter", re.I), "basic-needs.shelter"),
    (re.compile(r"food bank|meal", re.I), "basic-needs.food"),
    (re.compile(r"peer support", re.I), "recovery.peer-support-groups"),
    (re.compile(r"grief|bereave", re.I), "family-support.grief-support"),
]


PHONE = re.compile(r"(\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}|\b\d{3}\b")


def split_phone(text: str) -> tuple[str, str]:
    """'613-546-1777 (Crisis Line)' -> ('613-546-1777', 'Crisis Line')."""
    match = PHONE.search(text)
    if match is None:
        return text[:50], ""
    rest = (text[: match.start()] + text[match.end() :]).strip(" ;,()-")
    return match.group(0).strip()[:50], rest[:200]


def sid(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(parts))


def _kingston() -> list[dict[str, Any]]:
    text = (
        resources.files("harbour.demo")
        .joinpath("data", "kingston_services.json")
        .read_text("utf-8")
    )
    return list(json.loads(text))


def _time(value: str) -> time:
    hour, minute = (int(x) for x in value.split(":")[:2])
    if (hour, minute) == (23, 59):
        return time(0, 0)  # "until midnight"
    return time(hour, minute)


def _codes(item: dict[str, Any]) -> list[str]:
    codes = list(CATEGORY_CODES.get(item.get("intent_category", ""), []))
    text = " ".join(str(item.get(k) or "") for k in ("name", "description"))
    codes += [code for pattern, code in KEYWORD_CODES if pattern.search(text)]
    fees = str(item.get("fees") or "").lower()
    if fees.startswith("free"):
        codes.append("barrier.free")
    if item.get("virtual_delivery"):
        codes.append("access.virtual")
    return list(dict.fromkeys(codes))


def _verified(item: dict[str, Any]) -> date | None:
    stamp = (item.get("provenance") or {}).get("verified_at")
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
    except ValueError:
        return None


@transaction.atomic
def load_kingston() -> int:
    """Convert and load the Kingston services file; returns the number of services."""
    services = []
    for item in _kingston():
        key = str(item["id"])
        org, _ = DirectoryOrganization.objects.update_or_create(
            id=sid("org", key),
            defaults={"name_en": item["name"], "name_fr": item.get("name_fr") or item["name"]},
        )
        status = str(item.get("status") or "Active").lower()
        service, _ = Service.objects.update_or_create(
            id=sid("service", key),
            defaults={
                "organization": org,
                "name_en": item["name"],
                "name_fr": item.get("name_fr") or item["name"],
                "description_en": item.get("description") or "",
                "description_fr": item.get("description_fr") or "",
                "url": item.get("url") or "",
                "email": item.get("email") or "",
                "status": ServiceStatus.ACTIVE if status == "active" else ServiceStatus.INACTIVE,
                "fees_description_en": item.get("fees") or "",
                "application_process_en": item.get("application_process") or "",
                "eligibility_description_en": item.get("eligibility_notes") or "",
                "eligibility_description_fr": item.get("eligibility_notes_fr") or "",
                "assured_date": _verified(item),
            },
        )
        Phone.objects.filter(service=service).delete()
        if item.get("phone"):
            number, label = split_phone(str(item["phone"]))
            Phone.objects.create(service=service, number=number, description_en=label)
        RequiredDocument.objects.filter(service=service).delete()
        docs = str(item.get("documents_required") or "")
        if docs and not docs.lower().startswith("none"):
            RequiredDocument.objects.create(service=service, document=docs[:300])
        location = _location(item, org, key)
        sal, _ = ServiceAtLocation.objects.get_or_create(
            id=sid("sal", key), defaults={"service": service, "location": location}
        )
        _schedules(item, location)
        directory_services.service_set_terms(service=service, codes=_codes(item))
        services.append(service)
        directory_services.opening_rows_rebuild(service_at_locations=[sal])
    directory_services.service_reindex(services=services)
    return len(services)


def _location(item: dict[str, Any], org: DirectoryOrganization, key: str) -> Location:
    address = str(item.get("address") or "")
    coords = item.get("coordinates") or {}
    lat, lng = coords.get("lat"), coords.get("lng")
    match = POSTAL.search(address)
    approximate = False
    if (lat is None or lng is None) and match:
        approximate = True
        centroid = geo.fsa_centroid(match.group(1))
        if centroid is not None:
            lat, lng = centroid.lat, centroid.lng
    virtual = lat is None or lng is None
    location, _ = Location.objects.update_or_create(
        id=sid("location", key),
        defaults={
            "organization": org,
            "location_type": LocationType.VIRTUAL if virtual else LocationType.PHYSICAL,
            "name_en": "",
            "latitude": lat,
            "longitude": lng,
            "coordinates_approximate": approximate,
            "timezone": "America/Toronto",
        },
    )
    Address.objects.filter(location=location).delete()
    parsed = ADDRESS.match(address)
    if parsed and not virtual:
        Address.objects.create(
            location=location,
            address_1=parsed["street"].strip()[:300],
            city=parsed["city"].strip()[:200],
            state_province=parsed["prov"].upper(),
            postal_code=parsed["postal"].upper(),
            country="CA",
        )
    return location


def _schedules(item: dict[str, Any], location: Location) -> None:
    Schedule.objects.filter(location=location).delete()
    weekly = item.get("hours") or {}
    groups: dict[tuple[str, str], list[str]] = {}
    for index, day in enumerate(DAYS):
        span = weekly.get(day)
        if isinstance(span, dict) and span.get("open") and span.get("close"):
            groups.setdefault((span["open"], span["close"]), []).append(BYDAY[index])
    for (opens, closes), days in groups.items():
        Schedule.objects.create(
            location=location,
            freq="WEEKLY",
            byday=",".join(days),
            opens_at=_time(opens),
            closes_at=_time(closes),
            notes_en=str(weekly.get("notes") or "")[:500],
        )


# --- fictional services in the other demo areas ---------------------------------------------

FICTIONAL = [
    # (key, name_en, name_fr, codes, city, province, fsa, schedule [(byday, opens, closes)])
    (
        "mtl-ops",
        "Overdose prevention site (demo)",
        "Site de prévention des surdoses (démo)",
        [
            "harm-reduction.supervised-consumption",
            "harm-reduction.naloxone",
            "barrier.no-id-needed",
            "barrier.anonymous",
            "barrier.walk-in",
            "barrier.free",
        ],
        "Montréal",
        "QC",
        "H2X",
        [("MO,TU,WE,TH,FR,SA,SU", "08:00", "00:00")],
    ),
    (
        "mtl-drugcheck",
        "Drug checking drop-in (demo)",
        "Analyse de substances sans rendez-vous (démo)",
        ["harm-reduction.drug-checking", "barrier.anonymous", "barrier.free", "barrier.walk-in"],
        "Montréal",
        "QC",
        "H2L",
        [("TU,TH", "12:00", "18:00"), ("SA", "10:00", "14:00")],
    ),
    (
        "mtl-oat",
        "Rapid access opioid agonist treatment clinic (demo)",
        "Clinique d’accès rapide au traitement par agonistes opioïdes (démo)",
        ["treatment.oat", "barrier.no-health-card-needed", "barrier.no-referral-needed"],
        "Montréal",
        "QC",
        "H3H",
        [("MO,TU,WE,TH,FR", "09:00", "16:00")],
    ),
    (
        "mtl-shelter",
        "Night shelter (demo)",
        "Refuge de nuit (démo)",
        ["basic-needs.shelter", "barrier.no-abstinence-required", "barrier.free"],
        "Montréal",
        "QC",
        "H2X",
        [("MO,TU,WE,TH,FR,SA,SU", "20:00", "08:00")],
    ),
    (
        "hal-naloxone",
        "Rural naloxone and supplies outreach (demo)",
        "Naloxone et matériel en milieu rural (démo)",
        ["harm-reduction.naloxone", "harm-reduction.syringe-services", "barrier.free"],
        "Haliburton",
        "ON",
        "K0M",
        [("MO,WE,FR", "10:00", "15:00")],
    ),
    (
        "hal-peer",
        "Peer support circle (demo)",
        "Cercle de soutien par les pairs (démo)",
        ["recovery.peer-support-groups", "barrier.free", "barrier.walk-in"],
        "Haliburton",
        "ON",
        "K0M",
        [("TH", "18:30", "20:00")],
    ),
    (
        "kgn-withdrawal",
        "Withdrawal management beds (demo)",
        "Lits de gestion du sevrage (démo)",
        ["treatment.withdrawal-management", "barrier.no-health-card-needed"],
        "Kingston",
        "ON",
        "K7K",
        [("MO,TU,WE,TH,FR,SA,SU", "00:00", "00:00")],
    ),
]


@transaction.atomic
def load_fictional() -> int:
    org, _ = DirectoryOrganization.objects.update_or_create(
        id=sid("org", "demo-fictional"),
        defaults={
            "name_en": "Harbour demo services (fictional)",
            "name_fr": "Services de démonstration Harbour (fictifs)",
        },
    )
    services = []
    for key, name_en, name_fr, codes, city, province, fsa, spans in FICTIONAL:
        centroid = geo.fsa_centroid(fsa)
        service, _ = Service.objects.update_or_create(
            id=sid("service", key),
            defaults={
                "organization": org,
                "name_en": name_en,
                "name_fr": name_fr,
                "description_en": "A fictional service for trying Harbour. It does not exist.",
                "description_fr": "Un service fictif pour essayer Harbour. Il n’existe pas.",
                "status": ServiceStatus.ACTIVE,
                "assured_date": date(2026, 11, 1),
            },
        )
        location, _ = Location.objects.update_or_create(
            id=sid("location", key),
            defaults={
                "organization": org,
                "name_en": f"{city} (demo)",
                "name_fr": f"{city} (démo)",
                "latitude": centroid.lat if centroid else None,
                "longitude": centroid.lng if centroid else None,
                "timezone": "America/Vancouver" if province == "BC" else "America/Toronto",
                "confidential": key == "mtl-shelter",
                "coordinates_approximate": True,
            },
        )
        Address.objects.update_or_create(
            id=sid("address", key),
            defaults={
                "location": location,
                "address_1": "1 Demo Street",
                "city": city,
                "state_province": province,
                "postal_code": f"{fsa} 0A0",
            },
        )
        Phone.objects.update_or_create(
            id=sid("phone", key), defaults={"service": service, "number": "555-0100"}
        )
        sal, _ = ServiceAtLocation.objects.get_or_create(
            id=sid("sal", key), defaults={"service": service, "location": location}
        )
        Schedule.objects.filter(location=location).delete()
        for byday, opens, closes in spans:
            Schedule.objects.create(
                location=location,
                freq="WEEKLY",
                byday=byday,
                opens_at=_time(opens),
                closes_at=_time(closes),
            )
        directory_services.service_set_terms(service=service, codes=codes)
        directory_services.opening_rows_rebuild(service_at_locations=[sal])
        services.append(service)
    directory_services.service_reindex(services=services)
    return len(services)


def load() -> int:
    directory_services.taxonomy_load_harbour()
    return load_kingston() + load_fictional()
