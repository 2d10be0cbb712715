"""Likely duplicate listings: the same service of the same provider, entered twice.

Two services are candidates when their provider's name and their own name match after
normalization (case, accents, punctuation, legal suffixes; fuzzy, by token ratio) and they
share a place (the same normalized street address: "St"/"Street"/"rue", "Ave"/"Avenue", unit
and suite numbers left out) or a phone number (digits only, a leading 1 dropped). The same
provider's different services at one address are not candidates: their names differ.

It scales by blocking: a listing is only compared with those in the same postal area (FSA, or
the city without a postal code) and with the same civic number, or with the same phone
number, so 100,000 listings are a few hundred thousand cheap comparisons, not 10^10. Pairs
staff dismissed (``NotDuplicate``) are left out. Candidates form groups (one listing entered
three times is one group) with the reasons that linked them.

``one_per_place`` is what the public search applies to its candidates: of the entries that are
the same service of the same provider at the same place, before or without a merge, it keeps
the best one (the most recently verified, then updated, then the smallest id).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher
from itertools import combinations, pairwise
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from harbour.directory.models import (
    Address,
    NotDuplicate,
    Phone,
    Service,
    ServiceAtLocation,
)

NAME_SIMILARITY = 0.9  # provider names (token-set ratio)
SERVICE_SIMILARITY = 0.85  # service names (token-sort ratio)
STREET_SIMILARITY = 0.85  # the street part of two addresses with the same civic number
MAX_FUZZY_BLOCK = 60  # a bigger block (a shared switchboard number) is compared exactly only

REASONS = {
    "address": _("same name and address"),
    "phone": _("same name and phone number"),
}

# Street types and directions, English and French, to one spelling each.
STREET_WORDS = {
    "street": "st", "st": "st", "str": "st", "rue": "st",
    "avenue": "ave", "ave": "ave", "av": "ave",
    "road": "rd", "rd": "rd", "chemin": "rd", "ch": "rd",
    "boulevard": "blvd", "blvd": "blvd", "boul": "blvd", "bd": "blvd",
    "drive": "dr", "dr": "dr", "crescent": "cres", "cres": "cres", "cr": "cres",
    "court": "ct", "ct": "ct", "place": "pl", "pl": "pl", "lane": "ln", "ln": "ln",
    "highway": "hwy", "hwy": "hwy", "route": "hwy", "parkway": "pkwy", "pkwy": "pkwy",
    "square": "sq", "sq": "sq", "terrace": "terr", "terr": "terr", "way": "way",
    "north": "n", "nord": "n", "n": "n", "south": "s", "sud": "s", "s": "s",
    "east": "e", "est": "e", "e": "e", "west": "w", "ouest": "w", "w": "w", "o": "w",
}  # fmt: skip
UNIT = re.compile(
    r"\b(unit|suite|ste|apt|apartment|app|appartement|bureau|local|room|rm|floor|etage)"
    r"\s*#?\s*\w+|#\s*\w+"
)
LEADING_UNIT = re.compile(r"^\s*\w+\s*-\s*(?=\d)")  # "200-123 Princess St" is 123 Princess St
NAME_NOISE = {"the", "inc", "incorporated", "ltd", "limited", "corp", "corporation", "co"}


def fold(text: str | None) -> str:
    """Lower case, no accents, punctuation to spaces, spacing collapsed."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"['\u2019\u02bc`]", "", text)  # l'eau, l’eau: one word either way
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def normalize_name(name: str | None) -> str:
    return " ".join(w for w in fold(name).split() if w not in NAME_NOISE)


def normalize_street(address_1: str | None) -> str:
    """ "Suite 200, 123 Princess Street" and "123 princess st." are both "123 princess st"."""
    text = unicodedata.normalize("NFKD", address_1 or "").encode("ascii", "ignore").decode()
    text = LEADING_UNIT.sub("", text.casefold())
    text = UNIT.sub(" ", fold(text))
    return " ".join(STREET_WORDS.get(w, w) for w in text.split())


def normalize_phone(number: str | None) -> str:
    """The 10 digits of a North American number ("+1 (613) 555-0100" is "6135550100"); ""
    when there are too few digits to mean anything."""
    digits = re.sub(r"\D", "", number or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits[:10] if len(digits) >= 7 else ""


def area_of(postal_code: str | None, city: str | None) -> str:
    code = re.sub(r"\s", "", postal_code or "").upper()
    return code[:3] if len(code) >= 3 else f"city:{fold(city)}"


def place_key(address: Address | None) -> tuple[str, str] | None:
    """(postal area, normalized street address): equal keys are the same place."""
    if address is None or not (address.address_1 or "").strip():
        return None
    return area_of(address.postal_code, address.city), normalize_street(address.address_1)


def ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio() if a and b else 0.0


def at_least(a: str, b: str, threshold: float) -> bool:
    """``ratio(a, b) >= threshold``, refused early by difflib's cheap upper bounds (most
    pairs in a block are not alike)."""
    if not a or not b:
        return False
    matcher = SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= threshold
        and matcher.quick_ratio() >= threshold
        and matcher.ratio() >= threshold
    )


def _sorted_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def token_sort_ratio(a: str, b: str) -> float:
    return ratio(_sorted_tokens(a), _sorted_tokens(b))


def _token_set_texts(a: str, b: str) -> list[tuple[str, str]]:
    ta, tb = set(a.split()), set(b.split())
    if not ta or not tb:
        return []
    common = " ".join(sorted(ta & tb))
    left = f"{common} {' '.join(sorted(ta - tb))}".strip()
    right = f"{common} {' '.join(sorted(tb - ta))}".strip()
    return [(common, left), (common, right), (left, right)]


def token_set_ratio(a: str, b: str) -> float:
    """As in fuzzywuzzy: 1.0 when one name's words are all in the other's."""
    return max((ratio(x, y) for x, y in _token_set_texts(a, b)), default=0.0)


def token_set_at_least(a: str, b: str, threshold: float) -> bool:
    return any(at_least(x, y, threshold) for x, y in _token_set_texts(a, b))


# --- the finder -------------------------------------------------------------------------------


@dataclass
class Listing:
    id: Any
    provider: str  # normalized provider name
    name: str  # normalized service name
    owner_id: Any
    places: set[tuple[str, str]] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)


