"""How long grouping a circles round takes (``bot.domain.circles.group_circles``).

    python bench/circles.py            # every size, as a table
    python bench/circles.py --json     # one JSON object per line

Members are seeded (``SEED``): every one waits for one of the seven areas (identity and
culture most often), has one of 12 time zones, 0–3 meeting-time buckets, 0–2 of 5 languages,
shares each field 75% of the time; 5% are mentors offering to facilitate; 1% have a block.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.areas import AREA_KEYS
from bot.domain.circles import BUCKETS, Candidate, group_circles
from bot.domain.profile import Profile

SEED = 15
SIZES = (100, 1_000, 5_000)
ZONES = (
    "America/Vancouver",
    "America/Mexico_City",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Manila",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
LANGUAGES = ("English", "Spanish", "Tagalog", "French", "Japanese")


def population(n: int, rng: random.Random) -> tuple[list[Candidate], list[tuple[int, int]]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    weights = [4, 3, 1, 1, 1, 1, 1]
    people = []
    for user_id in range(1, n + 1):
        area = rng.choices(AREA_KEYS, weights)[0]
        facilitate = rng.random() < 0.05
        profile = Profile(
            user_id=user_id,
            role="mentor" if facilitate else "mentee",
            areas_offered=(area,) if facilitate else (),
            timezone=rng.choice(ZONES),
            meeting_times=tuple(rng.sample(list(BUCKETS), rng.randint(0, 3))),
            languages=tuple(rng.sample(LANGUAGES, rng.randint(0, 2))),
            share=frozenset(f for f in ("languages", "timezone", "cadence") if rng.random() < 0.75),
        )
        people.append(Candidate(profile, area, start + timedelta(minutes=user_id), facilitate))
    blocks = [(rng.randint(1, n), rng.randint(1, n)) for _ in range(n // 100)]
    return people, blocks


def measure(n: int) -> dict[str, object]:
    people, blocks = population(n, random.Random(SEED))
    began = time.perf_counter()
    grouping = group_circles(people, blocks)
    seconds = time.perf_counter() - began
    sizes = [len(c.everyone) for c in grouping.circles]
    return {
        "waiting": n,
        "seconds": round(seconds, 3),
        "circles": len(grouping.circles),
        "placed": sum(sizes),
        "still_waiting": len(grouping.waiting),
        "sizes": f"{min(sizes, default=0)}–{max(sizes, default=0)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(n) for n in SIZES]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print("waiting  seconds  circles  placed  still_waiting  sizes")
    for r in rows:
        print(
            f"{r['waiting']:>7}  {r['seconds']:>7}  {r['circles']:>7}  {r['placed']:>6}  "
            f"{r['still_waiting']:>13}  {r['sizes']}"
        )


if __name__ == "__main__":
    main()
