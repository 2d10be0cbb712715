"""Every write to the directory: keyword-only, atomic, audited where it changes a listing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from importlib import resources
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.core import audit, geo
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.directory import hours, textsearch
from harbour.directory.models import (
    Address,
    Attribute,
    DirectoryOrganization,
    Location,
    OpeningRow,
    Phone,
    Schedule,
    SearchEntry,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    SuggestedEdit,
    SuggestionStatus,
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
    """Recompute the search document of each service, its full-text row and its search entries.

    Run after any change to a service, its terms, locations or schedules (after
    ``opening_rows_rebuild`` when hours changed)."""
    count = 0
    reindexed: list[Any] = []
    with transaction.atomic():
        for service in services:
            reindexed.append(service.pk)
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
        search_entries_rebuild(service_ids=reindexed)
    return count


# A confidential location with no postal code is placed in the postal area whose centre is
# nearest to it, if one is this close; otherwise it is found by words only, never by place.
AREA_SEARCH_KM = 100.0


def confidential_area(
    *, postal_code: str, latitude: float | None, longitude: float | None
) -> geo.Place | None:
    """The postal area (FSA) a confidential location is published as: the one of its postal
    code, else the one whose centre is nearest to its position; None when neither is known."""
    centre = geo.fsa_centroid(postal_code) if postal_code else None
    if centre is None and latitude is not None and longitude is not None:
        fsa = geo.nearest_fsa(latitude, longitude, within_km=AREA_SEARCH_KM)
        centre = geo.fsa_centroid(fsa) if fsa else None
    return centre


def search_position(
    *,
    confidential: bool,
    latitude: float | None,
    longitude: float | None,
    postal_code: str = "",
) -> tuple[float | None, float | None, str]:
    """(latitude, longitude, area) a search entry is found and measured by.

    A public location: its own position and no area. A confidential one: the centre of its
    postal area and the area's code, so that the index (and every answer read from it) never
    holds its position."""
    if not confidential:
        return latitude, longitude, ""
    centre = confidential_area(postal_code=postal_code, latitude=latitude, longitude=longitude)
    if centre is None:
        return None, None, ""
    return centre.lat, centre.lng, centre.label[:3]


def _postal_codes(location_ids: Iterable[Any]) -> dict[Any, str]:
    """The postal code of each location's first address (as the public pages show it)."""
    found: dict[Any, str] = {}
    for location_id, code in (
        Address.objects.filter(location_id__in=list(location_ids))
        .order_by("created_at")
        .values_list("location_id", "postal_code")
    ):
        found.setdefault(location_id, code or "")
    return found


def _padded(words: Iterable[str]) -> str:
    return f" {' '.join(words)} "


