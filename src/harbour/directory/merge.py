"""Merging duplicate listings, and saying two are not duplicates. Keyword-only, atomic, audited.

A merge keeps one service (the survivor) and folds the others into it:

- the survivor's empty fields are filled from the others (its own values are never replaced);
- the others' places, phones, contacts, schedules, languages, areas, costs, documents,
  fundings, suggested edits, referrals and taxonomy terms move to the survivor, except what the
  survivor already has (a place at the same normalized address, a phone with the same number,
  the same term): those copies are removed;
- every removed id is kept in ``MergedId``: the service's to the survivor, a place's to the
  survivor's place, a phone's to the survivor's phone, a copy's to nothing. The public page and
  the HSDS API send old service ids to the survivor, and a re-import of a source that still has
  the old ids updates the survivor instead of creating the duplicate again;
- the audit event names the survivor, the merged ids and the filled fields; the search index
  and opening hours of the survivor are rebuilt.

Only coordinators of the Harbour organization that maintains all the listings may merge them
(``system=True`` is for the ``merge-duplicates`` command run by whoever runs the server).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.admin.utils import NestedObjects
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.directory import duplicates, hsds
from harbour.directory.models import (
    Address,
    Attribute,
    HsdsModel,
    MergedId,
    NotDuplicate,
    Phone,
    SearchEntry,
    Service,
    ServiceAtLocation,
)

NOT_FILLED = {"id", "organization", "created_at", "updated_at", "search_document", "hsds_extra"}
TABLE_OF = {model: table for table, model in hsds.TABLES}


def _owner_of(services: Sequence[Service]) -> Any:
    owners = {s.organization.owner_id for s in services}
    if len(owners) != 1:
        raise ValidationError(
            _("These listings are maintained by different organizations; they cannot be merged.")
        )
    return owners.pop()


def _check(actor: Any, services: Sequence[Service], system: bool) -> Any:
    owner_id = _owner_of(services)
    if not system:
        require_role(actor, owner_id, Role.COORDINATOR)
    return owner_id


def _place(sal: ServiceAtLocation) -> Any:
    address = Address.objects.filter(location_id=sal.location_id).order_by("created_at").first()
    return duplicates.place_key(address) or sal.location_id


def _alias(old_id: Any, model: type[models.Model], new_id: Any, survivor: Service) -> None:
    MergedId.objects.update_or_create(
        old_id=old_id,
        defaults={
            "table": TABLE_OF.get(model, model._meta.model_name or ""),
            "new_id": new_id,
            "service_id": survivor.pk,
        },
    )


def _fill(survivor: Service, other: Service) -> list[str]:
    filled = []
    for f in Service._meta.concrete_fields:
        if f.name in NOT_FILLED:
            continue
        mine, theirs = getattr(survivor, f.attname), getattr(other, f.attname)
        if mine in (None, "") and theirs not in (None, ""):
            setattr(survivor, f.attname, theirs)
            filled.append(f.attname)
    low, high = survivor.minimum_age, survivor.maximum_age
    if low is not None and high is not None and low > high:  # one of them came from ``other``
        for name in ("minimum_age", "maximum_age"):
            if name in filled:
                setattr(survivor, name, None)
                filled.remove(name)
    extra = {**other.hsds_extra, **survivor.hsds_extra}
    if extra != survivor.hsds_extra:
        survivor.hsds_extra = extra
        filled.append("hsds_extra")
    return filled


def _fold(survivor: Service, other: Service) -> dict[str, int]:
    """Move what the survivor lacks from ``other``; alias what it already has."""
    moved = {"places": 0, "phones": 0}
    places = {_place(sal): sal for sal in survivor.service_at_locations.all()}
    for sal in list(other.service_at_locations.all()):
        twin = places.get(_place(sal))
        if twin is None:
            twin = survivor.service_at_locations.filter(location_id=sal.location_id).first()
        if twin is not None:
            _alias(sal.pk, ServiceAtLocation, twin.pk, survivor)
            continue  # deleted with ``other``
        sal.service = survivor
        sal.save(update_fields=["service", "updated_at"])
        places[_place(sal)] = sal
        moved["places"] += 1
    numbers = {duplicates.normalize_phone(p.number): p for p in survivor.phones.all()}
    for phone in list(other.phones.all()):
        same = numbers.get(duplicates.normalize_phone(phone.number))
        if same is not None:
            _alias(phone.pk, Phone, same.pk, survivor)
            continue
        phone.service = survivor
        phone.save(update_fields=["service", "updated_at"])
        numbers[duplicates.normalize_phone(phone.number)] = phone
        moved["phones"] += 1
    terms = set(
        Attribute.objects.filter(link_entity="service", link_id=survivor.pk).values_list(
            "taxonomy_term_id", flat=True
        )
    )
    for attribute in Attribute.objects.filter(link_entity="service", link_id=other.pk):
        if attribute.taxonomy_term_id in terms:
            _alias(attribute.pk, Attribute, None, survivor)
            attribute.delete()
        else:
            attribute.link_id = survivor.pk
            attribute.save(update_fields=["link_id", "updated_at"])
    # everything else that points at a service (HSDS children, suggested edits, referrals)
    for relation in Service._meta.get_fields(include_hidden=True):
        if not (relation.one_to_many and relation.auto_created):
            continue
        related: Any = relation.related_model
        if related in {ServiceAtLocation, Phone, SearchEntry}:
            continue
        name = relation.field.name  # type: ignore[union-attr]
        related._default_manager.filter(**{name: other}).update(**{name: survivor})
    return moved


def _remove(survivor: Service, other: Service) -> None:
    """Delete ``other`` and what is left of it, keeping every removed HSDS id."""
    collector = NestedObjects(using="default")
    collector.collect([other])
    known = set(MergedId.objects.filter(service_id=survivor.pk).values_list("old_id", flat=True))
    for model, instances in collector.data.items():
        if not issubclass(model, HsdsModel):
            continue
        for instance in instances:
            if instance.pk in known:
                continue
            new_id = survivor.pk if instance.pk == other.pk else None
            _alias(instance.pk, model, new_id, survivor)
    # ids merged into ``other`` before now lead to the survivor
    MergedId.objects.filter(new_id=other.pk).update(new_id=survivor.pk, service_id=survivor.pk)
    other.delete()


@transaction.atomic
def service_merge(
    *, actor: Any, survivor: Service, others: Sequence[Service], system: bool = False
) -> Service:
    """Fold ``others`` into ``survivor`` (see the module's docstring)."""
    from harbour.directory import services as directory_services

    ids = [survivor.pk, *[o.pk for o in others]]
    if len(set(ids)) != len(ids) or not others:
        raise ValidationError(_("Choose at least two different listings."))
    locked = {
        s.pk: s
        for s in Service.objects.select_for_update()
        .filter(pk__in=ids)
        .select_related("organization")
    }
    if len(locked) != len(ids):
        raise ValidationError(_("One of these listings was merged or removed in the meantime."))
    survivor = locked[survivor.pk]
    others = [locked[o.pk] for o in others]
    owner_id = _check(actor, [survivor, *others], system)
    merged = [str(o.pk) for o in others]
    filled: list[str] = []
    moved = {"places": 0, "phones": 0}
    for other in others:
        filled += [f for f in _fill(survivor, other) if f not in filled]
        survivor.save()
        for key, n in _fold(survivor, other).items():
            moved[key] += n
        _remove(survivor, other)
    directory_services.opening_rows_rebuild(
        service_at_locations=list(survivor.service_at_locations.select_related("location"))
    )
    directory_services.service_reindex(services=[survivor])
    audit.record(
        action=AuditAction.DIRECTORY_SERVICE_MERGE,
        actor=actor,
        organization_id=owner_id,
        obj=survivor,
        metadata={
            "survivor": str(survivor.pk),
            "merged": merged,
            "filled": filled,
            **moved,
        },
    )
    return survivor


@transaction.atomic
def duplicates_dismiss(*, actor: Any, services: Sequence[Service], system: bool = False) -> int:
    """Remember that these listings are not the same (each pair); returns the pairs added."""
    services = list(
        Service.objects.filter(pk__in=[s.pk for s in services]).select_related("organization")
    )
    if len(services) < 2:
        raise ValidationError(_("Choose at least two different listings."))
    owner_id = _check(actor, services, system)
    added = 0
    for first, second in duplicates.pairs_of([s.pk for s in services]):
        _row, created = NotDuplicate.objects.get_or_create(
            first_id=first,
            second_id=second,
            defaults={
                "organization_id": owner_id,
                "dismissed_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        added += int(created)
    audit.record(
        action=AuditAction.DIRECTORY_DUPLICATE_DISMISS,
        actor=actor,
        organization_id=owner_id,
        metadata={"services": sorted(str(s.pk) for s in services), "pairs": added},
    )
    return added


def fills(survivor: Service, others: Sequence[Service]) -> list[str]:
    """The fields a merge would fill in the survivor (their labels), for the confirmation."""
    copy = Service.objects.get(pk=survivor.pk)
    filled: list[str] = []
    for other in others:
        filled += [f for f in _fill(copy, other) if f not in filled and f != "hsds_extra"]
    labels = [getattr(Service._meta.get_field(_base(f)), "verbose_name", f) for f in filled]
    return list(dict.fromkeys(str(label) for label in labels))


def _base(attname: str) -> str:
    for suffix in ("_en", "_fr"):
        if attname.endswith(suffix) and attname[: -len(suffix)] in _TRANSLATED:
            return attname[: -len(suffix)]
    return attname.removesuffix("_id")


_TRANSLATED = {
    "name",
    "alternate_name",
    "description",
    "interpretation_services",
    "application_process",
    "fees_description",
    "eligibility_description",
    "alert",
}


def survivor_of(old_id: Any, table: str = "service") -> Any:
    """The id an old (merged) id became, or None."""
    return (
        MergedId.objects.filter(old_id=old_id, table=table)
        .exclude(new_id=None)
        .values_list("new_id", flat=True)
        .first()
    )
