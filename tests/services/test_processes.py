"""Several Lantern processes on one PostgreSQL database (issue 14): each welcome and prompt DM is
sent once, ten simultaneous accepts make one space, spaces opening at once in one server are
placed one at a time, one round is published at a time, each sweep tick runs once.

Each "process" is a service container of its own — ``build_services`` with its own ``Database``
(engine and connection pool) — on the test's PostgreSQL schema. They share one recording
"Discord" (the fakes of ``fakes.py``), every call of which takes a moment, so the containers'
work interleaves as it would across real processes; nothing else is shared (no in-memory lock
of one container is seen by another).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.compute import ThreadCompute
from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.models import Pair, PairCategory, PairStatus
from bot.domain.pairs import CATEGORY_CAP
from bot.scheduler import LanternScheduler, Sweep
from bot.services import Services, build_services
from bot.services.matching import MatchingError
from tests.conftest import _is_postgres, make_database
from tests.factories import accepted_pair, add_schedule, introduce, onboarded, pending_dms
from tests.services.conftest import Clock
from tests.services.fakes import FakeDmSender, FakeJobs, FakeMessenger, FakeSpace, FakeSpaces

SEVERAL = _is_postgres()
several_only = pytest.mark.skipif(
    not SEVERAL,
    reason="several processes share a PostgreSQL database only: on SQLite a second process "
    "refuses to start (tests/unit/test_deploy.py); set LANTERN_TEST_DATABASE to run this",
)

GUILD = 10
CATEGORY = 100
MOD = 9
# On SQLite (one process only) the same promises are checked with one container, where the
# in-process lock of ``Context.server_lock`` is the guard.
PROCESSES = 3 if SEVERAL else 1
LATENCY = 0.002  # seconds each fake Discord call takes


class Remote:
    """A port whose every coroutine call first waits ``LATENCY``, as a request to Discord does,
    so that calls from several containers really interleave."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(LATENCY)
            return await attr(*args, **kwargs)

        return call


@dataclass
class Cluster:
    """``PROCESSES`` service containers on one database and one fake Discord."""

    processes: list[Services]
    databases: list[Database]
    messenger: FakeMessenger
    spaces: FakeSpaces
    dm_sender: FakeDmSender
    clock: Clock
    cipher: Cipher
    jobs: list[FakeJobs] = field(default_factory=list)

    def each(self, n: int) -> list[Services]:
        """``n`` callers spread over the processes, round robin."""
        return [self.processes[i % len(self.processes)] for i in range(n)]


@pytest_asyncio.fixture
async def cluster(
    database: Database, database_url: str, cipher: Cipher, config: Config
) -> AsyncIterator[Cluster]:
    messenger, spaces, dm_sender = FakeMessenger(), FakeSpaces(), FakeDmSender()
    clock = Clock()
    made = Cluster([], [], messenger, spaces, dm_sender, clock, cipher)
    for _ in range(PROCESSES):
        db = make_database(database_url)
        jobs = FakeJobs()
        made.databases.append(db)
        made.jobs.append(jobs)
        made.processes.append(
            build_services(
                database=db,
                cipher=cipher,
                config=config,
                clock=clock,
                messenger=Remote(messenger),  # type: ignore[arg-type]
                jobs=jobs,
                spaces=Remote(spaces),  # type: ignore[arg-type]
                dm_sender=Remote(dm_sender),  # type: ignore[arg-type]
                compute=ThreadCompute(poll=0.01),
            )
        )
    try:
        yield made
    finally:
        for db in made.databases:
            await db.dispose()


async def _server(cluster: Cluster, *members: int) -> None:
    """A server that ran /setup, with its pair category and these members present."""
    await cluster.processes[0].setup.save(GUILD, MOD, {"pair_category_id": CATEGORY})
    cluster.spaces.guild(GUILD, Mentorship=CATEGORY)
    cluster.messenger.join(GUILD, *members)


async def _members(cluster: Cluster, mentors: list[int], mentees: list[int]) -> None:
    """A server whose mentors (two places each) and mentees are present and onboarded."""
    await _server(cluster, *mentors, *mentees)
    db, now = cluster.databases[0], cluster.clock.now
    for mentor in mentors:
        await onboarded(
            db, cluster.cipher, guild_id=GUILD, user_id=mentor, now=now, mentor=True, capacity=2
        )
    for mentee in mentees:
        await onboarded(db, cluster.cipher, guild_id=GUILD, user_id=mentee, now=now)


async def _pairs(cluster: Cluster, mentors: list[int], mentees: list[int]) -> list[int]:
    """``_members``, and one ``opening`` pair per mentee (its mentor taken in turn); their ids."""
    await _members(cluster, mentors, mentees)
    return [
        await accepted_pair(
            cluster.databases[0],
            cluster.cipher,
            guild_id=GUILD,
            mentee_id=mentee,
            mentor_id=mentors[n % len(mentors)],
            now=cluster.clock.now,
            reasons=[],
        )
        for n, mentee in enumerate(mentees)
    ]