def search_entries_rebuild(*, service_ids: Iterable[Any], chunk: int = 500) -> int:
    """Rewrite the ``SearchEntry`` rows of these services from their current data: one per
    service at a location when the service is active, none otherwise."""
    ids = list(service_ids)
    written = 0
    with transaction.atomic():
        for i in range(0, len(ids), chunk):
            part = ids[i : i + chunk]
            SearchEntry.objects.filter(service_id__in=part).delete()
            found = {
                pk: (document, name_en, name_fr)
                for pk, document, name_en, name_fr in Service.objects.filter(
                    pk__in=part, status=ServiceStatus.ACTIVE
                ).values_list("pk", "search_document", "name_en", "name_fr")
            }
            documents = {pk: values[0] for pk, values in found.items()}
            codes: dict[Any, dict[str, set[str]]] = {
                pk: {"category": set(), "attribute": set()} for pk in documents
            }
            for service_id, code, kind in Attribute.objects.filter(
                link_entity="service", link_id__in=list(documents)
            ).values_list("link_id", "taxonomy_term__code", "taxonomy_term__kind"):
                if code and kind in codes[service_id]:
                    codes[service_id][kind].add(code)
            sals = list(
                ServiceAtLocation.objects.filter(service_id__in=list(documents)).values_list(
                    "pk",
                    "service_id",
                    "location__latitude",
                    "location__longitude",
                    "location__timezone",
                    "location__confidential",
                    "location_id",
                )
            )
            postal = _postal_codes({sal[6] for sal in sals if sal[5]})
            rows: dict[Any, list[hours.Row]] = {sal[0]: [] for sal in sals}
            for sal_id, *row in OpeningRow.objects.filter(
                service_at_location_id__in=list(rows)
            ).values_list(
                "service_at_location_id",
                "weekday",
                "start_minute",
                "end_minute",
                "valid_from",
                "valid_to",
            ):
                rows[sal_id].append(tuple(row))  # type: ignore[arg-type]
            entries = []
            for sal_id, service_id, lat, lng, tz, confidential, location_id in sals:
                lat, lng, area = search_position(
                    confidential=confidential,
                    latitude=lat,
                    longitude=lng,
                    postal_code=postal.get(location_id, ""),
                )
                entry = SearchEntry(
                    service_at_location_id=sal_id,
                    service_id=service_id,
                    latitude=lat,
                    longitude=lng,
                    grid_cell=geo.grid_cell(lat, lng),
                    area=area,
                    timezone=tz,
                    week=hours.hour_map(rows[sal_id]),
                    document=_padded((documents[service_id] or "").split()),
                    category_codes=_padded(sorted(codes[service_id]["category"])),
                    attribute_codes=_padded(sorted(codes[service_id]["attribute"])),
                    name_en=found[service_id][1] or "",
                    name_fr=found[service_id][2] or "",
                )
                entries.append(entry)
            SearchEntry.objects.bulk_create(entries, batch_size=1000)
            written += len(entries)
    return written


# --- opening hours --------------------------------------------------------------------------


def schedule_intervals(schedules: Iterable[Schedule]) -> list[hours.Interval]:
    intervals: list[hours.Interval] = []
    for schedule in schedules:
        if schedule.opens_at is None or schedule.closes_at is None:
            continue
        if schedule.freq and schedule.freq.strip().upper() != "WEEKLY":
            continue  # kept and exported, but Harbour computes weekly hours only
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
    """Rewrite the ``OpeningRow`` rows of these services at locations from their schedules.

    Follow with ``service_reindex`` of their services: search entries keep a map of the
    hours."""
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


# --- suggested edits and staff edits ----------------------------------------------------------

SUGGESTION_FIELDS = {
    # field people can point at -> the Service attribute an accepted suggestion changes
    "phone": None,  # the first phone of the service
    "url": "url",
    "email": "email",
    "fees": "fees_description",
    "eligibility": "eligibility_description",
    "closed": "status",
    "hours": None,
    "address": None,
    "other": None,
}
TRANSLATED = {"fees_description", "eligibility_description"}
STALE_DAYS = 180
# How long the contact given with a suggestion nobody has decided is kept.
SUGGESTION_CONTACT_DAYS = 90


@transaction.atomic
def suggestion_create(
    *,
    service: Service,
    field: str,
    message: str,
    suggested_value: str = "",
    contact: str = "",
    language: str = "en",
) -> SuggestedEdit:
    """Anyone may suggest a correction; nothing about them is kept but what they typed."""
    if field not in SUGGESTION_FIELDS:
        raise ValidationError({"field": _("Choose what is wrong.")})
    suggestion = SuggestedEdit(
        service=service,
        field=field,
        message=message.strip()[:2000],
        suggested_value=suggested_value.strip()[:500],
        contact=contact.strip()[:200],
        language="fr" if language.startswith("fr") else "en",
    )
    suggestion.full_clean()
    suggestion.save()
    _tell_owner(suggestion)
    return suggestion


