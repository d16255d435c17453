"""Benchmark of one `/match request` end to end, through the service call the command makes
(`services.matching.request`), with each server's mentor pool cached (issue #14).

    python bench/request.py            # 1,000, 5,000 and 15,000 mentors, a table
    python bench/request.py --json     # one JSON object per line
    python bench/request.py --mentors 2000 --requests 100

Each size builds a fresh SQLite database in a temporary folder (not timed) with N encrypted
mentor profiles and as many mentees as requests, then:

- **cold**: the first request of the process (the pool is built: read, decrypt, encode), and a
  build alone by a second service container (another process's first use), with the longest
  the event loop went without running a 1 ms ticker during that build;
- **warm**: every following request, each by a new mentee. Each request introduces its mentee
  and so changes its mentor's free places: the next request's lookup finds the generation
  moved and patches that mentor (the steady state under load, not a pure cache hit);
- **lookup**: the pool lookup alone, when nothing changed (one row read) and after one
  mentor's pause changed in another transaction (one mentor read again);
- **memory**: what a second container's cached pool holds (tracemalloc, numpy included);
- **gc**: how many collections ran during the requests and the longest (a full collection walks
  the whole process heap, holding the GIL). Like the bot (``settle_heap`` in bot/client.py),
  the bench freezes what start-up made before the first request; ``--gc-freeze`` also freezes
  after the first request (the cold pool build), which the bot does not do;
- **idle gap**: the longest the loop went without its 1 ms ticker while idle for 2 s (what the
  machine's load alone costs);
- **gil**: decrypting the profiles in one thread, then in two threads at once (same work
  each): a ratio near 2 means Fernet holds the GIL and the worker thread only shares it.

The messenger is the service tests' in-memory fake, so Discord's own latency is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.client import settle_heap
from bot.compute import ThreadCompute
from bot.config import Config, SchedulerSection
from bot.crypto import Cipher
from bot.db.engine import Database, create_engine
from bot.db.queries import pool as pool_queries
from bot.db.queries.matching import set_mentor_paused
from bot.domain.areas import AREA_KEYS
from bot.domain.matching import DEFAULT_WEIGHTS
from bot.services import Services, build_services
from bot.services.mentor_pool import MentorPools
from tests.factories import add_member
from tests.services.fakes import FakeDmSender, FakeJobs, FakeMessenger, FakeSpaces

GUILD = 1
SEED = 20261128
ZONES = ["Europe/London", "America/Vancouver", "Asia/Manila", "Australia/Sydney", "Asia/Tokyo"]
LANGS = ["English", "Tagalog", "Japanese", "Cantonese", "Hindi", "Korean", "Vietnamese"]
MENTEE_BASE = 10**16
MENTOR_BASE = 10**17


async def _populate(database: Database, cipher: Cipher, mentors: int, mentees: int) -> None:
    rnd = random.Random(SEED)
    now = datetime.now(UTC)
    people: list[tuple[int, dict[str, Any]]] = [
        (
            MENTOR_BASE + i,
            {
                "role": "mentor",
                "areas_offered": rnd.sample(AREA_KEYS, rnd.randint(2, 5)),
                "capacity": rnd.randint(1, 5),
                "languages": rnd.sample(LANGS, rnd.randint(1, 3)),
                "timezone": rnd.choice(ZONES),
                "about": "I have mentored for years; " * 10,
                "share": ["languages", "timezone", "about"],
            },
        )
        for i in range(mentors)
    ]
    people += [
        (
            MENTEE_BASE + i,
            {
                "role": "mentee",
                "areas_wanted": rnd.sample(AREA_KEYS, rnd.randint(1, 3)),
                "languages": rnd.sample(LANGS, rnd.randint(1, 2)),
                "timezone": rnd.choice(ZONES),
                "share": ["languages", "timezone"],
            },
        )
        for i in range(mentees)
    ]
    async with database.session() as session:
        for user_id, answers in people:
            await add_member(
                session, cipher, guild_id=GUILD, user_id=user_id, now=now, completed=True,
                answers=answers,
            )  # fmt: skip


def _services(database: Database, cipher: Cipher, messenger: FakeMessenger) -> Services:
    return build_services(
        database=database,
        cipher=cipher,
        config=Config(scheduler=SchedulerSection(enabled=False), source="<bench>"),
        clock=lambda: datetime.now(UTC),
        messenger=messenger,
        jobs=FakeJobs(),
        spaces=FakeSpaces(),
        dm_sender=FakeDmSender(),
        compute=ThreadCompute(),
    )


async def _stalls(work: Any) -> tuple[Any, float, float]:
    """Run ``work`` (a coroutine) while a 1 ms ticker measures the event loop's longest gap."""
    longest = 0.0
    done = False

    async def tick() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    start = time.perf_counter()
    result = await work
    elapsed = time.perf_counter() - start
    done = True
    await ticker
    return result, elapsed, longest


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _gil(cipher: Cipher, tokens: list[str]) -> dict[str, float]:
    def work() -> None:
        for t in tokens:
            cipher.decrypt(t)

    start = time.perf_counter()
    work()
    one = time.perf_counter() - start
    threads = [threading.Thread(target=work) for _ in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two = time.perf_counter() - start
    return {"decrypt_one_thread": one, "decrypt_two_threads": two, "ratio": two / one}


def _kept(keep: Path, mentors: int, requests: int) -> tuple[Path, Path]:
    return keep / f"request-{mentors}x{requests}.db", keep / f"request-{mentors}.key"


def _restore(keep: Path | None, mentors: int, requests: int, tmp: str) -> Cipher | None:
    if keep is None:
        return None
    pristine, key = _kept(keep, mentors, requests)
    if not (pristine.exists() and key.exists()):
        return None
    shutil.copy(pristine, f"{tmp}/bench.db")
    return Cipher([key.read_bytes()])


def _store(keep: Path | None, mentors: int, requests: int, tmp: str, secret: bytes) -> None:
    if keep is None:
        return
    pristine, key = _kept(keep, mentors, requests)
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(f"{tmp}/bench.db", pristine)
    key.write_bytes(secret)


async def _seeded(tmp: str, mentors: int, requests: int, keep: Path | None) -> Cipher:
    """A populated database at ``tmp``/bench.db; with ``keep``, seeded once and copied."""
    restored = _restore(keep, mentors, requests, tmp)
    if restored is not None:
        return restored
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db"))
    await database.create_all()
    secret = Cipher.generate_key()
    cipher = Cipher([secret])
    await _populate(database, cipher, mentors, requests)
    await database.dispose()
    _store(keep, mentors, requests, tmp, secret)
    return cipher


async def run(
    mentors: int, requests: int, keep: Path | None = None, freeze: bool = False
) -> dict[str, Any]:
    gc_pauses: list[float] = []
    with tempfile.TemporaryDirectory(prefix="lantern-bench-") as tmp:
        cipher = await _seeded(tmp, mentors, requests, keep)
        database = Database(create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db"))

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                gc_pauses.append(-time.perf_counter())
            elif gc_pauses:
                gc_pauses[-1] += time.perf_counter()

        gc.callbacks.append(on_gc)
        messenger = FakeMessenger()
        messenger.join(GUILD, *(MENTEE_BASE + i for i in range(requests)))
        messenger.join(GUILD, *(MENTOR_BASE + i for i in range(mentors)))
        services = _services(database, cipher, messenger)
        matching = services.matching

        settle_heap()  # what the bot does once started (bot/client.py)
        _, _, idle_gap = await _stalls(asyncio.sleep(2))
        times = []
        for i in range(requests):
            start = time.perf_counter()
            text = await matching.request(GUILD, MENTEE_BASE + i)
            times.append(time.perf_counter() - start)
            assert "introduced to a mentor" in text, text
            if freeze and i == 0:
                gc.freeze()  # what a bot could do once warmed up: old objects leave the GC
        cold_request, warm = times[0], times[1:]
        gc.callbacks.remove(on_gc)

        # A second container: another process's first use of the pool.
        other = MentorPools(services.ctx)
        _, cold_build, stall = await _stalls(other.current(GUILD, DEFAULT_WEIGHTS))

        hits = []
        for _ in range(200):
            start = time.perf_counter()
            await other.current(GUILD, DEFAULT_WEIGHTS)
            hits.append(time.perf_counter() - start)
        patches = []
        for i in range(50):
            async with database.session() as session:
                await set_mentor_paused(
                    session,
                    guild_id=GUILD,
                    mentor_id=MENTOR_BASE + i,
                    paused=i % 2 == 0,
                    now=datetime.now(UTC),
                )
            start = time.perf_counter()
            await other.current(GUILD, DEFAULT_WEIGHTS)
            patches.append(time.perf_counter() - start)

        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        third = MentorPools(services.ctx)
        await third.current(GUILD, DEFAULT_WEIGHTS)
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()

        async with database.session() as session:
            rows = await pool_queries.pool_mentors(session, guild_id=GUILD)
        gil = _gil(cipher, [r.answers_enc for r in rows if r.answers_enc])
        await database.dispose()
    return {
        "mentors": mentors,
        "requests": requests,
        "warm_p50": statistics.median(warm),
        "warm_p99": _pct(warm, 0.99),
        "warm_max": max(warm),
        "cold_request": cold_request,
        "cold_build": cold_build,
        "cold_build_loop_stall": stall,
        "idle_loop_gap": idle_gap,
        "gc_freeze": freeze,
        "lookup_hit_p50": statistics.median(hits),
        "lookup_hit_p99": _pct(hits, 0.99),
        "lookup_patch_p50": statistics.median(patches),
        "lookup_patch_p99": _pct(patches, 0.99),
        "cache_mb": held / 2**20,
        "gc_collections": len(gc_pauses),
        "gc_longest": max(gc_pauses, default=0.0),
        "lookups": dict(matching.pools.stats),
        **gil,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentors", type=int, action="append", help="mentor count (repeatable)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after the first request"
    )
    parser.add_argument(
        "--keep", type=Path, help="keep seeded databases (and their key) here and reuse them"
    )
    args = parser.parse_args()
    sizes = args.mentors or [1000, 5000, 15000]
    if not args.json:
        print(
            f"{'mentors':>8} {'p50':>8} {'p99':>8} {'max':>8} {'cold req':>9} {'build':>8} "
            f"{'stall':>7} {'hit p99':>8} {'patch p99':>9} {'cache':>7} {'gil x':>6}"
        )
    for size in sizes:
        r = asyncio.run(run(size, args.requests, args.keep, args.gc_freeze))
        if args.json:
            print(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in r.items()}))
            continue
        ms = 1000
        print(
            f"{size:>8} {r['warm_p50'] * ms:>6.1f}ms {r['warm_p99'] * ms:>6.1f}ms "
            f"{r['warm_max'] * ms:>6.1f}ms {r['cold_request']:>8.2f}s {r['cold_build']:>7.2f}s "
            f"{r['cold_build_loop_stall'] * ms:>5.0f}ms {r['lookup_hit_p99'] * ms:>6.2f}ms "
            f"{r['lookup_patch_p99'] * ms:>7.2f}ms {r['cache_mb']:>5.1f}MB {r['ratio']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
