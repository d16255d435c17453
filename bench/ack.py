"""Benchmark of acknowledgement under load (issue #14): 100 members' commands and button presses
arrive at once; how long until the bot acknowledges each (a defer or its first response)?

    python bench/ack.py                          # SQLite, a burst of 100, a table
    python bench/ack.py --db postgresql          # PostgreSQL (--pg-url, a fresh schema)
    python bench/ack.py --burst 200 --json       # one JSON object

The real bot (``create_bot``, every extension, its own engine built from ``[database]``) runs
against simcord with a community of onboarded mentees and mentors, open pair spaces with a
check-in waiting, and moderators. Every interaction's gateway event is emitted before the bot
handles any (as ``tests/e2e/races.py`` does), then the bot handles them all together. The time
of one interaction is from its INTERACTION_CREATE being handed to the bot's gateway to the
bot's first callback for it (``POST /interactions/{id}/{token}/callback``: a defer, a message or
a modal) reaching simcord's HTTP layer, on the real clock (``time.perf_counter``; simcord's
virtual clock does not move on its own). Building the world is not timed.

The mix: /match request, /match status, /profile, /journal, check-in buttons in pair spaces,
/mydata export and a moderator's /matching queue.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import discord
import simcord
import simcord.http as simcord_http
from sqlalchemy import text

from bot.client import LanternBot, create_bot, open_database
from bot.config import Config, DatabaseSection, SchedulerSection
from bot.crypto import Cipher
from bot.db.engine import Database, create_engine
from bot.domain.components import CHECKIN_ANSWERS
from tests.e2e.pairs_helpers import in_bot, load_pair
from tests.factories import accepted_pair, onboarded

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DAY = 24 * 3600
_DEFERRALS = (5, 6)  # DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE
# What a burst is made of: kind → share of the burst.
MIX: dict[str, float] = {
    "/match request": 0.20,
    "/match status": 0.15,
    "/profile": 0.15,
    "/journal": 0.15,
    "check-in button": 0.20,
    "/mydata export": 0.10,
    "/matching queue": 0.05,
}
ZONES = ["Europe/London", "America/Vancouver", "Asia/Manila", "Australia/Sydney", "Asia/Tokyo"]


@dataclass
class World:
    env: simcord.Env
    general: simcord.ChannelHandle
    moderators: list[simcord.MemberActor]
    waiting: list[simcord.MemberActor]
    checkins: list[tuple[simcord.MemberActor, discord.Message]]


@dataclass
class Clock:
    """When each interaction was emitted, first acknowledged and last answered (the bot's
    last request on its token), in ``perf_counter`` seconds."""

    emitted: dict[int, float] = field(default_factory=dict)
    acked: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    all_answered: asyncio.Future[None] = field(default_factory=asyncio.Future)

    def emit(self, backend: Any, event: str, payload: dict[str, Any]) -> None:
        interaction_id = int(payload["id"])
        self.tokens[payload["token"]] = interaction_id
        self.emitted[interaction_id] = time.perf_counter()
        backend.emit(event, payload)

    def on_issue(self, method: str, url: str) -> None:
        """The bot handed a request to simcord's HTTP layer (``network_turn``)."""
        parts = url.split("?", 1)[0].rstrip("/").split("/")
        if method == "POST" and len(parts) > 4 and parts[-4] == "interactions":
            self.acked.setdefault(int(parts[-3]), time.perf_counter())

    def on_request(self, method: str, path: str, body: Any) -> None:
        """simcord serves a request: an acknowledgement (``--inline-http``) or an answer (a
        follow-up or an edit on the interaction's token, or a callback that is not a defer)."""
        now = time.perf_counter()
        parts = path.strip("/").split("/")
        callback = method == "POST" and len(parts) == 4 and parts[0] == "interactions"
        if callback:
            self.acked.setdefault(int(parts[1]), now)
        deferral = callback and isinstance(body, dict) and body.get("type") in _DEFERRALS
        token = parts[2] if len(parts) > 2 else ""
        if token in self.tokens and not deferral:
            self.answered[self.tokens[token]] = now
            if len(self.answered) == len(self.tokens) and not self.all_answered.done():
                self.all_answered.set_result(None)


_CURRENT: Clock | None = None