def _tell_owner(suggestion: SuggestedEdit) -> None:
    """Email the owning organization's coordinators and admins (queued with the suggestion)."""

    from harbour.accounts.models import Organization
    from harbour.accounts.selectors import member_emails
    from harbour.core.tasks import send_email
    from harbour.core.views import absolute_url

    owner_id = _owner_id(suggestion.service)
    if owner_id is None:
        return
    owner = Organization.objects.get(pk=owner_id)
    emails = member_emails(owner_id)
    if not emails:
        return
    url = absolute_url("directory-staff:suggestions", slug=owner.slug)
    name_en = getattr(suggestion.service, "name_en", "")
    name_fr = getattr(suggestion.service, "name_fr", "") or name_en
    send_email.enqueue(
        to=emails,
        subject=f"Harbour: {name_en} — suggested edit / modification proposée",
        body=(
            f"Someone suggested a change to “{name_en}”. Review it here:\n{url}\n\n"
            f"Quelqu’un a proposé une modification à « {name_fr} ». "
            f"Examinez-la ici :\n{url}\n"
        ),
        idempotency_key=f"suggestion:{suggestion.id}",
    )


def _owner_id(service: Service) -> Any:
    return DirectoryOrganization.objects.filter(pk=service.organization_id).values_list(
        "owner_id", flat=True
    )[0]


def _review(
    suggestion: SuggestedEdit, actor: Any, note: str, status: str
) -> tuple[SuggestedEdit, Any]:
    """Lock a pending suggestion and record its review; only the owner's coordinators may."""
    owner_id = _owner_id(suggestion.service)
    require_role(actor, owner_id, Role.COORDINATOR)
    suggestion = SuggestedEdit.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SuggestionStatus.PENDING:
        raise ValidationError(_("This suggestion was already reviewed."))
    suggestion.status = status
    suggestion.reviewed_by = actor
    suggestion.reviewed_at = timezone.now()
    suggestion.review_note = note.strip()[:1000]
    suggestion.contact = ""  # only needed while it is being reviewed
    suggestion.save(
        update_fields=[
            "status",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "contact",
            "updated_at",
        ]
    )
    return suggestion, owner_id


def _apply(suggestion: SuggestedEdit) -> str:
    """Apply an accepted suggestion's value to the listing; returns what changed ("" if none)."""
    service = suggestion.service
    target = SUGGESTION_FIELDS.get(suggestion.field)
    value = suggestion.suggested_value
    if suggestion.field == "closed":
        service.status = ServiceStatus.TEMPORARILY_CLOSED
        service.save(update_fields=["status", "updated_at"])
        return "status"
    if suggestion.field == "phone" and value:
        phone = service.phones.order_by("created_at").first()
        if phone is None:
            Phone.objects.create(service=service, number=value[:50])
        else:
            phone.number = value[:50]
            phone.save(update_fields=["number", "updated_at"])
        return "phone"
    if target and value:
        name = f"{target}_{suggestion.language}" if target in TRANSLATED else target
        setattr(service, name, value)
        service.full_clean(exclude=["search_document"])
        service.save(update_fields=[name, "updated_at"])
        return name
    return ""


@transaction.atomic
def suggestion_contacts_purge(*, now: Any = None) -> int:
    """Erase the contact given with suggestions still pending after
    ``SUGGESTION_CONTACT_DAYS`` days (a decided suggestion lost its contact when decided);
    returns how many were erased. The suggestion itself stays for review."""
    cutoff = (now or timezone.now()) - timedelta(days=SUGGESTION_CONTACT_DAYS)
    return (
        SuggestedEdit.objects.filter(created_at__lt=cutoff)
        .exclude(contact="")
        .update(contact="", updated_at=now or timezone.now())
    )


@transaction.atomic
def suggestion_accept(*, suggestion: SuggestedEdit, actor: Any, note: str = "") -> SuggestedEdit:
    """Accept a suggestion; where it names a field, apply the suggested value to the listing."""
    suggestion, owner_id = _review(suggestion, actor, note, SuggestionStatus.ACCEPTED)
    applied = _apply(suggestion)
    audit.record(
        action=AuditAction.DIRECTORY_SUGGESTION_ACCEPT,
        actor=actor,
        organization_id=owner_id,
        obj=suggestion,
        metadata={
            "service": str(suggestion.service_id),
            "field": suggestion.field,
            "applied": applied,
        },
    )
    if applied:
        service_reindex(services=[suggestion.service])
    return suggestion


