"""The cached mentor pool (issue #14): every change that affects who may be proposed is seen by
the next request — in the same process and in another one sharing the database.

Two service containers (two ``build_services`` on one database) stand for two bot processes.
Both caches are warmed first; the change is made through one (``via``), and the next request
is made through the other (or the same).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.compute import ThreadCompute
from bot.crypto import Cipher
from bot.db import pool_changes
from bot.db.models import Introduction, IntroStatus, Pair, PairStatus
from bot.db.queries.matching import set_mentor_paused
from bot.db.queries.members import save_answers
from bot.db.queries.onboarding import mark_completed
from bot.domain.introductions import Skip
from bot.domain.matching import DEFAULT_WEIGHTS
from bot.services import Services
from bot.services.events import PairEnded
from tests.factories import (
    MENTOR_DEFAULTS,
    add_member,
    introductions,
    mentees_and_two_mentors,
    onboarded,
)
from tests.services.conftest import World
from tests.services.fakes import FakeDmSender, FakeJobs, FakeSpaces

GUILD = 10
MENTEES = (20, 21, 22, 23)
MENTOR_A, MENTOR_B, NEWCOMER = 30, 31, 32


@dataclass
class Two:
    """Two containers on one database; ``a`` makes changes when ``via`` says so."""

    w: World
    a: Services
    b: Services

    async def intros(self, **where: Any) -> list[Introduction]:
        return await introductions(self.w.database, **where)

    async def mentor_for(self, services: Services, mentee: int) -> int | None:
        """Request through ``services``; the mentor the mentee was introduced to, if any.

        Asserts that the pool proposed that mentor first: no stale proposal had to be refused
        by ``introduce``'s re-checks (which would hide a cache that missed the change)."""
        tried: list[tuple[int, Any]] = []
        real = services.matching.introduce

        async def spy(guild_id: int, mentee_id: int, mentor_id: int, *a: Any, **kw: Any) -> Any:
            tried.append(
                (mentor_id, outcome := await real(guild_id, mentee_id, mentor_id, *a, **kw))
            )
            return outcome

        services.matching.introduce = spy  # type: ignore[method-assign]
        try:
            await services.matching.request(GUILD, mentee)
        finally:
            del services.matching.introduce
        found = await self.intros(mentee_id=mentee, status=IntroStatus.PENDING)
        introduced = found[-1].mentor_id if found else None
        assert [m for m, _ in tried] == ([introduced] if introduced else []), tried
        return introduced

    async def warm(self) -> None:
        for services in (self.a, self.b):
            await services.matching.pools.current(GUILD, DEFAULT_WEIGHTS)


@pytest.fixture(params=["same", "other"])
async def two(request: pytest.FixtureRequest, world: World, cipher: Cipher) -> Two:
    # One Discord for both processes; its own jobs, spaces, DM sender and compute.
    other = world.second_process(
        jobs=FakeJobs(),
        spaces=FakeSpaces(),
        dm_sender=FakeDmSender(),
        compute=ThreadCompute(poll=0.01),
    )
    await mentees_and_two_mentors(
        world.database,
        cipher,
        guild_id=GUILD,
        mentees=MENTEES,
        better=MENTOR_A,
        worse=MENTOR_B,
        now=world.clock(),
    )
    world.messenger.join(GUILD, *MENTEES, MENTOR_A, MENTOR_B, NEWCOMER)
    scene = Two(world, world.services, world.services if request.param == "same" else other)
    await scene.warm()
    assert await scene.mentor_for(scene.b, MENTEES[0]) == MENTOR_A, "A fits best"
    return scene


async def _edit(two: Two, user_id: int, **answers: Any) -> None:
    async with two.w.database.session() as session:
        await save_answers(
            session,
            guild_id=GUILD,
            user_id=user_id,
            answers=answers,
            cipher=two.w.services.ctx.cipher,
            now=two.w.clock(),
        )


async def test_a_profile_edit_is_seen(two: Two) -> None:
    await _edit(two, MENTOR_A, areas_offered=["career"])  # none of the mentees' areas now
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B
    await _edit(two, MENTOR_A, areas_offered=["identity", "culture"])
    assert await two.mentor_for(two.b, MENTEES[2]) == MENTOR_A


async def test_a_role_change_is_seen(two: Two) -> None:
    await _edit(two, MENTOR_A, role="mentee", areas_wanted=["identity"])
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B


async def test_withdrawn_consent_is_seen(two: Two) -> None:
    await two.a.member_data.withdraw_consent(GUILD, MENTOR_A)
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B


async def test_a_pause_and_a_resume_are_seen(two: Two) -> None:
    await two.a.matching.pause(GUILD, MENTOR_A)
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B
    await two.a.matching.resume(GUILD, MENTOR_A)
    assert await two.mentor_for(two.b, MENTEES[2]) == MENTOR_A


