"""Does a moderator's batch round stall the bot's event loop? (issue #14)

    python bench/loop_stall.py                                  # 50,000 × 15,000, worker process
    python bench/loop_stall.py --mentees 10000 --mentors 3000 --compute thread
    python bench/loop_stall.py --compute inline --json          # the solver on the loop (before)

Builds a SQLite database (in a temporary folder; not timed) with ``--mentees`` waiting members
and ``--mentors`` mentors, profiles encrypted as the bot stores them, then runs
``MatchingService.preview_round`` — the same path as ``/matching round``: profiles streamed,
decrypted and packed on the loop a few hundred at a time, the solver in ``--compute``
(``process``: the bot's ``ProcessCompute``; ``thread``: ``ThreadCompute``; ``inline``: called
right on the event loop, as before this change). Meanwhile:

- a ticker sleeps 10 ms in a loop and records how late it wakes (the loop's stall);
- another member (a mentor) asks ``/match status`` (``MatchingService.status``, three indexed
  lookups) every 50 ms, and the answer time of each is recorded.

It prints the round's time, the worst and 99th-percentile loop stall (overall and per phase
of the round), and the 50th/99th percentile and worst answer time of the concurrent calls.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching import population  # bench/matching.py: the same seeded populations

from bot.client import settle_heap
from bot.compute import ProcessCompute, ThreadCompute
from bot.config import Config
from bot.crypto import Cipher
from bot.db import pool_changes
from bot.db.engine import Database, create_engine
from bot.db.models import ConsentStatus, MatchRequest, MemberProfile, RequestStatus
from bot.domain.profile import Profile
from bot.services import build_services
from bot.services.ports import PhaseHeard
from tests.services.fakes import FakeDmSender, FakeJobs, FakeMessenger, FakeSpaces

GUILD = 1
TICK_S = 0.010
ASK_EVERY_S = 0.050
BEFORE = "(before the round: the machine's own noise)"


def _answers(p: Profile, *, capacity: int = 0) -> dict[str, Any]:
    return {
        "role": p.role,
        "areas_wanted": list(p.areas_wanted),
        "areas_offered": list(p.areas_offered),
        "heritage_regions": list(p.heritage_regions),
        "heritage_details": list(p.heritage_details),
        "heritage_preference": p.heritage_preference,
        "languages": list(p.languages),
        "career_field": p.career_field,
        "timezone": p.timezone,
        "cadence": p.cadence,
        "capacity": capacity,
        "about": "I have mentored for years and like helping people find their way. " * 2,
        "share": sorted(p.share),
    }


async def _populate(database: Database, cipher: Cipher, mentees: int, mentors: int) -> int:
    """Everyone as onboarding saves them (bulk inserted); returns the id of a mentor, who asks
    ``/match status`` during the round (a few indexed lookups: a waiting member's answer
    would count the 50,000 ahead of them, ~0.9 s on SQLite with or without a round)."""
    people, slots, _ = population(mentees, mentors)
    now = datetime.now(UTC)
    rows: dict[int, dict[str, Any]] = {}
    for slot in slots:
        rows[slot.profile.user_id] = _answers(slot.profile, capacity=slot.free)
    for p in people:
        if p.user_id in rows:  # someone who is both: mentor answers plus the mentee's wishes
            rows[p.user_id] |= {"role": "both", "areas_wanted": list(p.areas_wanted)}
        else:
            rows[p.user_id] = _answers(p)
    base = {
        "guild_id": GUILD,
        "consent_status": ConsentStatus.ACCEPTED,
        "consent_version": "bench",
        "consent_at": now,
        "started_at": now,
        "completed_at": now,
        "updated_at": now,
        "mentor_paused": False,
        "active_mentees": 0,
    }
    profiles = [
        base
        | {
            "user_id": user,
            "role": answers["role"],
            "capacity": answers["capacity"],
            "answers_enc": cipher.encrypt(json.dumps(answers)),
        }
        for user, answers in rows.items()
    ]
    rng = random.Random(1)
    requests = [
        {
            "guild_id": GUILD,
            "mentee_id": p.user_id,
            "status": RequestStatus.WAITING,
            "requested_at": now,
            "updated_at": now,
        }
        for p in rng.sample(people, len(people))
    ]
    async with database.session() as session:
        # A bulk write names who changed (pool_changes): here everyone, as a fresh server.
        pool_changes.mark(session, GUILD, [pool_changes.EVERYONE])
        for table, batch in ((MemberProfile, profiles), (MatchRequest, requests)):
            insert = cast(Any, table).__table__.insert().execution_options(**pool_changes.MARKED)
            for i in range(0, len(batch), 5000):
                await session.execute(insert, batch[i : i + 5000])
    return slots[-1].profile.user_id


class InlineCompute:
    """The solver right on the event loop: what every round did before issue #14."""

    async def run(
        self, fn: Callable[..., Any], *args: Any, on_phase: PhaseHeard | None = None
    ) -> Any:
        return fn(*args, lambda phase: None)