@transaction.atomic
def suggestion_reject(*, suggestion: SuggestedEdit, actor: Any, note: str = "") -> SuggestedEdit:
    suggestion, owner_id = _review(suggestion, actor, note, SuggestionStatus.REJECTED)
    audit.record(
        action=AuditAction.DIRECTORY_SUGGESTION_REJECT,
        actor=actor,
        organization_id=owner_id,
        obj=suggestion,
        metadata={"service": str(suggestion.service_id), "field": suggestion.field},
    )
    return suggestion


EDITABLE_FIELDS = (
    "name_en",
    "name_fr",
    "description_en",
    "description_fr",
    "url",
    "email",
    "status",
    "application_process_en",
    "application_process_fr",
    "fees_description_en",
    "fees_description_fr",
    "eligibility_description_en",
    "eligibility_description_fr",
    "minimum_age",
    "maximum_age",
    "alert_en",
    "alert_fr",
)


@transaction.atomic
def service_update(
    *, service: Service, actor: Any, changes: dict[str, Any], verified: bool = False
) -> Service:
    """Staff of the owning organization edit a listing; ``verified`` stamps today's date."""
    owner_id = _owner_id(service)
    require_role(actor, owner_id, Role.COORDINATOR)
    service = Service.objects.select_for_update().get(pk=service.pk)
    changed = []
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValidationError({name: _("This field cannot be edited here.")})
        if getattr(service, name) != value:
            setattr(service, name, value)
            changed.append(name)
    if verified:
        service.assured_date = timezone.localdate()
        service.assurer_email = getattr(actor, "email", "")
        changed.append("assured_date")
    service.full_clean(exclude=["search_document"])
    service.save()
    audit.record(
        action=AuditAction.DIRECTORY_SERVICE_UPDATE,
        actor=actor,
        organization_id=owner_id,
        obj=service,
        metadata={"fields": changed},
    )
    service_reindex(services=[service])
    return service


def stale_before(today: date | None = None) -> date:
    return (today or timezone.localdate()) - timedelta(days=STALE_DAYS)


def stale_listings_notify(today: date | None = None) -> int:
    """Email the coordinators of each organization whose active listings were not verified
    for 180 days; returns the number of organizations told."""
    from django.db.models import Count

    from harbour.accounts.models import Organization
    from harbour.accounts.selectors import member_emails
    from harbour.core.tasks import send_email
    from harbour.core.views import absolute_url

    cutoff = stale_before(today)
    stale = (
        Service.objects.filter(status=ServiceStatus.ACTIVE, organization__owner__isnull=False)
        .filter(models.Q(assured_date__isnull=True) | models.Q(assured_date__lt=cutoff))
        .values("organization__owner")
        .annotate(n=Count("id"))
    )
    told = 0
    week = (today or timezone.localdate()).isocalendar()
    for row in stale:
        owner = Organization.objects.get(pk=row["organization__owner"])
        emails = member_emails(owner.pk)
        if not emails:
            continue
        url = absolute_url("directory-staff:listings", slug=owner.slug)
        n = row["n"]
        name_en = getattr(owner, "name_en", "") or str(owner.name)
        name_fr = getattr(owner, "name_fr", "") or name_en
        send_email.enqueue(
            to=emails,
            subject=f"Harbour: {n} listing(s) need checking / fiche(s) à vérifier",
            body=(
                f"{n} of {name_en}'s listings were not verified for {STALE_DAYS} days. "
                f"Please check them:\n{url}\n\n"
                f"{n} fiche(s) de {name_fr} n’ont pas été vérifiées "
                f"depuis {STALE_DAYS} jours. "
                f"Merci de les vérifier :\n{url}\n"
            ),
            idempotency_key=f"stale:{owner.id}:{week.year}-{week.week}",
        )
        told += 1
    return told