async def test_capacity_and_pending_places_are_seen(two: Two) -> None:
    await two.a.matching.set_capacity(GUILD, MENTOR_A, 1)  # its one place is pending already
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B
    await two.a.matching.set_capacity(GUILD, MENTOR_A, 2)
    assert await two.mentor_for(two.b, MENTEES[2]) == MENTOR_A
    assert await two.mentor_for(two.b, MENTEES[3]) == MENTOR_B, "A's two places are pending"


async def test_a_declined_introduction_gives_the_place_back(two: Two) -> None:
    await two.a.matching.set_capacity(GUILD, MENTOR_A, 1)
    await two.a.matching.pause(GUILD, MENTOR_B)
    for services in (two.a, two.b):  # both pools start from A full
        services.matching.pools.forget(GUILD)
    await two.warm()
    (first,) = await two.intros(mentee_id=MENTEES[0])
    await two.a.matching.decline(first.id or 0)  # the mentee has nobody else: waits
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_A, "the place is free again"


async def test_an_accept_and_a_pair_ending_are_seen(two: Two) -> None:
    await two.a.matching.set_capacity(GUILD, MENTOR_A, 1)
    await two.a.matching.pause(GUILD, MENTOR_B)
    (first,) = await two.intros(mentee_id=MENTEES[0])
    two.a.pairs.open_space = _nothing  # type: ignore[method-assign]
    await two.a.matching.accept(first.id or 0)
    assert await two.mentor_for(two.b, MENTEES[1]) is None, "A is full: the mentee waits"
    async with two.w.database.session() as session:
        pair = (await session.execute(select(Pair))).scalar_one()
        pair.status = PairStatus.ENDED
    await two.a.matching.pair_ended(PairEnded(pair.id or 0, GUILD, MENTEES[0], MENTOR_A, "ended"))
    # The waiting mentee was introduced by ``a``; ``b`` sees A full again and B paused.
    assert [i.mentor_id for i in await two.intros(mentee_id=MENTEES[1])] == [MENTOR_A]
    assert await two.mentor_for(two.b, MENTEES[2]) is None


async def test_a_block_is_respected(two: Two) -> None:
    await two.a.matching.block(GUILD, MENTEES[1], MENTOR_A)
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B


async def test_a_mentor_who_left_is_not_introduced_nor_tried_again(two: Two) -> None:
    """Presence is Discord's, not the database's: like blocks, it is checked per candidate
    (``introduce`` asks the messenger); one pass over the waiting list tries them once."""
    await two.a.matching.set_capacity(GUILD, MENTOR_A, 1)
    await two.a.matching.pause(GUILD, MENTOR_B)
    for mentee in MENTEES[1:3]:
        await two.b.matching.request(GUILD, mentee)  # they wait: A's place is pending
    two.w.messenger.leave(GUILD, MENTOR_A)
    await two.a.member_data.member_left(GUILD, MENTOR_A)  # withdraws A's introduction
    tried: list[int] = []
    real = two.b.matching.introduce

    async def spy(guild_id: int, mentee_id: int, mentor_id: int, *a: Any, **kw: Any) -> Any:
        tried.append(mentor_id)
        return await real(guild_id, mentee_id, mentor_id, *a, **kw)

    two.b.matching.introduce = spy  # type: ignore[method-assign]
    await two.b.matching.fill_waiting(GUILD)
    assert tried == [MENTOR_A], "three waiting, the mentor who left is tried once"
    await two.b.matching.resume(GUILD, MENTOR_B)
    assert [i.mentor_id for i in await two.intros(status=IntroStatus.PENDING)] == [MENTOR_B] * 2


async def test_an_erased_mentor_is_gone_and_never_named_in_the_log(two: Two) -> None:
    await two.a.member_data.erase(MENTOR_A)
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B
    assert MENTOR_A not in await two.b.matching.pools.current(GUILD, DEFAULT_WEIGHTS)


async def test_a_new_mentor_finishing_onboarding_is_proposed(two: Two) -> None:
    answers = {**MENTOR_DEFAULTS, "languages": ["English", "Tagalog"], "career": "design"}
    async with two.w.database.session() as session:
        await add_member(
            session, two.w.services.ctx.cipher, guild_id=GUILD, user_id=NEWCOMER,
            answers=answers, now=two.w.clock(),
        )  # fmt: skip
    await two.a.matching.pause(GUILD, MENTOR_A)
    await two.a.matching.pause(GUILD, MENTOR_B)
    assert await two.mentor_for(two.b, MENTEES[1]) is None, "not finished: not proposed"
    async with two.w.database.session() as session:
        assert await mark_completed(session, guild_id=GUILD, user_id=NEWCOMER, now=two.w.clock())
    await two.b.matching.fill_waiting(GUILD)
    assert [i.mentor_id for i in await two.intros(mentee_id=MENTEES[1])] == [NEWCOMER]


