"""The matching score (documented in harbour/mentoring/matching.py), with exact values, and
load-balanced proposals."""

from __future__ import annotations

from harbour.mentoring.matching import MentorProfile, Seeker, assign, rank, score, why_not

SEEKER = Seeker(
    id="s", languages=("fr", "en"), pathways=("twelve_step", "smart"), identities=("woman",),
    fsa="K7L",
)  # fmt: skip
A = MentorProfile(id="a", languages=("en",), pathways=("twelve_step", "harm_reduction"),
                  areas=("K7L", "K7K"), capacity=3)  # fmt: skip
B = MentorProfile(id="b", languages=("en", "fr"), pathways=("smart", "medication"),
                  identities=("woman",), capacity=2, load=1)  # fmt: skip
C = MentorProfile(id="c", languages=("fr", "en"), pathways=("twelve_step",),
                  identities=("woman", "2slgbtq"), areas=("K7L",), online=False,
                  capacity=2)  # fmt: skip


def test_the_score_of_each_part_is_exact():
    a, b, c = score(SEEKER, A), score(SEEKER, B), score(SEEKER, C)
    assert a is not None and b is not None and c is not None
    # first-choice pathway 40, another shared language 8, no shared identity 0,
    # in person in a named area 15, an empty mentor 10
    assert (a.pathway, a.language, a.identity, a.place, a.load, a.total) == (
        40, 8, 0, 15, 10, 73.0,
    )  # fmt: skip
    # second-choice pathway 25, preferred language 15, identity 20, anywhere 10, half full 5
    assert (b.pathway, b.language, b.identity, b.place, b.load, b.total) == (
        25, 15, 20, 10, 5, 75.0,
    )  # fmt: skip
    assert c.total == 100.0 and c.mode == "in_person"
    assert [s.mentor_id for s in rank(SEEKER, [A, B, C])] == ["c", "b", "a"]


def test_partial_identity_no_preference_and_online_only():
    seeker = Seeker(id="s", languages=("en",), identities=("woman", "indigenous", "parent"),
                    online=True, in_person=False)  # fmt: skip
    mentor = MentorProfile(id="m", languages=("en",), pathways=("faith",),
                           identities=("indigenous",), capacity=4, load=1)  # fmt: skip
    found = score(seeker, mentor)
    assert found is not None
    # no pathway asked: 20; identity 1 of 3: 6.7; online only: 5; load 3/4 free: 7.5
    assert (found.pathway, found.identity, found.place, found.load) == (20, 6.7, 5, 7.5)
    assert found.total == round(20 + 15 + 20 / 3 + 5 + 7.5, 1) == 54.2
    assert found.mode == "online"


def test_who_is_not_eligible_and_why():
    assert why_not(SEEKER, A) is None
    assert why_not(SEEKER, MentorProfile(id="full", languages=("fr",), pathways=("smart",),
                                         capacity=2, load=2)) == "full"  # fmt: skip
    assert why_not(SEEKER, MentorProfile(id="ar", languages=("ar",),
                                         pathways=("smart",))) == "language"  # fmt: skip
    assert why_not(SEEKER, MentorProfile(id="faith", languages=("fr",),
                                         pathways=("faith",))) == "pathway"  # fmt: skip
    far = MentorProfile(id="far", languages=("fr",), pathways=("smart",), areas=("K7K",),
                        online=False)  # fmt: skip
    assert why_not(SEEKER, far) == "place"
    excluded = Seeker(**{**SEEKER.__dict__, "excluded": frozenset({"c"})})
    assert why_not(excluded, C) == "excluded"
    assert score(excluded, C) is None
    assert [s.mentor_id for s in rank(excluded, [A, B, C])] == ["b", "a"]


def test_ties_go_to_the_least_busy_then_the_longest_waiting_mentor():
    seeker = Seeker(id="s", languages=("en",))
    twin = dict(languages=("en",), pathways=("smart",))
    busy = MentorProfile(id="1", capacity=4, load=2, **twin)  # type: ignore[arg-type]
    idle = MentorProfile(id="2", capacity=2, load=1, **twin)  # type: ignore[arg-type]
    assert score(seeker, busy).total == score(seeker, idle).total  # type: ignore[union-attr]
    recent = MentorProfile(id="3", last_matched=2000.0, **twin)  # type: ignore[arg-type]
    earlier = MentorProfile(id="4", last_matched=1000.0, **twin)  # type: ignore[arg-type]
    never = MentorProfile(id="5", **twin)  # type: ignore[arg-type]
    assert [s.mentor_id for s in rank(seeker, [recent, earlier, never])] == ["5", "4", "3"]
    assert [s.mentor_id for s in rank(seeker, [busy, idle])] == ["1", "2"]  # same share: id


def test_proposals_for_everyone_waiting_share_the_work():
    # given three people who would all score the same mentor best
    seekers = [Seeker(id=f"s{i}", languages=("fr", "en"), pathways=("twelve_step",),
                      identities=("woman",), fsa="K7L", waiting_since=float(i))
               for i in (3, 1, 2)]  # fmt: skip
    # when proposals are made for all of them at once
    plan = assign(seekers, [A, B, C])
    # then the oldest two go to C (who has room for two), and the third to A, not to a full C
    assert [(sid, s.mentor_id if s else None, s.total if s else None) for sid, s in plan] == [
        ("s1", "c", 100.0),
        ("s2", "c", 95.0),  # C now holds one of two places: load part 5
        ("s3", "a", 73.0),  # B does not follow 12-step; C is full
    ]
    nobody = assign([Seeker(id="x", languages=("iu",))], [A, B, C])
    assert nobody == [("x", None)]
