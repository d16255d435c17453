"""Batch rounds off the event loop (issue #14): computed in a worker process, the same plan as
the solver inline, progress edited in place, one round per server, a dying worker said plainly.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.compute import ProcessCompute, ThreadCompute
from bot.db.models import Introduction, MatchRequest, RequestStatus
from bot.db.queries.matching import (
    forbidden_pairs,
    list_available_mentors,
    load_matchable_profile,
    open_request,
    waiting_requests,
)
from bot.domain import introductions as say
from bot.domain.areas import AREA_KEYS
from bot.domain.matching import MentorSlot, RoundPhase, assign_round
from bot.services.matching import MatchingError, MatchingService, RoundPlan
from bot.services.ports import ComputeFailed, PhaseHeard
from tests.factories import count_rows, onboarded
from tests.services.conftest import World

GUILD, OTHER_GUILD = 10, 11
MOD, OTHER_MOD = 1, 2
LANGUAGES = ["English", "Tagalog", "Japanese", "Hindi", "Spanish", "Korean"]
Plan = list[tuple[int, int, float, tuple[str, ...]]]  # (mentee, mentor, score, reasons)
Fn = Callable[..., Any]
ZONES = ["Europe/London", "America/Vancouver", "Asia/Manila", "Australia/Sydney", "Asia/Tokyo"]


async def _community(world: World, guild_id: int, mentees: int, mentors: int) -> list[int]:
    """Seeded, varied members who finished onboarding; every mentee waits. Their ids."""
    rng = random.Random(guild_id)
    cipher, now, db = world.services.ctx.cipher, world.clock(), world.database
    people = [(guild_id * 1000 + 500 + n, True) for n in range(mentors)]
    people += [(guild_id * 1000 + n, False) for n in range(mentees)]
    for user, mentor in people:
        areas = rng.sample(AREA_KEYS, rng.randint(2, 4) if mentor else rng.randint(1, 3))
        answers: dict[str, Any] = {
            "areas_offered" if mentor else "areas_wanted": areas,
            "languages": rng.sample(LANGUAGES, rng.randint(1, 3 if mentor else 2)),
            "timezone": rng.choice(ZONES),
        }
        if mentor:
            answers["capacity"] = rng.randint(1, 3)
        await onboarded(
            db, cipher, guild_id=guild_id, user_id=user, now=now, mentor=mentor, **answers
        )
        if not mentor:
            async with db.session() as session:
                await open_request(session, guild_id=guild_id, mentee_id=user, now=now)
    ids = [user for user, _ in people]
    world.messenger.join(guild_id, MOD, OTHER_MOD, *ids)
    return ids


async def _inline_plan(
    world: World, guild_id: int
) -> list[tuple[int, int, float, tuple[str, ...]]]:
    """The round as the solver makes it inline, from profiles read the old way."""
    cipher = world.services.ctx.cipher
    async with world.database.session() as session:
        mentees = []
        for request in await waiting_requests(session, guild_id=guild_id):
            found = await load_matchable_profile(
                session, guild_id=guild_id, user_id=request.mentee_id, cipher=cipher
            )
            if found is not None and found[1].is_mentee:
                mentees.append(found[1])
        mentors = await list_available_mentors(session, guild_id=guild_id, cipher=cipher)
        forbidden = await forbidden_pairs(session, guild_id=guild_id, cipher=cipher)
    result = assign_round(
        mentees, [MentorSlot(p, free) for p, free in mentors], forbidden=frozenset(forbidden)
    )
    return [(a.mentee_id, a.mentor_id, a.score, a.reasons) for a in result.assignments]


def _plan(plan: RoundPlan) -> Plan:
    return [(a.mentee_id, a.mentor_id, a.score, a.reasons) for a in plan.assignments]


async def _waiting(world: World, guild_id: int) -> int:
    return await count_rows(
        world.database, MatchRequest, guild_id=guild_id, status=RequestStatus.WAITING
    )


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


class Counting(ThreadCompute):
    """A thread compute that counts its runs and can hold them until released."""

    def __init__(self) -> None:
        super().__init__(poll=0.01)
        self.runs = 0
        self.release = asyncio.Event()
        self.release.set()

    async def run(
        self, fn: Callable[..., Any], *args: Any, on_phase: PhaseHeard | None = None
    ) -> Any:
        self.runs += 1
        await self.release.wait()
        return await super().run(fn, *args, on_phase=on_phase)


class Paced(ThreadCompute):
    """Each phase the solver reports lasts a little, so a watcher polling sees every one."""

    async def run(
        self, fn: Callable[..., Any], *args: Any, on_phase: PhaseHeard | None = None
    ) -> Any:
        def paced(*given: Any) -> Any:
            *rest, report = given

            def slow(phase: int) -> None:
                report(phase)
                time.sleep(0.05)

            return fn(*rest, slow)

        return await super().run(paced, *args, on_phase=on_phase)


def _die(*args: Any) -> None:
    """A worker that dies mid-round (as if killed, or out of memory)."""
    os._exit(3)


class DiesOnce(ProcessCompute):
    """The real process pool, whose first run's worker dies."""

    def __init__(self) -> None:
        super().__init__(poll=0.05)
        self.died = False

    async def run(
        self, fn: Callable[..., Any], *args: Any, on_phase: PhaseHeard | None = None
    ) -> Any:
        if not self.died:
            self.died = True
            fn = _die
        return await super().run(fn, *args, on_phase=on_phase)


def _sleepy(seconds: float, report: Callable[[int], None]) -> str:
    report(RoundPhase.SOLVING)
    time.sleep(seconds)
    return "done"


