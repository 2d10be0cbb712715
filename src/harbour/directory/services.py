"""Every write to the directory: keyword-only, atomic, audited where it changes a listing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from harbour.directory import hours, textsearch
from harbour.directory.models import (
    Attribute,
    Location,
    OpeningRow,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

TIMEZONES_CACHE_KEY = "directory:timezones"
HARBOUR_TAXONOMY_ID = "5f1d0b8e-8a53-4a57-9a5e-2d8f3c1b7a01"


# --- search index ---------------------------------------------------------------------------


def _texts(service: Service) -> list[str | None]:
    texts: list[str | None] = []
    for lang in ("en", "fr"):
        for field in ("name", "description", "eligibility_description"):
            texts.append(getattr(service, f"{field}_{lang}", None))
        texts.append(getattr(service.organization, f"name_{lang}", None))
    texts.append(service.alternate_name)
    term_ids = Attribute.objects.filter(link_entity="service", link_id=service.id).values(
        "taxonomy_term_id"
    )
    for term in TaxonomyTerm.objects.filter(id__in=term_ids).only(
        "name_en", "name_fr", "keywords_en", "keywords_fr"
    ):
        texts += [
            getattr(term, f"{f}_{lang}") for f in ("name", "keywords") for lang in ("en", "fr")
        ]
    return texts


def service_reindex(*, services: Iterable[Service]) -> int:
    """Recompute the search document of each service and its full-text row."""
    count = 0
    with transaction.atomic():
        for service in services:
            document = textsearch.document(*_texts(service))
            Service.objects.filter(pk=service.pk).update(search_document=document)
            service.search_document = document
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "DELETE FROM directory_service_fts WHERE service_id = %s", [service.pk.hex]
                    )
                    cursor.execute(
                        "INSERT INTO directory_service_fts (service_id, document) VALUES (%s, %s)",
                        [service.pk.hex, document],
                    )
            count += 1
    return count


# --- opening hours --------------------------------------------------------------------------


def schedule_intervals(schedules: Iterable[Schedule]) -> list[hours.Interval]:
    intervals: list[hours.Interval] = []
    for schedule in schedules:
        if schedule.opens_at is None or schedule.closes_at is None:
            continue
        intervals += hours.parse_hsds_schedule(
            byday=schedule.byday or None,
            opens_at=schedule.opens_at.strftime("%H:%M"),
            closes_at=schedule.closes_at.strftime("%H:%M"),
            valid_from=schedule.valid_from.isoformat() if schedule.valid_from else None,
            valid_to=schedule.valid_to.isoformat() if schedule.valid_to else None,
            freq=schedule.freq or None,
        )
    return intervals


def effective_schedules(sal: ServiceAtLocation) -> list[Schedule]:
    """The most specific schedules: the service at this location's, else the location's,
    else the service's."""
    for filters in (
        {"service_at_location": sal},
        {
            "location_id": sal.location_id,
            "service_at_location__isnull": True,
            "service__isnull": True,
        },
        {
            "service_id": sal.service_id,
            "service_at_location__isnull": True,
            "location__isnull": True,
        },
    ):
        found = list(Schedule.objects.filter(**filters))
        if found:
            return found
    return []


def opening_rows_rebuild(*, service_at_locations: Iterable[ServiceAtLocation]) -> int:
    rows = []
    sals = list(service_at_locations)
    location_ids = {sal.location_id for sal in sals}
    locations = {
        loc.id: loc for loc in Location.objects.filter(id__in=location_ids).only("timezone")
    }
    for sal in sals:
        sal.location = locations[sal.location_id]
    with transaction.atomic():
        OpeningRow.objects.filter(service_at_location__in=sals).delete()
        for sal in sals:
            intervals = schedule_intervals(effective_schedules(sal))
            for weekday, start, end, valid_from, valid_to in hours.weekly_rows(intervals):
                rows.append(
                    OpeningRow(
                        service_at_location=sal,
                        timezone=sal.location.timezone,
                        weekday=weekday,
                        start_minute=start,
                        end_minute=end,
                        valid_from=valid_from,
                        valid_to=valid_to,
                    )
                )
        OpeningRow.objects.bulk_create(rows, batch_size=2000)
    cache.delete(TIMEZONES_CACHE_KEY)  # a location may bring a new time zone
    return len(rows)


# --- taxonomy -------------------------------------------------------------------------------


def _read_json(name: str) -> Any:
    return json.loads(
        resources.files("harbour.directory").joinpath("data", name).read_text("utf-8")
    )


@transaction.atomic
def taxonomy_load_harbour() -> Taxonomy:
    """Load (or update) Harbour's bilingual taxonomy and attributes; idempotent."""
    data = _read_json("harbour_taxonomy.json")
    meta = data["taxonomy"]
    taxonomy, _created = Taxonomy.objects.update_or_create(
        id=HARBOUR_TAXONOMY_ID,
        defaults={
            "name_en": meta["name_en"],
            "name_fr": meta["name_fr"],
            "description_en": meta.get("description_en", ""),
            "description_fr": meta.get("description_fr", ""),
            "version": meta.get("version", ""),
        },
    )
    by_code: dict[str, TaxonomyTerm] = {}
    items = [(t, "category") for t in data["terms"]] + [
        ({**a, "parent": None}, "attribute") for a in data["attributes"]
    ]
    for item, kind in items:
        term, _ = TaxonomyTerm.objects.update_or_create(
            taxonomy=taxonomy,
            code=item["code"],
            defaults={
                "name_en": item["name_en"],
                "name_fr": item["name_fr"],
                "description_en": item.get("description_en", ""),
                "description_fr": item.get("description_fr", ""),
                "keywords_en": ", ".join(item.get("keywords_en", [])),
                "keywords_fr": ", ".join(item.get("keywords_fr", [])),
                "parent": by_code.get(item["parent"]) if item.get("parent") else None,
                "kind": kind,
            },
        )
        by_code[item["code"]] = term
    return taxonomy


@transaction.atomic
def service_set_terms(*, service: Service, codes: Iterable[str]) -> list[TaxonomyTerm]:
    """Attach Harbour taxonomy terms (categories and attributes) to a service by code."""
    codes = list(dict.fromkeys(codes))
    terms = list(TaxonomyTerm.objects.filter(taxonomy_id=HARBOUR_TAXONOMY_ID, code__in=codes))
    missing = sorted(set(codes) - {t.code for t in terms})
    if missing:
        raise ValueError(f"unknown taxonomy codes: {', '.join(missing)}")
    Attribute.objects.filter(link_entity="service", link_id=service.id).exclude(
        taxonomy_term__in=terms
    ).delete()
    for term in terms:
        Attribute.objects.get_or_create(
            link_entity="service", link_id=service.id, taxonomy_term=term
        )
    return terms
