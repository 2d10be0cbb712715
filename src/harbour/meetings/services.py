"""Every write to meetings: staff add, edit, archive and restore their organization's meetings;
the Meeting Guide import (validate everything, then write only what changed, in one
transaction); suggestions from the public and their moderation."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit, geo, imports
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.meetings import feedspec, weekly
from harbour.meetings import types as meeting_types
from harbour.meetings.models import (
    LISTING_FIELDS,
    Fellowship,
    Meeting,
    MeetingSuggestion,
    SuggestionField,
    SuggestionStatus,
)
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index

MANAGE = Role.PEER_WORKER  # peers run most meetings: they keep their listings
MODERATE = Role.COORDINATOR
MAX_FEED_BYTES = 50 * 1024 * 1024
CHUNK = 900  # below SQLite's smallest limit of query parameters
ANALYZE_AFTER = 1000  # rows written by one import


# --- fellowships ------------------------------------------------------------------------------


def fellowships_load() -> int:
    """Create or refresh the fellowships of ``data/fellowships.json`` (idempotent)."""
    count = 0
    for slug, spec in meeting_types.fellowships().items():
        Fellowship.objects.update_or_create(
            slug=slug,
            defaults={
                "name_en": spec["en"],
                "name_fr": spec["fr"],
                "kind": spec["kind"],
                "terms": spec["terms"],
            },
        )
        count += 1
    return count


def vocabularies() -> dict[str, dict[str, meeting_types.Term]]:
    return {f.slug: f.vocabulary() for f in Fellowship.objects.all()}


def own_pages() -> str:
    """The prefix of Harbour's public meeting pages (``.../meetings/``)."""
    return settings.HARBOUR_BASE_URL.rstrip("/") + reverse("meetings:search")


def changed() -> None:
    """Meetings changed: the search facets (zones, languages) are read again after commit."""
    from django.core.cache import cache

    from harbour.meetings.selectors import FACETS_KEY

    transaction.on_commit(lambda: cache.delete(FACETS_KEY))


# --- deriving what search needs ---------------------------------------------------------------


POSTAL_CODE = re.compile(r"\b([A-Z]\d[A-Z])\s?\d[A-Z]\d\b", re.IGNORECASE)


def _position(listing: dict[str, Any]) -> tuple[float | None, float | None, bool]:
    """The listing's position, else the centre of its Canadian postal area (approximate)."""
    if listing.get("latitude") is not None and listing.get("longitude") is not None:
        return listing["latitude"], listing["longitude"], False
    candidates = [listing.get("postal_code") or ""]
    if found := POSTAL_CODE.search(listing.get("formatted_address") or ""):
        candidates.append(found.group(1))
    for code in candidates:
        if code and (place := geo.fsa_centroid(code)) is not None:
            return place.lat, place.lng, True
    return None, None, False


def apply_listing(meeting: Meeting, listing: dict[str, Any], fellowship_id: Any) -> Meeting:
    """Set a meeting's fields from a normalized listing and derive the rest."""
    for name in LISTING_FIELDS:
        setattr(meeting, name, listing[name])
    meeting.fellowship_id = fellowship_id
    meeting.types = f" {' '.join(listing['types'])} " if listing["types"] else ""
    approximate = weekly.address_is_approximate(
        listing["approximate"],
        listing["address"],
        listing["formatted_address"],
        has_position=listing["latitude"] is not None,
    )
    meeting.attendance = weekly.attendance(
        approximate=approximate,
        online=bool(listing["conference_url"] or listing["conference_phone"]),
        temporarily_closed=meeting_types.TEMPORARILY_CLOSED in listing["types"],
    )
    meeting.geo_lat, meeting.geo_lng, meeting.geo_approximate = _position(listing)
    meeting.grid_cell = geo.grid_cell(meeting.geo_lat, meeting.geo_lng)
    meeting.fingerprint = feedspec.fingerprint(listing)
    return meeting


# --- staff ------------------------------------------------------------------------------------


