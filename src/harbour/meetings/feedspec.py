"""The Meeting Guide JSON feed: the spec's field rules (``tests/data/meetings/spec_README.md``),
normalization of one listing into the fields Harbour keeps, its fingerprint for change
detection, and the listing Harbour writes back out.

Pure Python (no Django). :func:`normalize` never raises on bad data: it returns the problems,
each naming the item's index, its slug when readable, and the field. :func:`feed_item` writes
exactly what :func:`normalize` reads, so a feed imported again is unchanged (round trip).

Harbour adds one field the spec does not define, ``fellowship`` (``aa``, ``na``, ...): one feed
can hold several programs, and consumers ignore fields they do not know.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harbour.meetings import types as meeting_types
from harbour.meetings import weekly

RESERVED = {"feed.json", "calendar.ics", "print"}  # Harbour's pages beside /meetings/<slug>/
SLUG = re.compile(r"^[A-Za-z0-9._~-]+$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s,;]{1,64}@[^@\s,;]{1,253}\.[^@\s,;]{2,}$")
PHONE_CHARS = re.compile(r"^\+?[0-9,*#]+$")
UPDATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
TAG = re.compile(r"<[^>]{1,200}>")
# "ask for John Smith", "call Mary-Ann O'Neil": a first and a last name after a contact word
FULL_NAME = re.compile(
    r"\b(?i:ask for|contact|call|text|email|e-mail|demandez|appelez|contactez|texto)\s+"
    r"((?:[A-Z][a-zà-ÿ'’-]+)\s+(?:(?:Mc|Mac|O'|O’)?[A-Z][a-zà-ÿ'’-]{1,}))\b"
)

TEXT_FIELDS: dict[str, int] = {
    "location": 255, "location_notes": 2000, "formatted_address": 500, "address": 255,
    "city": 120, "state": 60, "postal_code": 20, "country": 60, "group": 255,
    "group_notes": 2000, "conference_url_notes": 500, "conference_phone_notes": 500,
    "venmo": 100, "square": 100, "paypal": 100, "homegroup_online": 100,
}  # fmt: skip
NOTES_MAX = 5000
KEPT = {
    "name", "slug", "day", "time", "end_time", "timezone", "types", "notes", "location",
    "location_notes", "formatted_address", "address", "city", "state", "postal_code", "country",
    "latitude", "longitude", "approximate", "region", "sub_region", "regions", "group",
    "group_notes", "conference_url", "conference_url_notes", "conference_phone",
    "conference_phone_notes", "venmo", "square", "paypal", "homegroup_online", "url",
    "feedback_emails", "fellowship", "updated",
}  # fmt: skip
# ours to write, not to take from another feed
ENTITY = {"entity", "entity_email", "entity_location", "entity_logo", "entity_phone",
          "entity_url", "entity_website_url", "feedback_url", "edit_url"}  # fmt: skip
CONTACT = {f"contact_{n}_{part}" for n in (1, 2, 3) for part in ("name", "email", "phone")}
ORDER = (
    "name", "slug", "day", "time", "end_time", "timezone", "types", "notes", "location",
    "location_notes", "formatted_address", "address", "city", "state", "postal_code", "country",
    "latitude", "longitude", "approximate", "regions", "group", "group_notes", "conference_url",
    "conference_url_notes", "conference_phone", "conference_phone_notes", "venmo", "square",
    "paypal", "homegroup_online", "url", "feedback_url", "feedback_emails", "updated", "entity",
    "entity_location", "entity_url", "fellowship",
)  # fmt: skip


@dataclass(frozen=True)
class Problem:
    index: int
    slug: str
    field: str
    message: str
    kind: str = "invalid"

    def __str__(self) -> str:
        where = f"item [{self.index}]" + (f" (slug {self.slug!r})" if self.slug else "")
        return (
            f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


@dataclass
class Normalized:
    meeting: dict[str, Any] | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()


def plain(text: str) -> str:
    """Plain text as the spec wants it: tags removed, line breaks kept, spaces tidied."""
    if "<" in text:
        text = TAG.sub(" ", text)
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    return "\n".join(lines).strip()


def full_names(text: str) -> list[str]:
    """Likely first-and-last names after a contact word (the spec: no last names)."""
    return [m.group(1) for m in FULL_NAME.finditer(text)]


def conference_phone(raw: str) -> str | None:
    """Digits, with + , * # as the spec allows (spaces, dashes, dots and brackets dropped)."""
    text = re.sub(r"[\s().-]", "", raw)
    return text if PHONE_CHARS.match(text) else None


