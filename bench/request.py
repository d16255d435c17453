"""Benchmark of one `/match request` as the bot does it: read every available mentor's
profile from the database, decrypt it, build the `MentorPool`, and pick the best mentor.

    python bench/request.py            # 1,000, 5,000 and 15,000 mentors, a table
    python bench/request.py --json     # one JSON object per line
    python bench/request.py --mentors 2000

The engine's own top-3 query is sub-millisecond (bench/matching.py); this measures what a
member waits for behind the "thinking…" indicator, on SQLite with encrypted profiles. Each run
builds a fresh database in a temporary folder; the build is not timed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.crypto import Cipher
from bot.db.engine import Database, create_engine
from bot.db.queries.matching import forbidden_mentors, list_available_mentors
from bot.domain.areas import AREA_KEYS
from bot.domain.matching import DEFAULT_WEIGHTS, MentorPool, MentorSlot
from bot.domain.profile import Profile
from tests.factories import add_member

GUILD = 1
SEED = 20261128
ZONES = ["Europe/London", "America/Vancouver", "Asia/Manila", "Australia/Sydney", "Asia/Tokyo"]
LANGS = ["English", "Tagalog", "Japanese", "Cantonese", "Hindi", "Korean", "Vietnamese"]


async def _populate(database: Database, cipher: Cipher, mentors: int) -> None:
    rnd = random.Random(SEED)
    now = datetime.now(UTC)
    async with database.session() as session:
        for i in range(mentors):
            await add_member(
                session,
                cipher,
                guild_id=GUILD,
                user_id=10**17 + i,
                now=now,
                completed=True,
                answers={
                    "role": "mentor",
                    "areas_offered": rnd.sample(AREA_KEYS, rnd.randint(2, 5)),
                    "capacity": rnd.randint(1, 5),
                    "languages": rnd.sample(LANGS, rnd.randint(1, 3)),
                    "timezone": rnd.choice(ZONES),
                    "about": "I have mentored for years; " * 10,
                    "share": ["languages", "timezone", "about"],
                },
            )


async def _request(database: Database, cipher: Cipher, mentee: Profile) -> dict[str, float]:
    start = time.perf_counter()
    async with database.session() as session:
        mentors = await list_available_mentors(session, guild_id=GUILD, cipher=cipher)
        forbidden = await forbidden_mentors(
            session, guild_id=GUILD, mentee_id=mentee.user_id, cipher=cipher
        )
    loaded = time.perf_counter()
    pool = MentorPool.build([MentorSlot(p, free) for p, free in mentors], DEFAULT_WEIGHTS)
    built = time.perf_counter()
    best = pool.suggest(mentee, forbidden=frozenset(forbidden), k=1)
    done = time.perf_counter()
    assert best, "a compatible mentor exists"
    return {"load": loaded - start, "build": built - loaded, "suggest": done - built}


async def run(mentors: int, repeats: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="lantern-bench-") as tmp:
        database = Database(create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db"))
        await database.create_all()
        cipher = Cipher([Cipher.generate_key()])
        await _populate(database, cipher, mentors)
        mentee = Profile.from_answers(
            1,
            {
                "role": "mentee",
                "areas_wanted": ["identity", "culture"],
                "languages": ["English", "Tagalog"],
                "timezone": "America/Vancouver",
                "share": ["languages", "timezone"],
            },
        )
        runs = [await _request(database, cipher, mentee) for _ in range(repeats)]
        await database.dispose()
    totals = [sum(r.values()) for r in runs]
    return {
        "mentors": mentors,
        "seconds_median": round(statistics.median(totals), 4),
        "seconds_max": round(max(totals), 4),
        "load_and_decrypt": round(statistics.median(r["load"] for r in runs), 4),
        "pool_build": round(statistics.median(r["build"] for r in runs), 4),
        "suggest": round(statistics.median(r["suggest"] for r in runs), 5),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentors", type=int, action="append", help="mentor count (repeatable)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    sizes = args.mentors or [1000, 5000, 15000]
    if not args.json:
        header = ("mentors", "median", "max", "load+decrypt", "pool", "suggest")
        widths = (8, 9, 9, 13, 8, 9)
        print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for size in sizes:
        result = asyncio.run(run(size, args.repeats))
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"{size:>8} {result['seconds_median']:>8.3f}s {result['seconds_max']:>8.3f}s "
                f"{result['load_and_decrypt']:>12.3f}s {result['pool_build']:>7.3f}s "
                f"{result['suggest']:>8.4f}s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
