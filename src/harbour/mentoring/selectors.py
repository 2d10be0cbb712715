"""Reads for mentoring, all scoped to the actor's organizations at coordinator level (people's
requests and matches are personal data: nobody else sees them, and another organization's
coordinators get 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from harbour.core.permissions import get_scoped_or_404, scope
from harbour.core.roles import Role
from harbour.mentoring import matching, services
from harbour.mentoring.models import (
    CheckIn,
    CheckInState,
    Match,
    MatchStatus,
    Mentor,
    MentorRequest,
    Program,
    RequestStatus,
)

COORDINATOR = Role.COORDINATOR


def programs_serving(fsa: str) -> list[Program]:
    """The open programs that serve a postal area, most local first: those that list it (the
    fewest areas first, then the oldest), then those that serve anywhere (no areas: online or
    by phone). None for an area nobody serves: a request from there would be read by no one."""
    if not fsa:
        return []
    listing, anywhere = [], []
    for program in programs_open().order_by("created_at"):
        areas = program.areas.split()
        if not areas:
            anywhere.append(program)
        elif fsa in areas:
            listing.append(program)
    return sorted(listing, key=lambda p: len(p.areas.split())) + anywhere


def programs_open() -> QuerySet[Program]:
    """Programs taking requests from the public."""
    return Program.objects.filter(enabled=True, organization__is_active=True).select_related(
        "organization"
    )


def mentors_of(actor: Any, *, organization: Any) -> QuerySet[Mentor]:
    return (
        scope(Mentor.objects.all(), actor, minimum=COORDINATOR)
        .filter(organization=organization)
        .annotate(load=Count("matches", filter=Q(matches__status__in=services.OPEN)))
        .order_by("-active", "alias")
    )


def mentor_for(actor: Any, *, organization: Any, mentor_id: Any) -> Mentor:
    return get_scoped_or_404(
        Mentor.objects.filter(organization=organization), actor, minimum=COORDINATOR, pk=mentor_id
    )


def requests_of(actor: Any, *, organization: Any, status: str) -> QuerySet[MentorRequest]:
    return (
        scope(MentorRequest.objects.all(), actor, minimum=COORDINATOR)
        .filter(organization=organization, status=status)
        .order_by("created_at")
    )


def request_for(actor: Any, *, organization: Any, request_id: Any) -> MentorRequest:
    return get_scoped_or_404(
        MentorRequest.objects.filter(organization=organization),
        actor,
        minimum=COORDINATOR,
        pk=request_id,
    )


def matches_of(actor: Any, *, organization: Any, statuses: list[str]) -> QuerySet[Match]:
    open_checkins = CheckIn.objects.filter(
        state__in=[CheckInState.SCHEDULED, CheckInState.REMINDED]
    )
    return (
        scope(Match.objects.all(), actor, minimum=COORDINATOR)
        .filter(organization=organization, status__in=statuses)
        .select_related("mentor", "request")
        .prefetch_related(Prefetch("checkins", queryset=open_checkins, to_attr="open_checkins"))
        .order_by("-quiet_since", "created_at")
    )


def match_for(actor: Any, *, organization: Any, match_id: Any) -> Match:
    return get_scoped_or_404(
        Match.objects.filter(organization=organization).select_related("mentor", "request"),
        actor,
        minimum=COORDINATOR,
        pk=match_id,
    )


def best_mentors(
    actor: Any, *, request: MentorRequest, limit: int = 5
) -> list[tuple[Mentor, matching.Score]]:
    """The best eligible mentors for a waiting request, with their scores."""
    profiles = services.mentor_profiles(request.organization)
    ranked = matching.rank(services.seeker_of(request), profiles.values(), limit=limit)
    mentors = mentors_of(actor, organization=request.organization).in_bulk(
        [s.mentor_id for s in ranked]
    )
    by_id = {str(k): v for k, v in mentors.items()}
    return [(by_id[s.mentor_id], s) for s in ranked if s.mentor_id in by_id]


def why_not_others(request: MentorRequest) -> dict[str, int]:
    """How many active mentors are not eligible, by reason (for "nobody fits" explanations)."""
    seeker = services.seeker_of(request)
    counts: dict[str, int] = {}
    for profile in services.mentor_profiles(request.organization).values():
        reason = matching.why_not(seeker, profile)
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def history(request: MentorRequest) -> QuerySet[Match]:
    return Match.objects.filter(request=request).select_related("mentor").order_by("created_at")


def dashboard_counts(actor: Any, *, organization: Any) -> dict[str, int]:
    base = scope(MentorRequest.objects.all(), actor, minimum=COORDINATOR).filter(
        organization=organization
    )
    return {
        "waiting": base.filter(status=RequestStatus.WAITING).count(),
        "proposed": base.filter(status=RequestStatus.PROPOSED).count(),
        "matched": base.filter(status=RequestStatus.MATCHED).count(),
        "quiet": scope(Match.objects.all(), actor, minimum=COORDINATOR)
        .filter(organization=organization, status=MatchStatus.ACTIVE, quiet_since__isnull=False)
        .count(),
    }