def _normalize_one(data: dict[str, Any], *, fellowship: str) -> dict[str, Any]:
    """A listing from a staff form, or ValidationError naming the form's fields."""
    result = feedspec.normalize(
        0,
        data,
        default_timezone=settings.TIME_ZONE,
        default_fellowship=fellowship,
        fellowships=vocabularies(),
    )
    if result.errors:
        errors: dict[str, list[str]] = {}
        for problem in result.errors:
            errors.setdefault(problem.field or "__all__", []).append(problem.message)
        raise ValidationError(errors)
    assert result.meeting is not None
    return result.meeting


@transaction.atomic
def meeting_save(
    *,
    actor: Any,
    organization: Any,
    data: dict[str, Any],
    fellowship: Fellowship,
    meeting: Meeting | None = None,
) -> Meeting:
    """Add or edit a meeting of the actor's organization. ``data`` uses the spec's field names
    (``day`` as a list, ``time``, ``types``, ...)."""
    require_role(actor, organization.pk, MANAGE)
    if meeting is not None and meeting.organization_id != organization.pk:
        raise ValidationError(_("This meeting belongs to another organization."))
    listing = _normalize_one(data, fellowship=fellowship.slug)
    clash = Meeting.objects.filter(slug=listing["slug"])
    if meeting is not None:
        clash = clash.exclude(pk=meeting.pk)
    if clash.exists():
        raise ValidationError({"slug": _("Another meeting already uses this short id.")})
    before = meeting.listing() if meeting is not None else {}
    target = meeting or Meeting(organization=organization)
    apply_listing(target, listing, fellowship.pk)
    target.source_hash = ""  # edited here: the next import compares the normalized fields
    target.save()
    changed()
    fields = sorted(k for k, v in target.listing().items() if before.get(k) != v)
    audit.record(
        action=AuditAction.MEETING_UPDATE if meeting is not None else AuditAction.MEETING_CREATE,
        actor=actor,
        organization=organization,
        obj=target,
        metadata={"slug": target.slug, "fields": fields},
    )
    return target


@transaction.atomic
def meeting_archive(*, actor: Any, meeting: Meeting, archived: bool = True) -> Meeting:
    """Take a meeting off the lists and the feed (or put it back)."""
    require_role(actor, meeting.organization_id, MANAGE)
    meeting.archived_at = timezone.now() if archived else None
    meeting.save(update_fields=["archived_at", "updated_at"])
    changed()
    audit.record(
        action=AuditAction.MEETING_ARCHIVE if archived else AuditAction.MEETING_UPDATE,
        actor=actor, organization_id=meeting.organization_id, obj=meeting,
        metadata={"slug": meeting.slug, "archived": archived},
    )  # fmt: skip
    return meeting