class _Samples:
    """(phase, seconds) samples kept in flat arrays: the bench's own bookkeeping must not
    grow the heap the garbage collector walks (tuples would, and skew the figures)."""

    def __init__(self) -> None:
        self.names: list[str] = []  # the phase strings are shared, not copied
        self.values = array("d")

    def record(self, name: str, value: float) -> None:
        self.names.append(name)
        self.values.append(value)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return zip(self.names, self.values, strict=True)


def _pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else 0.0
    )


async def run(mentees: int, mentors: int, compute_kind: str, baseline: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lantern-stall-") as tmp:
        database = Database(create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db"))
        await database.create_all()
        cipher = Cipher([Cipher.generate_key()])
        asker = await _populate(database, cipher, mentees, mentors)
        compute: Any = {
            "process": lambda: ProcessCompute(),
            "thread": lambda: ThreadCompute(),
            "inline": InlineCompute,
        }[compute_kind]()
        services = build_services(
            database=database,
            cipher=cipher,
            config=Config(source="<bench>"),
            clock=lambda: datetime.now(UTC),
            messenger=FakeMessenger(),
            jobs=FakeJobs(),
            spaces=FakeSpaces(),
            dm_sender=FakeDmSender(),
            compute=compute,
        )
        matching = services.matching
        matching.round_progress_every = 0.0  # every phase change, to tag the stalls
        if isinstance(compute, ProcessCompute):  # a running bot's worker is already up
            await compute.run(_warm)
        await matching.status(GUILD, asker)  # warm the connection and the ORM
        settle_heap()  # what the bot does once started (bot/client.py)

        pauses: list[tuple[int, float]] = []
        slow_gc: list[tuple[str, float]] = []
        gc_started = [0.0]

        def on_gc(event: str, info: dict[str, int]) -> None:
            if event == "start":
                gc_started[0] = time.perf_counter()
            else:
                pauses.append((info["generation"], time.perf_counter() - gc_started[0]))
                if pauses[-1][1] > 0.05:
                    slow_gc.append((phase[0], round(pauses[-1][1] * 1000, 1)))

        gc.callbacks.append(on_gc)
        phase = ["start"]
        edits: list[tuple[float, str]] = []
        stalls = _Samples()
        answers = _Samples()
        done = asyncio.Event()
        t0 = [time.perf_counter()]

        async def progress(text: str) -> None:
            phase[0] = text.splitlines()[1].rstrip(".")
            edits.append((time.perf_counter() - t0[0], phase[0]))

        async def ticker() -> None:
            while not done.is_set():
                start = time.perf_counter()
                await asyncio.sleep(TICK_S)
                stalls.record(phase[0], time.perf_counter() - start - TICK_S)

        async def other_member() -> None:
            while not done.is_set():
                start = time.perf_counter()
                await matching.status(GUILD, asker)
                answers.record(phase[0], time.perf_counter() - start)
                await asyncio.sleep(ASK_EVERY_S)

        async def moderator() -> Any:
            try:
                phase[0] = BEFORE
                await asyncio.sleep(baseline)
                t0[0] = time.perf_counter()  # the round's time starts here
                return await matching.preview_round(GUILD, progress=progress)
            finally:
                done.set()

        _, _, plan = await asyncio.gather(ticker(), other_member(), moderator())
        seconds = time.perf_counter() - t0[0]
        gc.callbacks.remove(on_gc)
        worker_mb = _worker_rss_mb(compute)
        if isinstance(compute, ProcessCompute):
            await compute.close()
        await database.dispose()
    lags = [lag for name, lag in stalls if name != BEFORE]
    calls = [t for name, t in answers if name != BEFORE]
    before = [lag for name, lag in stalls if name == BEFORE]
    before_calls = [t for name, t in answers if name == BEFORE]
    per_phase: dict[str, float] = {}
    for name, lag in stalls:
        per_phase[name] = max(per_phase.get(name, 0.0), lag)
    return {
        "size": f"{mentees}x{mentors}",
        "compute": compute_kind,
        "seconds": round(seconds, 2),
        "matched": len(plan.assignments),
        "proven": plan.round.proven_optimal,
        "loop_stall_max_ms": round(max(lags) * 1000, 1),
        "loop_stall_p99_ms": round(_pct(lags, 99) * 1000, 1),
        "ticks": len(lags),
        "calls": len(calls),
        "call_p50_ms": round(_pct(calls, 50) * 1000, 1),
        "call_p99_ms": round(_pct(calls, 99) * 1000, 1),
        "call_max_ms": round(max(calls) * 1000, 1),
        "before_round": {
            "seconds": baseline,
            "loop_stall_max_ms": round(max(before, default=0.0) * 1000, 1),
            "loop_stall_p99_ms": round(_pct(before, 99) * 1000, 1),
            "call_p99_ms": round(_pct(before_calls, 99) * 1000, 1),
        },
        "gc_max_ms": round(max((p for _, p in pauses), default=0.0) * 1000, 1),
        "gc_full_collections": sum(1 for g, _ in pauses if g == 2),
        "gc_pauses_over_50ms": slow_gc,
        "worker_rss_mb_after_round": worker_mb,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "stall_max_ms_by_phase": {k: round(v * 1000, 1) for k, v in per_phase.items()},
        "phases_at_s": [(round(t, 2), name) for t, name in edits if name],
    }


def _worker_rss_mb(compute: Any) -> float | None:
    """Resident memory the idle worker keeps after the round (Linux; a private executor
    attribute, good enough for a benchmark)."""
    pool = getattr(compute, "_pool", None)
    for process in getattr(pool, "_processes", {}).values():
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def _warm(report: Callable[[int], None]) -> None:
    """Nothing: makes the worker process start (a running bot's has long started)."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentees", type=int, default=50_000)
    parser.add_argument("--mentors", type=int, default=15_000)
    parser.add_argument("--compute", choices=("process", "thread", "inline"), default="process")
    parser.add_argument(
        "--baseline", type=float, default=10.0, help="seconds measured before the round starts"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    result = asyncio.run(run(args.mentees, args.mentors, args.compute, args.baseline))
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['size']} via {result['compute']}: round {result['seconds']} s, "
        f"{result['matched']} introductions, proven={result['proven']}"
    )
    print(
        f"event loop stall: max {result['loop_stall_max_ms']} ms, "
        f"p99 {result['loop_stall_p99_ms']} ms over {result['ticks']} ticks of 10 ms"
    )
    print(
        f"concurrent /match status ({result['calls']} calls): p50 {result['call_p50_ms']} ms, "
        f"p99 {result['call_p99_ms']} ms, max {result['call_max_ms']} ms"
    )
    print(
        "the idle worker's resident memory after the round: "
        f"{result['worker_rss_mb_after_round']} MB"
    )
    b = result["before_round"]
    print(
        f"the same {b['seconds']:.0f} s before the round (no round): loop stall max "
        f"{b['loop_stall_max_ms']} ms, p99 {b['loop_stall_p99_ms']} ms; "
        f"/match status p99 {b['call_p99_ms']} ms"
    )
    print(f"machine load average (1, 5, 15 min) at the end: {result['load_average']}")
    print(
        f"garbage collector: longest pause {result['gc_max_ms']} ms, "
        f"{result['gc_full_collections']} full collections; over 50 ms: "
        f"{result['gc_pauses_over_50ms']}"
    )
    print("worst stall per phase (ms):")
    for name, ms in result["stall_max_ms_by_phase"].items():
        print(f"  {ms:>8} {name}")
    print("phases (s since the round started):")
    for at, name in result["phases_at_s"]:
        print(f"  {at:>7} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
