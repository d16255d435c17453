"""How long ``bot.domain.meeting.suggest`` takes for a pair and for circles of up to 8.

It runs on the event loop (``/meet`` and every new pair space's opening message), so it must
stay far below the 3-second interaction window. Prints one row per group size (``--json``: one
JSON object per line). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.meeting import BUCKETS, Availability, suggest

SEED = 15
ZONES = (
    "Asia/Manila",
    "America/Vancouver",
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Tokyo",
)
RUNS = 200


def group(rng: random.Random, size: int) -> list[Availability]:
    return [
        Availability(
            i, rng.choice(ZONES), frozenset(rng.sample(sorted(BUCKETS), rng.randint(0, 3)))
        )
        for i in range(size)
    ]


def measure(size: int) -> dict[str, float | int]:
    rng = random.Random(SEED + size)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    times, exact = [], 0
    for run in range(RUNS):
        members = group(rng, size)
        now = start + timedelta(hours=run * 7)
        began = time.perf_counter()
        plan = suggest(members, now)
        times.append(time.perf_counter() - began)
        exact += plan.exact
    times.sort()
    return {
        "members": size,
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 2),
        "exact_share": round(exact / RUNS, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    suggest(group(random.Random(0), 2), datetime(2026, 1, 1, tzinfo=UTC))  # warm zoneinfo
    rows = [measure(size) for size in (2, 3, 5, 8)]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"{'members':>8} {'median ms':>10} {'p99 ms':>8} {'exact share':>12}")
    for row in rows:
        print(
            f"{row['members']:>8} {row['median_ms']:>10} {row['p99_ms']:>8} "
            f"{row['exact_share']:>12}"
        )


if __name__ == "__main__":
    main()