@dataclass
class Group:
    ids: list[Any]
    reasons: list[str]

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASONS[r]) for r in self.reasons]


def _text(*values: str | None) -> str:
    return next((v for v in values if v), "")


def listings(services: QuerySet[Service] | None = None) -> dict[Any, Listing]:
    """What the finder compares, read in four queries whatever the number of services."""
    qs = services if services is not None else Service.objects.all()
    qs = qs.exclude(status="defunct")
    found: dict[Any, Listing] = {}
    for pk, name_en, name_fr, org_en, org_fr, owner in qs.values_list(
        "pk",
        "name_en",
        "name_fr",
        "organization__name_en",
        "organization__name_fr",
        "organization__owner_id",
    ).iterator(chunk_size=2000):
        provider = normalize_name(_text(org_en, org_fr))
        found[pk] = Listing(pk, provider, normalize_name(_text(name_en, name_fr)), owner)
    # subqueries, not lists of ids: SQLite limits the parameters of a query
    ids = qs.values("pk")
    sals = ServiceAtLocation.objects.filter(service_id__in=ids)
    location_ids = sals.values("location_id")
    sal_location: dict[Any, list[Any]] = defaultdict(list)
    for service_id, location_id in sals.values_list("service_id", "location_id"):
        sal_location[location_id].append(service_id)
    for location_id, address_1, city, postal in Address.objects.filter(
        location_id__in=location_ids
    ).values_list("location_id", "address_1", "city", "postal_code"):
        if (address_1 or "").strip():
            key = (area_of(postal, city), normalize_street(address_1))
            for service_id in sal_location[location_id]:
                found[service_id].places.add(key)
    phones = Phone.objects.filter(
        Q(service_id__in=ids)
        | Q(location_id__in=location_ids)
        | Q(service_at_location__service_id__in=ids)
    ).values_list("service_id", "location_id", "service_at_location__service_id", "number")
    for service_id, location_id, sal_service_id, number in phones:
        digits = normalize_phone(number)
        if not digits:
            continue
        owners = {service_id, sal_service_id} | set(sal_location.get(location_id, ()))
        for sid in owners:
            if sid in found:
                found[sid].phones.add(digits)
    return found


