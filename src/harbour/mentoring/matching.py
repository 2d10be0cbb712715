"""Who could mentor whom, and how well: a documented score, and load-balanced proposals.

Pure Python (no Django). A mentor is *eligible* for a person when all of these hold:

- the mentor has room: current load (active matches plus proposals waiting for consent) is
  under their capacity;
- they share a language;
- they follow one of the person's pathways (a person who named none is open to any);
- they can meet: both accept online/phone, or both accept in person and the mentor meets in
  the person's postal area (a mentor with no areas meets anywhere the program serves);
- the mentor was not already proposed to this person (declined, expired or ended before: a
  rematch is always with someone new, and nobody is asked twice).

The score of an eligible mentor is out of 100 (``WEIGHTS``):

========  ====  ==========================================================================
pathway    40   the person's first choice 40; another of their choices 25; no preference 20
language   15   the person's preferred (first) language 15; another shared language 8
identity   20   20 x (identities asked for that the mentor shares / identities asked for);
                20 when none were asked for
place      15   in person in an area the mentor names 15; in person, mentor meets
                anywhere 10; online or by phone only 5
load       10   10 x (1 - load / capacity): the least busy mentors come first
========  ====  ==========================================================================

The total is rounded to one decimal. Ties go to the mentor with the smaller share of their
capacity in use, then to the one matched longest ago (never matched first), then by id, so a
ranking never depends on the order mentors were read in.

:func:`assign` proposes for several people at once, oldest request first; each proposal counts
against the mentor's load before the next person is ranked, so one popular mentor is not given
everyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

WEIGHTS = {"pathway": 40, "language": 15, "identity": 20, "place": 15, "load": 10}


@dataclass(frozen=True)
class MentorProfile:
    id: str
    languages: tuple[str, ...]
    pathways: tuple[str, ...]
    identities: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()  # postal areas (FSAs); empty: anywhere
    online: bool = True
    in_person: bool = True
    capacity: int = 2
    load: int = 0
    last_matched: float | None = None  # a timestamp; None: never matched


@dataclass(frozen=True)
class Seeker:
    id: str
    languages: tuple[str, ...]  # preferred first
    pathways: tuple[str, ...] = ()  # first choice first; empty: open to any
    identities: tuple[str, ...] = ()
    fsa: str = ""
    online: bool = True
    in_person: bool = True
    excluded: frozenset[str] = field(default_factory=frozenset)
    waiting_since: float = 0.0


@dataclass(frozen=True)
class Score:
    mentor_id: str
    total: float
    pathway: float
    language: float
    identity: float
    place: float
    load: float
    mode: str  # "in_person" (in person possible) or "online"

    def parts(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in WEIGHTS}


def why_not(seeker: Seeker, mentor: MentorProfile) -> str | None:
    """Why the mentor is not eligible ("full", "language", "pathway", "place", "excluded"),
    or None when they are."""
    if mentor.id in seeker.excluded:
        return "excluded"
    if mentor.load >= mentor.capacity:
        return "full"
    if not set(seeker.languages) & set(mentor.languages):
        return "language"
    if seeker.pathways and not set(seeker.pathways) & set(mentor.pathways):
        return "pathway"
    if not (_in_person(seeker, mentor) or (seeker.online and mentor.online)):
        return "place"
    return None


def _in_person(seeker: Seeker, mentor: MentorProfile) -> bool:
    if not (seeker.in_person and mentor.in_person):
        return False
    return not mentor.areas or (bool(seeker.fsa) and seeker.fsa in mentor.areas)


def score(seeker: Seeker, mentor: MentorProfile) -> Score | None:
    """The score of an eligible mentor, else None."""
    if why_not(seeker, mentor) is not None:
        return None
    if not seeker.pathways:
        pathway = 20.0
    elif seeker.pathways[0] in mentor.pathways:
        pathway = 40.0
    else:
        pathway = 25.0
    language = 15.0 if seeker.languages and seeker.languages[0] in mentor.languages else 8.0
    if seeker.identities:
        shared = len(set(seeker.identities) & set(mentor.identities))
        identity = 20.0 * shared / len(set(seeker.identities))
    else:
        identity = 20.0
    in_person = _in_person(seeker, mentor)
    if in_person and mentor.areas:
        place = 15.0
    elif in_person:
        place = 10.0
    else:
        place = 5.0
    load = 10.0 * (1 - mentor.load / mentor.capacity)
    total = round(pathway + language + identity + place + load, 1)
    return Score(
        mentor_id=mentor.id,
        total=total,
        pathway=pathway,
        language=language,
        identity=round(identity, 1),
        place=place,
        load=round(load, 1),
        mode="in_person" if in_person else "online",
    )


def _key(found: Score, mentor: MentorProfile) -> tuple[float, float, float, str]:
    never = float("-inf")
    last = mentor.last_matched if mentor.last_matched is not None else never
    return (-found.total, mentor.load / mentor.capacity, last, mentor.id)


def rank(seeker: Seeker, mentors: Iterable[MentorProfile], limit: int = 5) -> list[Score]:
    """The best eligible mentors for ``seeker``, best first."""
    scored = [(s, m) for m in mentors if (s := score(seeker, m)) is not None]
    scored.sort(key=lambda pair: _key(*pair))
    return [s for s, _m in scored[:limit]]


def assign(
    seekers: Sequence[Seeker], mentors: Sequence[MentorProfile]
) -> list[tuple[str, Score | None]]:
    """One proposal per seeker (oldest first), each counting against its mentor's load before
    the next seeker is ranked. None where nobody is eligible."""
    pool = {m.id: m for m in mentors}
    out: list[tuple[str, Score | None]] = []
    for seeker in sorted(seekers, key=lambda s: (s.waiting_since, s.id)):
        best = rank(seeker, pool.values(), limit=1)
        if best:
            chosen = pool[best[0].mentor_id]
            pool[chosen.id] = replace(chosen, load=chosen.load + 1)
            out.append((seeker.id, best[0]))
        else:
            out.append((seeker.id, None))
    return out