def normalize(
    index: int,
    item: Any,
    *,
    default_timezone: str,
    default_fellowship: str | None,
    fellowships: Mapping[str, Mapping[str, meeting_types.Term]],
    own_pages: str = "",
) -> Normalized:
    """The fields Harbour keeps for one listing, or the problems that stop it.

    ``own_pages`` is the address prefix of Harbour's own meeting pages: a ``url`` pointing at
    the meeting's own page there is Harbour's, not the listing's, and is not kept."""
    if not isinstance(item, dict):
        kind = type(item).__name__
        return Normalized(None, [Problem(index, "", "", f"is a {kind}, not a meeting object")])
    raw_slug = item.get("slug")
    slug = (
        "" if isinstance(raw_slug, bool) else str(raw_slug).strip() if raw_slug is not None else ""
    )
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def error(name: str, message: str) -> None:
        errors.append(Problem(index, slug, name, message))

    def warn(name: str, message: str, kind: str) -> None:
        warnings.append(Problem(index, slug, name, message, kind))

    out: dict[str, Any] = {}
    name = _text(item.get("name"))
    if not name:
        error("name", "required: the meeting's name")
    elif len(name) > 255:
        error("name", f"{len(name)} characters; at most 255")
    out["name"] = plain(name or "")

    if raw_slug is None or slug == "":
        error("slug", "required: a unique, URL-safe id such as sunday-serenity-14")
    elif isinstance(raw_slug, bool) or not isinstance(raw_slug, str | int):
        error("slug", "must be text or a whole number")
    elif len(slug) > 64:
        error("slug", f"{len(slug)} characters; at most 64")
    elif not SLUG.match(slug):
        error("slug", f"{slug!r} is not URL-safe: use letters, digits and - _ . ~ only")
    elif slug.lower() in RESERVED:
        error("slug", f"{slug!r} is the name of one of Harbour's own pages: choose another")
    out["slug"] = slug

    has_day, has_time = item.get("day") not in (None, ""), item.get("time") not in (None, "")
    out["days"], out["start_minute"], out["end_minute"] = "", None, None
    if has_day != has_time:
        missing = "time" if has_day else "day"
        error(missing, "a weekly meeting needs both day and time (leave both out for meetings "
                       "by appointment)")  # fmt: skip
    if has_day:
        try:
            out["days"] = weekly.days_text(weekly.parse_days(item["day"]))
        except weekly.TimeError as exc:
            error("day", str(exc))
    if has_time:
        try:
            out["start_minute"] = weekly.parse_hhmm(item["time"])
        except weekly.TimeError as exc:
            error("time", str(exc))
    if item.get("end_time") not in (None, ""):
        try:
            out["end_minute"] = weekly.parse_hhmm(item["end_time"])
        except weekly.TimeError as exc:
            error("end_time", str(exc))
        if not has_time:
            error("end_time", "an end time needs a start time")

    tz = item.get("timezone")
    if tz in (None, ""):
        out["timezone"] = default_timezone
        warn("timezone", f"missing; {default_timezone} assumed", "timezone-assumed")
    else:
        try:
            weekly.zone(tz)
            out["timezone"] = tz
        except weekly.TimeError as exc:
            error("timezone", str(exc))
            out["timezone"] = default_timezone

    fellowship = item.get("fellowship", default_fellowship)
    if not fellowship:
        error("fellowship", 'unknown program: add "fellowship" to each item or pass --fellowship')
    elif fellowship not in fellowships:
        error("fellowship", f"{fellowship!r} is not a fellowship Harbour knows "
                            f"({', '.join(sorted(fellowships))})")  # fmt: skip
    out["fellowship"] = fellowship or ""
    terms = fellowships.get(str(fellowship), {}) if fellowship else {}

    raw_types = item.get("types", [])
    codes: list[str] = []
    if raw_types is None:
        raw_types = []
    if not isinstance(raw_types, list):
        error("types", 'must be an array of type codes, e.g. ["O", "D"]')
    else:
        for code in raw_types:
            text = _text(code)
            if not text or len(text) > 40 or " " in text:
                error("types", f"{code!r} is not a type code")
                continue
            codes.append(text)
    out["types"] = meeting_types.normalize_codes(codes, terms)
    for code in meeting_types.unknown(out["types"], terms):
        warn("types", f"unknown type code {code!r}: kept as it is", "unknown-type")

    notes = _text(item.get("notes"))
    if notes is None:
        error("notes", "must be text")
    else:
        if TAG.search(notes):
            warn("notes", "HTML removed: notes are plain text", "html-removed")
        out["notes"] = plain(notes)
        if len(out["notes"]) > NOTES_MAX:
            error("notes", f"{len(out['notes'])} characters; at most {NOTES_MAX}")
        for found in full_names(out["notes"]):
            warn("notes", f"may hold a full name ({found!r}): the spec asks for no last names",
                 "full-name")  # fmt: skip

    for name_, limit in TEXT_FIELDS.items():
        value = item.get(name_)
        if value is None or value == "":
            out[name_] = ""
            continue
        value = _text(value)
        if value is None:
            error(name_, "must be text")
            value = ""
        value = plain(value) if name_.endswith("notes") else " ".join(value.split())
        if len(value) > limit:
            error(name_, f"{len(value)} characters; at most {limit}")
        out[name_] = value

    lat, lng = item.get("latitude"), item.get("longitude")
    out["latitude"] = out["longitude"] = None
    if (lat in (None, "")) != (lng in (None, "")):
        error(
            "latitude" if lat in (None, "") else "longitude", "latitude and longitude go together"
        )
    elif lat not in (None, ""):
        for label, value, bound in (("latitude", lat, 90), ("longitude", lng, 180)):
            try:
                if isinstance(value, bool) or not isinstance(value, int | float | str):
                    raise ValueError(value)
                number = float(value)
                if not -bound <= number <= bound:
                    raise ValueError(value)
                out[label] = round(number, 5)
            except ValueError:
                error(label, f"{value!r} is not a number from -{bound} to {bound}")

    approximate = item.get("approximate")
    if approximate in (None, ""):
        out["approximate"] = ""
    elif approximate in (True, False):
        out["approximate"] = "yes" if approximate else "no"
    elif str(approximate).lower() in ("yes", "no"):
        out["approximate"] = str(approximate).lower()
    else:
        error("approximate", f'{approximate!r}: use "yes" or "no"')
        out["approximate"] = ""

    regions = item.get("regions")
    if regions not in (None, ""):
        if not isinstance(regions, list) or not all(_text(r) for r in regions):
            error("regions", "must be an array of region names, most general first")
            regions = []
        elif any(len(str(r)) > 120 for r in regions):
            error("regions", "a region name is longer than 120 characters")
        out["regions"] = [" ".join(str(r).split()) for r in regions][:10]
    else:
        parts = [_text(item.get("region")), _text(item.get("sub_region"))]
        if any(p is None for p in parts):
            error("region", "must be text")
        out["regions"] = [p for p in parts if p]

    url = _text(item.get("conference_url"))
    out["conference_url"] = ""
    if url is None or (url and not URL.match(url)):
        error("conference_url", "must be a web address starting with https:// that opens the "
                                "meeting")  # fmt: skip
    elif url:
        out["conference_url"] = url
    phone = _text(item.get("conference_phone"))
    out["conference_phone"] = ""
    if phone:
        dialable = conference_phone(phone)
        if dialable is None:
            error("conference_phone", f"{phone!r}: digits only, with + , * # allowed")
        else:
            out["conference_phone"] = dialable
    elif phone is None:
        error("conference_phone", "must be text")

    page = _text(item.get("url"))
    out["url"] = ""
    if page is None or (page and not URL.match(page)):
        error("url", "must be a web address starting with https://")
    elif page and not (own_pages and page == f"{own_pages}{slug}/"):
        out["url"] = page

    emails = item.get("feedback_emails", [])
    if isinstance(emails, str):
        emails = [e for e in re.split(r"[,;\s]+", emails) if e]
    out["feedback_emails"] = []
    if emails is None:
        emails = []
    if not isinstance(emails, list):
        error("feedback_emails", "must be an array of email addresses")
    else:
        for email in emails:
            if not isinstance(email, str) or not EMAIL.match(email.strip()):
                error("feedback_emails", f"{email!r} is not an email address")
            else:
                out["feedback_emails"].append(email.strip())

    updated = item.get("updated")
    if updated not in (None, "") and not (isinstance(updated, str) and UPDATED.match(updated)):
        warn("updated", f"{updated!r} is not YYYY-MM-DD HH:MM:SS (UTC); ignored", "bad-updated")

    if not (out["address"] or out["formatted_address"] or out["city"]):
        warn("", "no address or city: Meeting Guide lists only meetings with a place",
             "no-place")  # fmt: skip
    ignored = sorted(k for k in item if k not in KEPT and k not in ENTITY and k not in CONTACT)
    if ignored:
        warn("", "fields Harbour does not keep: " + ", ".join(ignored), "ignored-fields")
    if CONTACT & item.keys():
        warn("", "contact names, emails and phones are not imported (privacy)", "contacts")
    return Normalized(None if errors else out, errors, warnings)