async def test_tuned_weights_are_used_at_once(two: Two) -> None:
    await two.a.matching.tune(GUILD, 1, {"languages": 0.0, "timezone": 10.0})
    settings = await two.b.matching.settings(GUILD)
    pool = await two.b.matching.pools.current(GUILD, settings.weights)
    assert pool.weights == settings.weights != DEFAULT_WEIGHTS
    assert two.b.matching.pools.stats["reencoded"] == 1


async def _nothing(*_: Any) -> None:
    return None


# --- what the cache does, and does not, decide ------------------------------------------------


async def test_a_change_of_places_patches_the_pool_instead_of_rebuilding(two: Two) -> None:
    pools = two.b.matching.pools
    built = pools.stats["built"]
    for mentee in MENTEES[1:]:
        await two.mentor_for(two.b, mentee)
    await two.a.matching.pause(GUILD, MENTOR_A)
    await pools.current(GUILD, DEFAULT_WEIGHTS)
    assert pools.stats["built"] == built, "no rebuild for places or a pause"
    assert pools.stats["patched"] >= 2


async def test_a_stale_pool_only_proposes_the_introduction_rechecks(world: World) -> None:
    """Even a pool that missed a pause (here: one captured before it) cannot introduce a
    paused mentor: ``introduce`` re-checks in its own transaction and the next is tried."""
    cipher, now = world.services.ctx.cipher, world.clock()
    await onboarded(world.database, cipher, guild_id=GUILD, user_id=MENTEES[0], now=now)
    for mentor in (MENTOR_A, MENTOR_B):
        await onboarded(
            world.database, cipher, guild_id=GUILD, user_id=mentor, now=now, mentor=True
        )
    world.messenger.join(GUILD, MENTEES[0], MENTOR_A, MENTOR_B)
    matching = world.services.matching
    stale = await matching.pools.current(GUILD, DEFAULT_WEIGHTS)
    async with world.database.session() as session:
        await set_mentor_paused(session, guild_id=GUILD, mentor_id=MENTOR_A, paused=True, now=now)

    async def current(*_: Any) -> Any:
        return stale

    matching.pools.current = current  # type: ignore[method-assign]
    outcomes: list[Any] = []
    real = matching.introduce

    async def spy(*a: Any, **kw: Any) -> Any:
        outcomes.append(await real(*a, **kw))
        return outcomes[-1]

    matching.introduce = spy  # type: ignore[method-assign]
    await matching.request(GUILD, MENTEES[0])
    assert outcomes[0] == Skip.MENTOR_PAUSED
    async with world.database.session() as session:
        (intro,) = (await session.execute(select(Introduction))).scalars()
    assert intro.mentor_id == MENTOR_B


async def test_requests_at_once_in_two_processes_never_overfill_a_mentor(
    two: Two, cipher: Cipher
) -> None:
    await two.a.matching.pause(GUILD, MENTOR_B)
    await two.a.matching.set_capacity(GUILD, MENTOR_A, 2)  # one place left (one pending)
    await two.warm()
    crowd = MENTEES[1:]
    both: list[Callable[[int, int], Any]] = [two.a.matching.request, two.b.matching.request]
    await asyncio.gather(*(both[i % 2](GUILD, m) for i, m in enumerate(crowd)))
    assert len(await two.intros(mentor_id=MENTOR_A, status=IntroStatus.PENDING)) == 2


async def test_a_round_preview_uses_the_current_pool(two: Two) -> None:
    await two.a.matching.set_mode(GUILD, 1, rounds=True)
    await two.b.matching.request(GUILD, MENTEES[1])  # waits for the round
    await two.a.matching.pause(GUILD, MENTOR_A)
    plan = await two.b.matching.preview_round(GUILD)
    assert [(a.mentee_id, a.mentor_id) for a in plan.assignments] == [(MENTEES[1], MENTOR_B)]
    await two.a.matching.resume(GUILD, MENTOR_A)  # rounds only: nobody is introduced by this
    plan = await two.b.matching.preview_round(GUILD)
    assert [(a.mentee_id, a.mentor_id) for a in plan.assignments] == [(MENTEES[1], MENTOR_A)]


async def test_a_pool_older_than_the_kept_log_is_rebuilt(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_changes, "LOG_KEPT", 2)
    monkeypatch.setattr(pool_changes, "PRUNE_EVERY", 1)
    pools = two.b.matching.pools
    await pools.current(GUILD, DEFAULT_WEIGHTS)
    built = pools.stats["built"]
    await two.a.matching.pause(GUILD, MENTOR_A)
    for _ in range(3):  # the pause's log entry is pruned
        await two.a.matching.set_capacity(GUILD, MENTOR_B, 3)
    assert await two.mentor_for(two.b, MENTEES[1]) == MENTOR_B
    assert pools.stats["built"] == built + 1, "its changes were pruned: built again"
