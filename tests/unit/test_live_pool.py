"""A patched ``LivePool`` suggests exactly what a pool freshly built from the same mentors does
(free places changed, profiles edited, mentors added and removed, in any order)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bot.domain.matching import DEFAULT_WEIGHTS, LivePool, MentorPool, MentorSlot
from bot.domain.matching.live import OVERLAY_LIMIT
from bot.domain.profile import Profile
from tests.unit.test_matching import random_profile


def _fresh(mentors: dict[int, tuple[Profile, int]]) -> MentorPool:
    return MentorPool.build([MentorSlot(p, free) for p, free in mentors.values()], DEFAULT_WEIGHTS)


@pytest.mark.parametrize("seed", range(4))
def test_a_patched_pool_suggests_what_a_fresh_one_does(seed: int) -> None:
    rng = random.Random(seed)
    mentors = {
        1000 + j: (random_profile(rng, 1000 + j, is_mentor=True), rng.randint(0, 3))
        for j in range(60)
    }
    live = LivePool(mentors, DEFAULT_WEIGHTS)
    mentees = [random_profile(rng, i, is_mentor=False) for i in range(25)]
    next_id = 2000
    for step in range(120):
        kind = rng.random()
        uid = rng.choice(sorted(mentors)) if mentors else None
        if kind < 0.5 and uid is not None:
            free = rng.randint(0, 3)
            mentors[uid] = (mentors[uid][0], free)
            live.set_free(uid, free)
        elif kind < 0.7 and uid is not None:
            profile = random_profile(rng, uid, is_mentor=True)
            mentors[uid] = (profile, rng.randint(0, 3))
            live.put(*mentors[uid])
        elif kind < 0.85 and uid is not None:
            del mentors[uid]
            live.remove(uid)
        else:
            next_id += 1
            mentors[next_id] = (random_profile(rng, next_id, is_mentor=True), rng.randint(1, 3))
            live.put(*mentors[next_id])
        if step % 10 == 0:
            fresh = _fresh(mentors)
            for mentee in mentees:
                forbidden = frozenset(rng.sample(sorted(mentors), min(3, len(mentors))))
                assert live.suggest(mentee, forbidden=forbidden, k=3) == fresh.suggest(
                    mentee, forbidden=forbidden, k=3
                )
            assert live.open_places == sum(free for _, free in mentors.values())
            assert [s.profile.user_id for s in live.slots()] == [
                u for u in sorted(mentors) if mentors[u][1] > 0
            ]


def test_a_full_mentor_is_encoded_but_never_proposed_until_a_place_frees() -> None:
    rng = random.Random(7)
    me = random_profile(rng, 1, is_mentor=False)
    helper = replace(
        random_profile(rng, 100, is_mentor=True),
        areas_offered=tuple(me.areas_wanted) or ("identity",),
    )
    live = LivePool({100: (helper, 0)}, DEFAULT_WEIGHTS)
    assert live.suggest(me) == []
    live.set_free(100, 1)
    assert [s.mentor_id for s in live.suggest(me)] == [100]


def test_many_edited_profiles_ask_for_a_new_encoding() -> None:
    rng = random.Random(3)
    mentors = {j: (random_profile(rng, j, is_mentor=True), 1) for j in range(OVERLAY_LIMIT + 2)}
    live = LivePool(mentors, DEFAULT_WEIGHTS)
    for profile, free in list(mentors.values())[:OVERLAY_LIMIT]:
        live.put(profile, free)
    assert not live.crowded
    live.put(*mentors[OVERLAY_LIMIT])
    assert live.crowded