class _StampedLog(list):  # type: ignore[type-arg]
    """simcord's request log, noting when each request reaches simcord's HTTP layer."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def append(self, entry: Any) -> None:
        self.clock.on_request(entry.method, entry.path, entry.json)
        super().append(entry)


class _InFlight:
    """One turn of the event loop: what a request on a socket gives the other tasks."""

    def __await__(self) -> Any:
        yield


@contextmanager
def network_turn() -> Iterator[None]:
    """simcord serves the bot's HTTP requests inline, as part of the call; a real request
    suspends the task while it is on the network, so other interactions run meanwhile. Each
    request gets one loop turn between the bot issuing it and simcord serving it. The time an
    acknowledgement reaches the HTTP layer is taken when simcord's adapter is called, before
    that turn."""
    clients = (simcord_http.FakeHTTPClient, simcord_http.FakeWebhookAdapter)
    originals = [client.request for client in clients]

    def turned(original: Any) -> Any:
        async def request(self: Any, route: Any, *args: Any, **kwargs: Any) -> Any:
            if _CURRENT is not None:
                _CURRENT.on_issue(route.method, route.url)
            await _InFlight()
            return await original(self, route, *args, **kwargs)

        return request

    for client, original in zip(clients, originals, strict=True):
        client.request = turned(original)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for client, original in zip(clients, originals, strict=True):
            client.request = original  # type: ignore[method-assign]


async def _database_url(db: str, pg_url: str, tmp: str) -> tuple[str, dict[str, Any], str | None]:
    """The URL, engine options and (PostgreSQL) the fresh schema to drop afterwards."""
    if db == "sqlite":
        return f"sqlite+aiosqlite:///{tmp}/ack.db", {}, None
    schema = "bench_" + secrets.token_hex(5)
    admin = create_engine(pg_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    settings = {"search_path": schema, "application_name": schema}
    return pg_url, {"connect_args": {"server_settings": settings}}, schema


async def _drop_schema(pg_url: str, schema: str) -> None:
    admin = create_engine(pg_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


async def build_world(env: simcord.Env, members: int, mentors: int, pairs: int) -> World:
    """A set-up server: onboarded members and mentors, ``pairs`` open pair spaces whose first
    check-in has been posted, and five moderators."""
    bot: LanternBot = env.bot  # type: ignore[assignment]
    guild = env.create_guild("Lantern Bench")
    general = guild.create_text_channel("general")
    team = guild.create_role("Community Team", permissions=discord.Permissions(manage_guild=True))
    moderators = [guild.add_member(env.create_user(f"mod{i}"), roles=[team]) for i in range(5)]
    await env.settle()
    await moderators[0].slash(general, "setup", moderator_role=team)
    users = [env.create_user(f"member{i}") for i in range(members)]
    now = bot.now()
    seed = partial(onboarded, bot.database, bot.cipher, guild_id=guild.id, now=now)
    for i, user in enumerate(users):
        answers = {"timezone": ZONES[i % len(ZONES)], **({"capacity": 3} if i < mentors else {})}
        await seed(user_id=user.id, mentor=i < mentors, **answers)
    actors: list[simcord.MemberActor] = []
    for start in range(0, len(users), 10):  # members join over time, not all in one instant
        actors += [guild.add_member(user) for user in users[start : start + 10]]
        await env.settle()
    mentor_actors, mentees = actors[:mentors], actors[mentors:]
    paired: list[tuple[simcord.MemberActor, simcord.MemberActor, int]] = []
    for i in range(pairs):
        mentee, mentor = mentees[i], mentor_actors[i % mentors]
        pair_id = await accepted_pair(
            bot.database,
            bot.cipher,
            guild_id=guild.id,
            mentee_id=mentee.id,
            mentor_id=mentor.id,
            now=now,
            reasons=["You both chose identity exploration"],
        )
        paired.append((mentee, mentor, pair_id))
    for _, _, pair_id in paired:  # one at a time: building the world is not the benchmark
        await in_bot(env, bot.services.pairs.open_space(pair_id))
    await env.advance_time(15 * DAY)
    await in_bot(env, bot.services.pairs.checkins_due(env.now()))
    spaces = {h.id: h for h in guild.channels.values()}
    checkins: list[tuple[simcord.MemberActor, discord.Message]] = []
    for mentee, mentor, pair_id in paired:
        space = spaces[(await load_pair(bot, pair_id)).channel_id or 0]
        card = next(m for m in reversed(space.history()) if "Check-in" in (m.content or ""))
        checkins += [(mentee, card), (mentor, card)]
    return World(env, general, moderators, mentees[pairs:], checkins)


def plan_burst(world: World, size: int) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    """``size`` operations in the mix, each by a different member where the community allows."""
    counts = {kind: int(share * size) for kind, share in MIX.items()}
    kinds = list(MIX)
    for extra in range(size - sum(counts.values())):
        counts[kinds[extra % len(kinds)]] += 1
    waiting = iter(world.waiting * (1 + size // max(1, len(world.waiting))))
    checkins = iter(world.checkins * (1 + size // max(1, len(world.checkins))))
    general = world.general
    labels = list(CHECKIN_ANSWERS.values())
    plan: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
    for kind, count in counts.items():
        for i in range(count):
            if kind == "check-in button":
                who, card = next(checkins)
                label = labels[i % 2]  # "Going well" / "We haven't met yet"
                press = lambda who=who, card=card, label=label: who.click(card, label=label)  # noqa: E731
                plan.append((kind, press))
            elif kind == "/matching queue":
                mod = world.moderators[i % len(world.moderators)]
                plan.append((kind, lambda mod=mod: mod.slash(general, "matching queue")))
            else:
                member = next(waiting)
                name = kind.removeprefix("/")
                plan.append((kind, lambda m=member, name=name: m.slash(general, name)))
    # Interleave the kinds, as a real burst would arrive.
    return [plan[i] for i in sorted(range(len(plan)), key=lambda i: (i * 7919) % len(plan))]


async def deliver_at_once(
    env: simcord.Env, clock: Clock, operations: list[Callable[[], Awaitable[Any]]]
) -> list[simcord.InteractionResult]:
    """Build every interaction's payload first (simcord's own work, not timed), then hand the
    events to the bot's gateway back to back, then let the bot handle them all."""
    backend = env.backend
    captured: list[tuple[str, dict[str, Any]]] = []

    async def later(*_args: Any, **_kwargs: Any) -> None:
        return None

    backend.emit = lambda event, payload: captured.append((event, payload))  # type: ignore[method-assign]
    env._settle_internal = later  # type: ignore[method-assign]
    try:
        results = [await operation() for operation in operations]
    finally:
        del backend.emit
        del env._settle_internal
    assert len(captured) == len(operations) and not any(r.acknowledged for r in results)
    for event, payload in captured:
        clock.emit(backend, event, payload)
    # Wait for every answer before settling: simcord's settle scans every task and view each
    # turn, which on a hundred live interactions takes most of the loop's time from the bot.
    loop = asyncio.get_running_loop()
    give_up = threading.Timer(600, loop.call_soon_threadsafe, (_give_up, clock.all_answered))
    give_up.start()
    await clock.all_answered
    give_up.cancel()
    await env.settle()
    return results