# --- import -----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[feedspec.Problem] = field(default_factory=list)
    problems: list[imports.Problem] = field(default_factory=list)  # the errors, with their place
    skipped: int = 0  # items left out (skip_invalid)

    @property
    def counts(self) -> imports.Counts:
        counts = imports.Counts()
        counts.add("meeting", "new", self.created)
        counts.add("meeting", "changed", self.updated)
        counts.add("meeting", "unchanged", self.unchanged)
        counts.add("meeting", "skipped", self.skipped)
        counts.add("meeting", "removed", self.removed)
        return counts

    @property
    def unknown_types(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for problem in self.warnings:
            if problem.kind == "unknown-type":
                found[problem.message.split("'")[1]] += 1
        return found

    def warning_lines(self, per_kind: int = 5) -> list[str]:
        """Warnings grouped by kind: a count, then the first few in full."""
        kinds: dict[str, list[feedspec.Problem]] = {}
        for problem in self.warnings:
            kinds.setdefault(problem.kind, []).append(problem)
        lines = []
        for kind, problems in kinds.items():
            lines.append(f"{kind}: {len(problems)} item(s)")
            lines += [f"  {p}" for p in problems[:per_kind]]
        unknown = self.unknown_types
        if unknown:
            lines.append(
                "unknown type codes kept: "
                + ", ".join(f"{code} ({n})" for code, n in sorted(unknown.items()))
            )
        return lines

    def summary(self) -> str:
        """``meeting: 1 new, 0 changed, 2 unchanged`` (skipped and removed, i.e. archived
        because the feed no longer lists them, when there are some)."""
        return self.counts.summary()

    def fail(self, problem: feedspec.Problem, item: Any, source: str) -> None:
        self.errors.append(str(problem))
        value = item.get(problem.field, "") if isinstance(item, dict) and problem.field else ""
        column = f"[{problem.index}]" + (f".{problem.field}" if problem.field else "")
        self.problems.append(
            imports.Problem(
                source or "feed", 0, column, "" if value is None else str(value), problem.message
            )
        )


class ImportFailed(Exception):
    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{len(report.errors)} problem(s)")
        self.report = report


def _failed(message: str) -> ImportFailed:
    return ImportFailed(
        ImportReport(errors=[message], problems=[imports.Problem("", 0, "", "", message)])
    )


def read_source(source: str, *, timeout: float = 30) -> str:
    """The text of a feed: a file path, or an http(s) URL fetched with the standard library."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(  # noqa: S310 -- the scheme is checked above
            source, headers={"Accept": "application/json", "User-Agent": "Harbour meetings import"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                data = response.read(MAX_FEED_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise _failed(f"{source}: the server answered {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _failed(f"{source}: could not be fetched ({reason})") from exc
    elif "://" in source:
        raise _failed(f"{source}: only http(s) addresses and files can be imported")
    else:
        path = Path(source)
        if not path.is_file():
            raise _failed(f"{source}: no such file")
        with path.open("rb") as handle:
            data = handle.read(MAX_FEED_BYTES + 1)
    if len(data) > MAX_FEED_BYTES:
        raise _failed(f"{source}: larger than {MAX_FEED_BYTES // 1024 // 1024} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _failed(f"{source}: not UTF-8 text (byte {exc.start})") from exc


def parse_feed(text: str, *, source: str = "feed") -> list[Any]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _failed(
            f"{source}: not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    if not isinstance(items, list):
        kind = "an object" if isinstance(items, dict) else type(items).__name__
        hint = " (a feed is an array of meetings: [{...}, {...}])"
        raise _failed(f"{source}: the feed must be a JSON array of meetings, not {kind}{hint}")
    return items


def import_meetings(
    *,
    organization: Any,
    items: list[Any],
    actor: Any = None,
    fellowship: str | None = None,
    default_timezone: str | None = None,
    source: str = "",
    dry_run: bool = False,
    remove_missing: bool = True,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import a Meeting Guide feed for ``organization``: every item is checked first (errors
    name the item's index, its slug and the field) and nothing is written if any fails; then,
    in one transaction, new slugs are created, changed ones updated (a meeting is changed when
    the fingerprint of its normalized fields differs), the rest left untouched, and this
    organization's meetings missing from the feed are archived ("removed").

    An item byte-for-byte the one that made the stored meeting, under the same rules
    (``source_hash``: the item, the defaults, the fellowships' vocabularies and
    ``feedspec.RULES``), was checked when it was stored and normalizes to the same fields, so it
    is counted unchanged without normalizing it again; its unknown type codes are still
    reported. Any other item is normalized and compared by fingerprint.

    With ``skip_invalid`` the items with problems are left out (counted as skipped) and the
    others imported; the meeting of a left-out item is not archived, whatever the feed says
    about it now. An import that changes nothing writes nothing (no audit event either)."""
    tz = default_timezone or settings.TIME_ZONE
    try:
        weekly.zone(tz)
    except weekly.TimeError as exc:
        raise _failed(f"--timezone: {exc}") from exc
    fellowship_rows = {f.slug: f for f in Fellowship.objects.all()}
    terms = {slug: f.vocabulary() for slug, f in fellowship_rows.items()}
    if fellowship and fellowship not in fellowship_rows:
        raise _failed(
            f"--fellowship {fellowship!r}: not one of {', '.join(sorted(fellowship_rows))}"
        )
    report = ImportReport()
    pages = own_pages()
    context = repr((feedspec.RULES, tz, fellowship, pages, sorted(
        (slug, f.terms) for slug, f in fellowship_rows.items()
    )))  # fmt: skip
    own = {
        row[0]: row[1:]
        for row in Meeting.objects.filter(organization=organization).values_list(
            "slug", "id", "fingerprint", "archived_at", "source_hash", "types", "fellowship_id"
        )
    }
    vocabulary_of = {f.pk: terms[slug] for slug, f in fellowship_rows.items()}
    listings: list[tuple[dict[str, Any], str]] = []
    first_index: dict[str, int] = {}
    protected: set[str] = set()  # slugs of items left out: their meetings are not archived
    for index, item in enumerate(imports.progress(items, total=len(items), label="meetings")):
        raw = feedspec.raw_hash(item, context)
        known = own.get(feedspec.raw_slug(item))
        if known is not None and known[3] == raw and known[2] is None:
            slug = feedspec.raw_slug(item)
            for code in meeting_types.unknown(known[4].split(), vocabulary_of[known[5]]):
                report.warnings.append(feedspec.Problem(
                    index, slug, "types", f"unknown type code {code!r}: kept as it is",
                    "unknown-type",
                ))  # fmt: skip
            listing: dict[str, Any] | None = None
        else:
            result = feedspec.normalize(
                index,
                item,
                default_timezone=tz,
                default_fellowship=fellowship,
                fellowships=terms,
                own_pages=pages,
            )
            for problem in result.errors:
                report.fail(problem, item, source)
            report.warnings += result.warnings
            if result.errors or result.meeting is None:
                protected.add(feedspec.raw_slug(item))
                report.skipped += 1
                continue
            listing = result.meeting
            slug = listing["slug"]
        if slug in first_index:
            report.fail(
                feedspec.Problem(
                    index, slug, "slug", f"repeats item [{first_index[slug]}]; slugs must be unique"
                ),
                item,
                source,
            )
            report.skipped += 1
            continue
        first_index[slug] = index
        if listing is None:
            report.unchanged += 1
        else:
            listings.append((listing, raw))
    foreign = [slug for slug in first_index if slug not in own]
    taken: set[str] = set()
    for start in range(0, len(foreign), CHUNK):
        for slug in Meeting.objects.filter(slug__in=foreign[start : start + CHUNK]).values_list(
            "slug", flat=True
        ):
            report.fail(
                feedspec.Problem(
                    first_index[slug],
                    slug,
                    "slug",
                    "already used by another organization's meeting; give it a different slug",
                ),
                items[first_index[slug]],
                source,
            )
            taken.add(slug)
    if report.errors and not skip_invalid:
        raise ImportFailed(report)
    if taken:
        report.skipped += len(taken)
        listings = [(listing, raw) for listing, raw in listings if listing["slug"] not in taken]

    creates: list[Meeting] = []
    updates: dict[Any, tuple[dict[str, Any], str]] = {}
    for listing, raw in listings:
        known = own.get(listing["slug"])
        if known is None:
            meeting = Meeting(organization=organization, source=source[:300], source_hash=raw)
            creates.append(
                apply_listing(meeting, listing, fellowship_rows[listing["fellowship"]].pk)
            )
        elif known[1] == feedspec.fingerprint(listing) and known[2] is None:
            report.unchanged += 1  # the same meeting, written differently: nothing to write
        else:
            updates[known[0]] = (listing, raw)
    missing = [
        v[0]
        for slug, v in own.items()
        if slug not in first_index and slug not in protected and v[2] is None
    ]
    report.created, report.updated = len(creates), len(updates)
    report.removed = len(missing) if remove_missing else 0
    if dry_run or not report.counts.written:
        return report  # nothing to write
    with transaction.atomic():
        changed()
        Meeting.objects.bulk_create(creates, batch_size=500)
        _apply_updates(updates, fellowship_rows, source)
        if remove_missing:
            now = timezone.now()
            for start in range(0, len(missing), CHUNK):
                Meeting.objects.filter(pk__in=missing[start : start + CHUNK]).update(
                    archived_at=now, updated_at=now
                )
        if connection.vendor == "postgresql" and len(creates) + len(updates) > ANALYZE_AFTER:
            # a large import changes the table's statistics at once: refresh them now rather
            # than wait for autovacuum, so "near" searches keep using the grid-cell index
            transaction.on_commit(_analyze)
        audit.record(
            action=AuditAction.MEETINGS_IMPORT,
            actor=actor,
            organization=organization,
            label="" if actor is not None else "import-meetings",
            metadata={
                "source": source[:200],
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "removed": report.removed,
                "skipped": report.skipped,
                "unknown_types": sorted(report.unknown_types),
            },
        )
    return report


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE meetings_meeting")


def _apply_updates(
    updates: dict[Any, tuple[dict[str, Any], str]], fellowships: dict[str, Fellowship], source: str
) -> None:
    ids = list(updates)
    fields = [*LISTING_FIELDS, "fellowship", "types", "attendance", "geo_lat", "geo_lng",
              "geo_approximate", "grid_cell", "fingerprint", "source_hash", "archived_at",
              "source", "updated_at"]  # fmt: skip
    now = timezone.now()
    for start in range(0, len(ids), CHUNK):
        rows = list(Meeting.objects.filter(pk__in=ids[start : start + CHUNK]))
        for meeting in rows:
            listing, meeting.source_hash = updates[meeting.pk]
            apply_listing(meeting, listing, fellowships[listing["fellowship"]].pk)
            meeting.archived_at = None
            meeting.source = source[:300] or meeting.source
            meeting.updated_at = now
        Meeting.objects.bulk_update(rows, fields, batch_size=500)


# --- suggestions from the public --------------------------------------------------------------


def suggestion_create(
    *,
    meeting: Meeting,
    field: str,
    message: str,
    suggested_value: str = "",
    contact: str = "",
    language: str = "en",
) -> MeetingSuggestion:
    """Anyone may suggest a change; the owning organization's coordinators are told by email."""
    if field not in SuggestionField.values:
        raise ValidationError({"field": _("Choose what should change.")})
    suggestion = MeetingSuggestion(
        meeting=meeting,
        field=field,
        message=" ".join(message.split())[:2000],
        suggested_value=suggested_value.strip()[:500],
        contact=contact.strip()[:200],
        language="fr" if language.startswith("fr") else "en",
    )
    suggestion.full_clean()
    with transaction.atomic():
        suggestion.save()
        _tell_moderators(suggestion)
    return suggestion


def _tell_moderators(suggestion: MeetingSuggestion) -> None:
    from harbour.accounts.selectors import member_emails
    from harbour.core.views import absolute_url

    meeting = suggestion.meeting
    link = absolute_url("meetings-staff:suggestions", slug=meeting.organization.slug)
    for email in member_emails(meeting.organization_id, minimum=MODERATE):
        with translation.override("en"):
            notify.enqueue(
                key=f"meetings:suggestion:{suggestion.pk}:{blind_index(email, kind='email')[:16]}",
                channel="email",
                to=email,
                subject=f"Harbour: change suggested for “{meeting.name}” / modification proposée",
                body=(
                    f"Someone suggested a change to the meeting “{meeting.name}”. Review it:\n"
                    f"{link}\n\nQuelqu’un a proposé une modification à la réunion "
                    f"« {meeting.name} ». Examinez-la :\n{link}\n"
                ),
            )


def _apply_suggestion(suggestion: MeetingSuggestion) -> list[str]:
    """The change a suggestion names, where it can be applied as it is; else nothing (staff
    edit the meeting themselves). Returns the listing fields changed."""
    meeting = suggestion.meeting
    value = suggestion.suggested_value.strip()
    listing = meeting.listing()
    if suggestion.field == SuggestionField.CLOSED:
        meeting.archived_at = timezone.now()
        meeting.save(update_fields=["archived_at", "updated_at"])
        return ["archived"]
    if suggestion.field == SuggestionField.TIME and value:
        try:
            listing["start_minute"] = weekly.parse_hhmm(value)
        except weekly.TimeError as exc:
            raise ValidationError(
                _("“%(value)s” is not a time like 18:30: edit the meeting instead.")
                % {"value": value}
            ) from exc
        fields = ["start_minute"]
    elif suggestion.field == SuggestionField.ONLINE and value:
        if feedspec.URL.match(value):
            listing["conference_url"], fields = value, ["conference_url"]
        elif (number := feedspec.conference_phone(value)) is not None:
            listing["conference_phone"], fields = number, ["conference_phone"]
        else:
            raise ValidationError(
                _("“%(value)s” is neither a web link nor a phone number: edit the meeting instead.")
                % {"value": value}
            )
    else:
        return []
    if listing["days"] and listing["start_minute"] is None:
        return []
    apply_listing(meeting, listing, meeting.fellowship_id)
    meeting.save()
    return fields


@transaction.atomic
def suggestion_review(
    *, suggestion: MeetingSuggestion, actor: Any, accept: bool, note: str = ""
) -> list[str]:
    """Accept (applying the change where it can be applied as written) or reject."""
    meeting = suggestion.meeting
    require_role(actor, meeting.organization_id, MODERATE)
    suggestion = MeetingSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SuggestionStatus.PENDING:
        raise ValidationError(_("This suggestion was already reviewed."))
    applied = _apply_suggestion(suggestion) if accept else []
    changed()
    suggestion.status = SuggestionStatus.ACCEPTED if accept else SuggestionStatus.REJECTED
    suggestion.reviewed_by = actor
    suggestion.reviewed_at = timezone.now()
    suggestion.review_note = note.strip()[:1000]
    suggestion.contact = ""  # decided: the way to reach the person is not kept (see purge)
    suggestion.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note",
                                   "contact", "updated_at"])  # fmt: skip
    audit.record(
        action=(
            AuditAction.MEETING_SUGGESTION_ACCEPT if accept
            else AuditAction.MEETING_SUGGESTION_REJECT
        ),
        actor=actor, organization_id=meeting.organization_id, obj=suggestion,
        metadata={"meeting": meeting.slug, "field": suggestion.field, "changed": applied},
    )  # fmt: skip
    return applied


SUGGESTION_CONTACT_DAYS = 30
SUGGESTION_KEPT_DAYS = 365


def suggestion_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Erase the way to reach the person who suggested a change ``SUGGESTION_CONTACT_DAYS``
    after they gave it, reviewed or not (a review erases it at once), and delete suggestions
    reviewed ``SUGGESTION_KEPT_DAYS`` ago or left unreviewed that long (their words are the
    public's free text; the audit trail keeps what was decided). The ``meetings.purge`` job;
    idempotent."""
    now = now or timezone.now()
    contacts = (
        MeetingSuggestion.objects.filter(
            created_at__lt=now - timedelta(days=SUGGESTION_CONTACT_DAYS)
        )
        .exclude(contact="")
        .update(contact="")
    )
    year = now - timedelta(days=SUGGESTION_KEPT_DAYS)
    deleted, _rows = MeetingSuggestion.objects.filter(
        Q(reviewed_at__lt=year) | Q(status=SuggestionStatus.PENDING, created_at__lt=year)
    ).delete()
    return {"contacts": contacts, "deleted": deleted}


def when_next(meeting: Meeting, now: datetime) -> datetime | None:
    return weekly.next_start(meeting.day_list, meeting.start_minute, meeting.timezone, now)