def _same_listing(a: Listing, b: Listing) -> bool:
    if not a.provider or not b.provider or not a.name or not b.name:
        return False
    provider = a.provider == b.provider
    provider = provider or token_set_ratio(a.provider, b.provider) >= NAME_SIMILARITY
    return provider and (a.name == b.name or token_sort_ratio(a.name, b.name) >= SERVICE_SIMILARITY)


CIVIC = re.compile(r"\d+")


def _civic(street: str) -> str:
    match = CIVIC.match(street)
    return match.group(0) if match else " ".join(street.split()[:2])


def _compare(block: list[tuple[Listing, str]], reason: str, out: dict[Any, set[str]]) -> None:
    if len(block) < 2:
        return
    if len(block) > MAX_FUZZY_BLOCK:
        # a shared switchboard or a big building: only exact names (still linear)
        exact: dict[tuple[str, str, str], list[Listing]] = defaultdict(list)
        for listing, detail in block:
            exact[(listing.provider, listing.name, detail)].append(listing)
        for same in exact.values():
            for a, b in pairwise(same):
                out.setdefault(_pair(a.id, b.id), set()).add(reason)
        return
    for (a, street_a), (b, street_b) in combinations(block, 2):
        if a.id == b.id or not _same_listing(a, b):
            continue
        if (
            reason == "address"
            and street_a != street_b
            and not at_least(_sorted_tokens(street_a), _sorted_tokens(street_b), STREET_SIMILARITY)
        ):
            continue
        out.setdefault(_pair(a.id, b.id), set()).add(reason)


def _pair(a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b) if str(a) < str(b) else (b, a)


def candidate_pairs(found: dict[Any, Listing]) -> dict[tuple[Any, Any], set[str]]:
    """Pairs of service ids (ordered) and why they look alike, dismissed pairs left out."""
    by_place: dict[tuple[str, str], list[tuple[Listing, str]]] = defaultdict(list)
    by_phone: dict[str, list[tuple[Listing, str]]] = defaultdict(list)
    for listing in found.values():
        for area, street in listing.places:
            by_place[(area, _civic(street))].append((listing, street))
        for phone in listing.phones:
            by_phone[phone].append((listing, ""))
    pairs: dict[tuple[Any, Any], set[str]] = {}
    for block in by_place.values():
        _compare(block, "address", pairs)
    for block in by_phone.values():
        _compare(block, "phone", pairs)
    if pairs:
        dismissed = _dismissed({i for pair in pairs for i in pair})
        pairs = {p: r for p, r in pairs.items() if (str(p[0]), str(p[1])) not in dismissed}
    return pairs


def _dismissed(ids: set[Any]) -> set[tuple[str, str]]:
    rows = NotDuplicate.objects.filter(first_id__in=list(ids)).values_list("first_id", "second_id")
    return {(str(a), str(b)) for a, b in rows}