RULES = 1  # bump when normalize() changes what it keeps or refuses: items are checked again


def raw_slug(item: Any) -> str:
    slug = item.get("slug") if isinstance(item, dict) else None
    return "" if slug is None or isinstance(slug, bool) else str(slug).strip()


def raw_hash(item: Any, context: str) -> str:
    """A hash of a feed item exactly as given, with what its import depends on (``context``:
    the defaults, the vocabularies, ``RULES``)."""
    data = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{context}\n{data}".encode()).hexdigest()[:32]


def fingerprint(meeting: Mapping[str, Any]) -> str:
    """A hash of the normalized fields: equal when nothing people see has changed. The fields
    are plain values (text, whole numbers, floats rounded to 5 decimals, lists of text), so
    their ``repr`` in key order is canonical, and several times cheaper than JSON."""
    return hashlib.sha256(repr(sorted(meeting.items())).encode()).hexdigest()[:32]


def feed_item(meeting: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """One listing of the feed from Harbour's fields (``extra``: url, feedback_url, updated,
    entity, entity_location, entity_url). Empty fields are left out, ``timezone`` never."""
    item: dict[str, Any] = {"name": meeting["name"], "slug": meeting["slug"]}
    days = weekly.days_of(meeting["days"] or "")
    if days and meeting["start_minute"] is not None:
        item["day"] = days[0] if len(days) == 1 else days
        item["time"] = weekly.hhmm(meeting["start_minute"])
        if meeting["end_minute"] is not None:
            item["end_time"] = weekly.hhmm(meeting["end_minute"])
    item["timezone"] = meeting["timezone"]
    item["types"] = list(meeting["types"])
    for name in ("notes", *TEXT_FIELDS):
        if meeting.get(name):
            item[name] = meeting[name]
    if meeting.get("latitude") is not None and meeting.get("longitude") is not None:
        item["latitude"], item["longitude"] = meeting["latitude"], meeting["longitude"]
    if meeting.get("approximate"):
        item["approximate"] = meeting["approximate"]
    if meeting.get("regions"):
        item["regions"] = list(meeting["regions"])
    for name in ("conference_url", "conference_phone"):
        if meeting.get(name):
            item[name] = meeting[name]
    for name, value in extra.items():
        if value:
            item[name] = value
    if meeting.get("url"):
        item["url"] = meeting["url"]
    if meeting.get("feedback_emails"):
        item["feedback_emails"] = list(meeting["feedback_emails"])
    item["fellowship"] = meeting["fellowship"]
    return {k: item[k] for k in ORDER if k in item}


def validate_feed(items: Any) -> list[str]:
    """The spec's field rules for a whole feed, strictly: what a feed Harbour writes must pass
    (array of objects, required name and slug, unique slugs, formats of every field)."""
    if not isinstance(items, list):
        return ["the feed must be a JSON array of meetings"]
    problems = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"item [{index}] is not an object")
            continue
        slug = str(item.get("slug", ""))
        if slug in seen:
            problems.append(f"item [{index}]: slug {slug!r} repeats item [{seen[slug]}]")
        seen[slug] = index
        if "timezone" in item and item.get("timezone"):
            try:
                weekly.zone(item["timezone"])
            except weekly.TimeError as exc:
                problems.append(f"item [{index}], timezone: {exc}")
        for name in ("url", "feedback_url", "entity_url", "conference_url"):
            if name in item and not URL.match(str(item[name])):
                problems.append(f"item [{index}], {name}: not an absolute web address")
        if "updated" in item and not UPDATED.match(str(item["updated"])):
            problems.append(f"item [{index}], updated: not YYYY-MM-DD HH:MM:SS")
        if "approximate" in item and item["approximate"] not in ("yes", "no"):
            problems.append(f'item [{index}], approximate: not "yes" or "no"')
        if "entity" not in item and any(k.startswith("entity_") for k in item):
            problems.append(f"item [{index}]: entity fields without entity")
        if "types" in item and not all(isinstance(t, str) for t in item["types"]):
            problems.append(f"item [{index}], types: not an array of codes")
        for text in ("notes", "location", "group_notes", "location_notes"):
            if text in item and TAG.search(str(item[text])):
                problems.append(f"item [{index}], {text}: holds HTML")
        for ok in ("time", "end_time"):
            if ok in item and not weekly.HHMM.match(str(item[ok])):
                problems.append(f"item [{index}], {ok}: not HH:MM")
        if ("day" in item) != ("time" in item):
            problems.append(f"item [{index}]: day and time go together")
        day = item.get("day")
        if day is not None:
            try:
                weekly.parse_days(day)
            except weekly.TimeError as exc:
                problems.append(f"item [{index}], day: {exc}")
        for bound, name in ((90, "latitude"), (180, "longitude")):
            if name in item and not (
                isinstance(item[name], int | float) and -bound <= item[name] <= bound
            ):
                problems.append(f"item [{index}], {name}: not a number in range")
        if "conference_phone" in item and not PHONE_CHARS.match(str(item["conference_phone"])):
            problems.append(f"item [{index}], conference_phone: not digits with + , * #")
        for required in ("name", "slug"):
            if not item.get(required) and item.get(required) != 0:
                problems.append(f"item [{index}], {required}: required")
        if len(str(item.get("slug", ""))) > 64 or not SLUG.match(str(item.get("slug", "")) or "-"):
            problems.append(f"item [{index}], slug: not URL-safe or longer than 64")
        if len(str(item.get("name", ""))) > 255:
            problems.append(f"item [{index}], name: longer than 255")
        for email in item.get("feedback_emails", []):
            if not EMAIL.match(str(email)):
                problems.append(f"item [{index}], feedback_emails: {email!r}")
    return problems