def _give_up(answered: asyncio.Future[None]) -> None:
    """Ten real minutes without every answer: settle anyway (the figures say who is missing)."""
    if not answered.done():
        answered.set_result(None)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(pct(95) * 1000, 1),
        "p99_ms": round(pct(99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def run(
    db: str,
    pg_url: str,
    burst: int,
    members: int,
    mentors: int,
    pairs: int,
    *,
    inline_http: bool = False,
    pool: dict[str, int] | None = None,
) -> dict[str, Any]:
    pool = pool or {}
    with tempfile.TemporaryDirectory(prefix="lantern-ack-") as tmp:
        url, options, schema = await _database_url(db, pg_url, tmp)
        try:
            section = DatabaseSection(url=url, **pool)
            config = Config(
                database=section,
                scheduler=SchedulerSection(enabled=False),
                source="<bench>",
            )
            cipher = Cipher([Cipher.generate_key()])
            # The schema is made on an engine of its own: the bot's pool must open its
            # connections inside simcord's loop hooks (as tests/conftest.py does).
            setup = Database(create_engine(url, **options))
            await setup.create_all()
            await setup.dispose()
            database = open_database(section, **options)  # as create_bot opens it
            bot = create_bot(config, database=database, cipher=cipher)
            # A settle waits for every timer due before its deadline, asyncpg's timeouts
            # (60 s) included: a deadline below them lets it return as soon as the bot is idle.
            async with simcord.run(bot, settle_timeout=20) as env:
                world = await build_world(env, members, mentors, pairs)
                plan = plan_burst(world, burst)
                clock = Clock()
                stamped = _StampedLog(clock)
                stamped.extend(env.backend.http_requests)
                env.backend.http_requests = stamped
                global _CURRENT
                _CURRENT = clock
                started = time.perf_counter()
                with nullcontext() if inline_http else network_turn():
                    results = await deliver_at_once(env, clock, [op for _, op in plan])
                wall = time.perf_counter() - started
                _CURRENT = None
                unanswered = sum(1 for r in results if not r.acknowledged)
                acks: dict[str, list[float]] = {}
                done: dict[str, list[float]] = {}
                for (kind, _), result in zip(plan, results, strict=True):
                    rid = int(result._interaction.id)
                    if rid in clock.acked:
                        acks.setdefault(kind, []).append(clock.acked[rid] - clock.emitted[rid])
                        done.setdefault(kind, []).append(clock.answered[rid] - clock.emitted[rid])
                errors = len(env.errors)
                error_kinds = sorted({type(getattr(e, "original", e)).__name__ for e in env.errors})
                env._errors_acknowledged = len(env.errors)
            await bot.database.dispose()
        finally:
            if schema is not None:
                await _drop_schema(pg_url, schema)
    every = [v for values in acks.values() for v in values]
    return {
        "db": db,
        "burst": burst,
        "members": members,
        "mentors": mentors,
        "pairs": pairs,
        "overall": _summary(every),
        "kinds": {kind: _summary(values) for kind, values in acks.items()},
        "answered": {
            kind: _summary(values)
            for kind, values in [*done.items(), ("overall", [v for d in done.values() for v in d])]
        },
        "unacknowledged": unanswered,
        "bot_errors": errors,
        "bot_error_kinds": error_kinds,
        "burst_wall_s": round(wall, 2),
        "http": "inline" if inline_http else "one loop turn per request",
        "pool": {"size": section.pool_size, "max_overflow": section.pool_max_overflow},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL URL (a schema is made in it)")
    parser.add_argument("--burst", type=int, default=100, help="interactions delivered at once")
    parser.add_argument("--members", type=int, default=200, help="members, mentors included")
    parser.add_argument("--mentors", type=int, default=60)
    parser.add_argument("--pairs", type=int, default=20, help="open pair spaces with a check-in")
    parser.add_argument("--pool-size", type=int, help="[database] pool_size (default: its default)")
    parser.add_argument("--max-overflow", type=int, help="[database] pool_max_overflow")
    parser.add_argument(
        "--inline-http",
        action="store_true",
        help="serve each HTTP request inside the bot's call, as simcord does (no network turn)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(
        run(
            args.db,
            args.pg_url,
            args.burst,
            args.members,
            args.mentors,
            args.pairs,
            inline_http=args.inline_http,
            pool={
                key: value
                for key, value in (
                    ("pool_size", args.pool_size),
                    ("pool_max_overflow", args.max_overflow),
                )
                if value is not None
            },
        )
    )
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['db']}: {result['burst']} interactions at once, {result['members']} members "
        f"({result['mentors']} mentors), {result['pairs']} pairs; burst handled in "
        f"{result['burst_wall_s']} s; unacknowledged {result['unacknowledged']}, "
        f"bot errors {result['bot_errors']} {result['bot_error_kinds'] or ''}; "
        f"pool {result['pool']['size']}"
        f"+{result['pool']['max_overflow']}"
    )
    overall = result["overall"]
    header = f"{'kind':>18} {'n':>4} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}"
    for title, table in (
        ("acknowledged (defer or first response)", {**result["kinds"], "overall": overall}),
        ("answered (the bot's last reply)", result["answered"]),
    ):
        print(f"\n{title}\n{header}")
        for kind, s in table.items():
            print(
                f"{kind:>18} {s['n']:>4} {s['p50_ms']:>7.1f}ms {s['p95_ms']:>7.1f}ms "
                f"{s['p99_ms']:>7.1f}ms {s['max_ms']:>7.1f}ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