async def test_a_round_in_the_worker_process_plans_what_the_solver_plans_inline(
    world: World,
) -> None:
    await _community(world, GUILD, mentees=30, mentors=12)
    inline = await _inline_plan(world, GUILD)
    assert len(inline) >= 10  # a round with choices to make
    in_thread = _plan(await world.services.matching.preview_round(GUILD))
    compute = ProcessCompute(poll=0.05)
    world.services.ctx.compute = compute
    try:
        plan = await world.services.matching.preview_round(GUILD)
    finally:
        await compute.close()
    assert _plan(plan) == in_thread == inline
    assert plan.round.proven_optimal
    assert f"{len(inline)} introductions" in plan.text
    assert await count_rows(world.database, Introduction) == 0  # a preview sends nothing


class Shown(list[str]):
    """The progress texts a moderator was shown, in order."""

    async def __call__(self, text: str) -> None:
        self.append(text)


def _computing(world: World, compute: Any) -> MatchingService:
    """The matching service, its rounds computed by ``compute``."""
    world.services.ctx.compute = compute
    return world.services.matching


async def _watched_round(world: World, every: float) -> tuple[RoundPlan, list[str]]:
    """A round whose phases each last a little, its progress shown at most every ``every``
    seconds; the plan and every progress text shown."""
    await _community(world, GUILD, mentees=12, mentors=5)
    matching = _computing(world, Paced(poll=0.01))
    matching.round_progress_every = every
    shown = Shown()
    return await matching.preview_round(GUILD, progress=shown), shown


async def test_the_round_shows_each_phase_then_the_preview(world: World) -> None:
    plan, shown = await _watched_round(world, every=0.0)
    steps = [line.split(":")[0] for text in shown for line in text.splitlines()[1:2]]
    assert steps[0] == "Step 1 of 5"  # reading the profiles, at once
    assert {"Step 2 of 5", "Step 3 of 5", "Step 4 of 5", "Step 5 of 5"} <= set(steps)
    assert steps[-1] == "Step 5 of 5"  # then the preview replaces it (the cog's finish)
    assert all(text.startswith("**Working out a matching round…**") for text in shown)
    assert "introductions" in plan.text


async def test_round_progress_is_throttled(world: World) -> None:
    _, shown = await _watched_round(world, every=60.0)
    assert len(shown) == 1  # five phases and many polls, one edit a minute at most


async def test_a_second_round_while_one_runs_is_refused_kindly(world: World) -> None:
    await _community(world, GUILD, mentees=10, mentors=4)
    await _community(world, OTHER_GUILD, mentees=6, mentors=3)
    compute = Counting()
    compute.release.clear()  # the first round is still computing when the others ask
    matching = _computing(world, compute)
    first = asyncio.create_task(matching.preview_round(GUILD))
    await _until(lambda: compute.runs == 1)  # the profiles are read: the solver is running
    with pytest.raises(MatchingError) as refused:
        await matching.preview_round(GUILD)
    assert refused.value.message == say.ROUND_ALREADY_RUNNING
    other = asyncio.create_task(matching.preview_round(OTHER_GUILD))  # another server: its own
    await _until(lambda: compute.runs == 2)
    compute.release.set()
    plan, other_plan = await asyncio.gather(first, other)
    assert plan.assignments and other_plan.assignments
    again = await matching.preview_round(GUILD)  # once done, a round can run again
    assert _plan(again) == _plan(plan)
    assert compute.runs == 3


async def test_two_moderators_pressing_at_once_get_one_computation(world: World) -> None:
    await _community(world, GUILD, mentees=10, mentors=4)
    compute = Counting()
    matching = _computing(world, compute)
    outcomes = await asyncio.gather(
        matching.preview_round(GUILD), matching.preview_round(GUILD), return_exceptions=True
    )
    plans = [o for o in outcomes if isinstance(o, RoundPlan)]
    refusals = [o for o in outcomes if isinstance(o, MatchingError)]
    assert len(plans) == 1 and len(refusals) == 1
    assert refusals[0].message == say.ROUND_ALREADY_RUNNING
    assert compute.runs == 1


async def test_a_worker_that_dies_is_said_plainly_and_changes_nothing(world: World) -> None:
    await _community(world, GUILD, mentees=10, mentors=4)
    compute = DiesOnce()
    matching = _computing(world, compute)
    shown = Shown()
    try:
        with pytest.raises(MatchingError) as failed:
            await matching.preview_round(GUILD, progress=shown)
        assert failed.value.message == say.ROUND_FAILED
        assert "Nothing was sent" in failed.value.message
        assert shown  # the moderator had been shown progress; the cog puts the error there
        assert await count_rows(world.database, Introduction) == 0
        assert await _waiting(world, GUILD) == 10  # everyone still waits
        plan = await matching.preview_round(GUILD)  # a fresh worker; the round is not stuck
    finally:
        await compute.close()
    published = await matching.publish_round(GUILD, MOD, plan.assignments)
    assert published.sent == len(plan.assignments) > 0


async def test_closing_stops_a_running_worker_instead_of_waiting_for_it() -> None:
    compute = ProcessCompute(poll=0.05)
    started = asyncio.Event()

    async def heard(phase: int) -> None:
        if phase == RoundPhase.SOLVING:
            started.set()

    running = asyncio.create_task(compute.run(_sleepy, 60.0, on_phase=heard))
    await asyncio.wait_for(started.wait(), timeout=60)
    began = time.monotonic()
    await compute.close()
    with pytest.raises(ComputeFailed):
        await running
    assert time.monotonic() - began < 10
    with pytest.raises(ComputeFailed):  # closed for good
        await compute.run(_sleepy, 0.0)