async def _settle(calls: list[Awaitable[Any]]) -> list[Any]:
    """Run every call at once; their results or the errors they raised."""
    return list(await asyncio.gather(*calls, return_exceptions=True))


def _unexpected(results: list[Any]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, MatchingError)]


# ----------------------------------------------------------------------- each DM once


async def test_each_welcome_is_sent_once_whichever_processes_hear_the_join(
    cluster: Cluster,
) -> None:
    """During a rolling restart two processes can hold the same shard for a moment, and a
    resumed gateway may replay a join: every process hearing it calls ``welcome``."""
    members = list(range(201, 209))
    await _server(cluster, *members)
    joined = datetime(2026, 1, 1, 11, 59, tzinfo=UTC)
    results = await _settle(
        [
            process.onboarding.welcome(GUILD, member, joined_at=joined)
            for member in members
            for process in cluster.processes
        ]
    )
    assert not _unexpected(results)
    for member in members:
        assert len(cluster.messenger.dms_to(member)) == 1, member
    assert results.count(True) == len(members)


async def test_each_prompt_dm_is_sent_once_when_every_process_runs_the_delivery_sweep(
    cluster: Cluster,
) -> None:
    members = tuple(range(301, 341))
    await _server(cluster, *members)
    first = cluster.processes[0]
    for user_id in members:
        await first.prompts.set_subscription(GUILD, user_id, "subscribed")
    await first.prompts.create_schedule(GUILD, MOD, "daily 13:00", timezone="UTC", dm=True)
    now = cluster.clock.advance(hours=1, seconds=30)
    results = await _settle([p.delivery.run_due(now) for p in cluster.processes * 2])
    assert not _unexpected(results)
    for user_id in members:
        assert len(cluster.dm_sender.to(user_id)) == 1, user_id
    # An occurrence claimed with its recipients written, then left unsent (its process died):
    # every process finds it unfinished at once; each recipient's row is claimed by one.
    later = cluster.clock.advance(minutes=5)
    other = await add_schedule(
        cluster.databases[0],
        guild_id=GUILD,
        now=later,
        to_dm=True,
        next_run_at=later + timedelta(days=7),
    )
    await pending_dms(cluster.databases[0], other, user_ids=members, now=later)
    results = await _settle([p.delivery.run_due(later) for p in cluster.processes * 2])
    assert not _unexpected(results)
    for user_id in members:
        assert len(cluster.dm_sender.to(user_id)) == 2, user_id


# ----------------------------------------------------------------------- one space


async def test_ten_simultaneous_accepts_across_processes_make_one_pair_and_one_space(
    cluster: Cluster,
) -> None:
    mentee, mentor = 1, 2
    await _members(cluster, [mentor], [mentee])
    db, now = cluster.databases[0], cluster.clock.now
    async with db.session() as session:
        intro_id = await introduce(
            session,
            cluster.cipher,
            guild_id=GUILD,
            mentee_id=mentee,
            mentor_id=mentor,
            now=now,
            score=90.0,
            reasons=["You both chose identity exploration"],
        )
    results = await _settle([p.matching.accept(intro_id) for p in cluster.each(10)])
    assert not _unexpected(results)
    assert len([r for r in results if isinstance(r, str)]) == 1, results
    async with db.session() as session:
        pairs = list((await session.execute(select(Pair))).scalars())
    assert len(pairs) == 1 and pairs[0].status == PairStatus.ACTIVE
    assert cluster.spaces.creates == 1 and len(cluster.spaces.openings) == 1


async def test_ten_processes_opening_one_pairs_space_at_once_make_one_space(
    cluster: Cluster,
) -> None:
    """The accept, the opening sweep of every process and a moderator's retry, all at once."""
    (pair_id,) = await _pairs(cluster, [2], [1])
    db = cluster.databases[0]
    results = await _settle([p.pairs.open_space(pair_id) for p in cluster.each(10)])
    assert not _unexpected(results)
    assert cluster.spaces.creates == 1, "Discord was asked for one channel, not one per caller"
    assert len(cluster.spaces.made()) == 1 and len(cluster.spaces.openings) == 1
    async with db.session() as session:
        pair = await session.get(Pair, pair_id)
    assert pair is not None and pair.channel_id == cluster.spaces.made()[0].id