def groups(services: QuerySet[Service] | None = None) -> list[Group]:
    """Candidate groups (connected pairs), largest first, then by their first id."""
    found = listings(services)
    pairs = candidate_pairs(found)
    parent: dict[Any, Any] = {}

    def root(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[root(a)] = root(b)
    members: dict[Any, list[Any]] = defaultdict(list)
    for x in list(parent):
        members[root(x)].append(x)
    why: dict[Any, set[str]] = defaultdict(set)
    for (a, _b), reasons in pairs.items():
        why[root(a)] |= reasons
    result = []
    for top, ids in members.items():
        ids.sort(key=str)
        result.append(Group(ids, [r for r in REASONS if r in why[top]]))
    result.sort(key=lambda g: (-len(g.ids), str(g.ids[0])))
    return result


def pairs_of(ids: Sequence[Any]) -> list[tuple[Any, Any]]:
    return [_pair(a, b) for a, b in combinations(ids, 2)]


# --- one result per place in the public search ------------------------------------------------


def one_per_place(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Search candidates ``(sal_id, lat, lng, name_en, name_fr, ...)`` without the entries
    that are the same service of the same provider at the same place as a better one. Only
    entries sharing a normalized name are looked up (one query), so most searches cost
    nothing more."""
    by_name: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_name[normalize_name(_text(row[3], row[4]))].append(row[0])
    suspects = [sal_id for ids in by_name.values() if len(ids) > 1 for sal_id in ids]
    if not suspects:
        return rows
    facts = list(
        ServiceAtLocation.objects.filter(pk__in=suspects).values_list(
            "pk",
            "location_id",
            "location__latitude",
            "location__longitude",
            "service__name_en",
            "service__name_fr",
            "service__organization__name_en",
            "service__organization__name_fr",
            "service__assured_date",
            "service__updated_at",
        )
    )
    addresses = {
        location_id: (area_of(postal, city), normalize_street(address_1))
        for location_id, address_1, city, postal in Address.objects.filter(
            location_id__in=[f[1] for f in facts]
        )
        .order_by("created_at")
        .values_list("location_id", "address_1", "city", "postal_code")
        if (address_1 or "").strip()
    }
    places: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for pk, location_id, lat, lng, name_en, name_fr, org_en, org_fr, assured, updated in facts:
        where: Any = addresses.get(location_id)
        if where is None:
            if lat is None or lng is None:
                continue  # nowhere to compare: kept
            where = (round(lat, 4), round(lng, 4))
        provider = normalize_name(_text(org_en, org_fr))
        name = normalize_name(_text(name_en, name_fr))
        places[(provider, name, where)].append((pk, assured, updated))
    dropped = set()
    for entries in places.values():
        if len(entries) < 2:
            continue
        best = min(entries, key=_rank)
        dropped |= {_uuid(pk) for pk, _a, _u in entries if pk != best[0]}
    if not dropped:
        return rows
    return [row for row in rows if _uuid(row[0]) not in dropped]


def _uuid(value: Any) -> UUID:
    """Ids as the database gives them (hex text on SQLite) or as UUIDs, compared alike."""
    return value if isinstance(value, UUID) else UUID(str(value))


def _rank(entry: tuple[Any, date | None, datetime | None]) -> tuple[int, float, float, str]:
    pk, assured, updated = entry
    return (
        0 if assured else 1,
        -(assured.toordinal() if assured else 0),
        -(updated.timestamp() if updated else 0),
        str(pk),
    )


def total(services: Iterable[Group]) -> int:
    """How many listings the groups hold beyond one each: the rows a merge would remove."""
    return sum(len(g.ids) - 1 for g in services)


# --- what the staff page shows ----------------------------------------------------------------


@dataclass
class Card:
    service: Service
    provider: str
    addresses: list[str]
    phones: list[str]


def card(service: Service) -> Card:
    sals = service.service_at_locations.select_related("location").prefetch_related(
        "location__addresses", "location__phones"
    )
    addresses, phones = [], [p.number for p in service.phones.all()]
    for sal in sals:
        for a in sal.location.addresses.all():
            addresses.append(", ".join(x for x in (a.address_1, a.city, a.postal_code) if x))
        phones += [p.number for p in sal.location.phones.all()]
    return Card(
        service,
        str(service.organization.name),
        list(dict.fromkeys(addresses)),
        list(dict.fromkeys(phones)),
    )


@dataclass
class StaffGroup:
    ids: list[Any]
    reasons: list[str]
    cards: list[Card]


def staff_groups(actor: Any, *, organization: Any) -> list[StaffGroup]:
    """The candidate groups among the listings this organization maintains (its coordinators
    only: the same people who may edit and merge them)."""
    from harbour.core.permissions import scope
    from harbour.core.roles import Role

    own = scope(
        Service.objects.all(), actor, field="organization__owner", minimum=Role.COORDINATOR
    ).filter(organization__owner=organization)
    found = groups(own)
    services = {
        s.pk: s
        for s in own.filter(pk__in=[i for g in found for i in g.ids]).select_related("organization")
    }
    return [
        StaffGroup(g.ids, g.reason_labels, [card(services[i]) for i in g.ids if i in services])
        for g in found
    ]