async def test_spaces_opening_at_once_in_one_server_fill_its_category_then_one_overflow(
    cluster: Cluster,
) -> None:
    """Ten pairs accepted at once, spread over the processes, with room for five more channels
    in the pair category: five go there and five into ONE new overflow category (placement
    reads the category's count, then creates: a server lock makes it one at a time)."""
    for n in range(CATEGORY_CAP - 5):  # channels of the community's own in the category
        cluster.spaces.spaces[n + 1] = FakeSpace(n + 1, GUILD, f"notes-{n}", "channel", CATEGORY)
    pair_ids = await _pairs(cluster, [2, 3, 4, 5, 6], list(range(11, 21)))
    db = cluster.databases[0]
    results = await _settle(
        [p.pairs.open_space(pair_id) for p, pair_id in zip(cluster.each(10), pair_ids, strict=True)]
    )
    assert not _unexpected(results)
    async with db.session() as session:
        pairs = list((await session.execute(select(Pair))).scalars())
        overflow = list((await session.execute(select(PairCategory))).scalars())
    assert all(p.status == PairStatus.ACTIVE for p in pairs), [p.space_error for p in pairs]
    categories = cluster.spaces.guilds[GUILD].categories
    assert len(categories) == 2 and len(overflow) == 1, categories
    assert overflow[0].number == 2
    children = [s.parent_id for s in cluster.spaces.made()]
    assert children.count(CATEGORY) == CATEGORY_CAP
    assert children.count(overflow[0].category_id) == 5
    names = [s.name for s in cluster.spaces.made()]
    assert len(set(names)) == len(names), "every channel name is its own"


async def test_a_space_opened_by_another_process_counts_its_activity_here(
    cluster: Cluster,
) -> None:
    """Accept is a DM button, answered by the process owning DMs; the space's messages reach
    the process owning its server, whose activity map was read before the space existed."""
    (pair_id,) = await _pairs(cluster, [2], [1])
    here, there = cluster.processes[0].pairs, cluster.processes[-1].pairs
    await here.touch(999)  # the server's chatter: the map is read (no pair space yet)
    await there.open_space(pair_id)
    space_id = cluster.spaces.made()[0].id
    written = cluster.clock.advance(minutes=2)
    await here.touch(space_id)
    async with cluster.databases[0].session() as session:
        pair = await session.get(Pair, pair_id)
    assert pair is not None and pair.last_activity_at == written


# ----------------------------------------------------------------------- one round at a time


async def test_two_moderators_publishing_rounds_at_once_in_two_processes_take_turns(
    cluster: Cluster,
) -> None:
    """The same round published from two processes: one sends every introduction, the other
    waits (told so), then reports each as skipped; nobody is introduced twice."""
    mentors = [2, 3, 4]
    mentees = list(range(21, 27))
    await _members(cluster, mentors, mentees)
    first, second = cluster.processes[0].matching, cluster.processes[-1].matching
    await first.set_mode(GUILD, MOD, rounds=True)
    for mentee in mentees:
        await first.request(GUILD, mentee)
    plan = await first.preview_round(GUILD)
    assert len(plan.assignments) == len(mentees)
    heard: list[list[str]] = [[], []]

    def progress(n: int) -> Callable[[str], Awaitable[None]]:
        async def say(text: str) -> None:
            heard[n].append(text)

        return say

    one, two = await asyncio.gather(
        first.publish_round(GUILD, MOD, plan.assignments, progress=progress(0)),
        second.publish_round(GUILD, MOD + 1, plan.assignments, progress=progress(1)),
    )
    assert sorted([one.sent, two.sent]) == [0, len(mentees)], (one, two)
    waited = heard[0] if one.sent == 0 else heard[1]
    assert any("Another round is being sent" in text for text in waited), heard
    for mentor in mentors:
        cards = [m for m in cluster.messenger.dms_to(mentor) if m.buttons]
        assert len(cards) == 2, mentor


# ----------------------------------------------------------------------- one sweep owner


@several_only
async def test_each_sweep_tick_runs_in_one_process(cluster: Cluster) -> None:
    """Every process registers the same real sweep (delivery's); the lease lets one run it."""
    ticks: list[tuple[int, float]] = []

    def sweep(n: int, process: Services) -> Sweep:
        async def run(now: datetime) -> None:
            ticks.append((n, time.monotonic()))
            await process.delivery.run_due(now)

        return Sweep(name="prompts", run=run, every_seconds=1)

    schedulers = []
    for n, (process, db) in enumerate(zip(cluster.processes, cluster.databases, strict=True)):
        scheduler = LanternScheduler(db, lease_seconds=10)
        scheduler.add_sweep(sweep(n, process))
        schedulers.append(scheduler)
    await asyncio.gather(*(s.start() for s in schedulers))
    try:
        await asyncio.sleep(2.5)
    finally:
        await asyncio.gather(*(s.stop() for s in schedulers))
    owners = {n for n, _ in ticks}
    assert len(owners) == 1, ticks
    assert 2 <= len(ticks) <= 4, ticks  # at start, then once a second: never doubled
    assert [s.owns_lease for s in schedulers].count(False) >= PROCESSES - 1


async def test_twenty_spaces_opening_at_once_in_one_process_do_not_exhaust_its_pool(
    cluster: Cluster,
) -> None:
    """Waiters for a server lock wait in the process, not each on a pooled connection: twenty
    waiting connections would empty the pool (5 + 10) and the holder could not finish."""
    pair_ids = await _pairs(cluster, list(range(2, 12)), list(range(21, 41)))
    one = cluster.processes[0].pairs
    results = await asyncio.wait_for(_settle([one.open_space(p) for p in pair_ids]), timeout=20)
    assert not _unexpected(results)
    assert len(cluster.spaces.made()) == len(pair_ids)
