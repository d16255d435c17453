"""Benchmark of the matching engine on seeded synthetic populations (issue #4).

    python bench/matching.py            # every size, a table
    python bench/matching.py --json     # one JSON object per line
    python bench/matching.py --only 10000x3000

Each size runs in its own process so that ``peak_mb`` (the process's peak resident memory,
including the Python interpreter, numpy and the generated profiles) belongs to that size alone.
``seconds`` is wall time of ``assign_round`` including encoding and scoring, after a warm-up
round of 100 × 30 (as in a running bot); for the single mentee, the 99th percentile of 200
``MentorPool.suggest`` calls on a built pool.

``optimality`` is the round's total as a fraction of the exact optimum: up to 10,000 × 3,000
the optimum comes from an independent solver (scipy's ``linear_sum_assignment`` on the dense
score matrix with each mentor's free places duplicated, scores spot-checked against the scalar
``score_pair``); beyond, from the optimality certificate (the dual bound the round proved).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.areas import AREA_KEYS
from bot.domain.matching import (
    DEFAULT_WEIGHTS,
    MentorPool,
    MentorSlot,
    assign_round,
    score_pair,
)
from bot.domain.profile import Profile

SEED = 20240404

SIZES: dict[str, tuple[int, int]] = {
    "100x30": (100, 30),
    "1000x300": (1_000, 300),
    "10000x3000": (10_000, 3_000),
    "50000x15000": (50_000, 15_000),
    "round 500x15000": (500, 15_000),
    "top3 1x15000": (1, 15_000),
}
EXACT_LIMIT = 10_000 * 3_000  # cells up to which the independent exact reference runs

REGIONS = {
    "east_asia": ["Chinese", "Japanese", "Korean", "Taiwanese", "Mongolian"],
    "southeast_asia": ["Filipino", "Vietnamese", "Thai", "Indonesian", "Malaysian", "Burmese"],
    "south_asia": ["Indian", "Pakistani", "Bangladeshi", "Sri Lankan", "Nepali"],
    "central_asia": ["Kazakh", "Uzbek"],
    "europe": ["English", "Irish", "German", "Italian", "Dutch", "Polish"],
    "africa": ["Nigerian", "Ghanaian", "Ethiopian"],
    "americas": ["Mexican", "Brazilian", "Jamaican", "Puerto Rican"],
    "oceania": ["Māori", "Samoan", "Tongan"],
}
ASIAN = ["east_asia", "southeast_asia", "south_asia", "central_asia"]
ASIAN_W = [5, 4, 3, 1]
OTHER = ["europe", "africa", "americas", "oceania"]
OTHER_W = [6, 2, 3, 1]
LANGUAGES = [
    ("Mandarin", 8), ("Cantonese", 5), ("Japanese", 4), ("Korean", 4), ("Tagalog", 6),
    ("Vietnamese", 4), ("Thai", 2), ("Hindi", 4), ("Urdu", 2), ("Bengali", 2), ("Spanish", 6),
    ("French", 4), ("German", 2), ("Portuguese", 2), ("Indonesian", 2), ("Malay", 2),
]  # fmt: skip
CAREERS = [
    "technology", "healthcare", "education", "finance", "arts", "law", "engineering",
    "science", "public service", "hospitality", "trades", "nonprofit", "media", "retail",
    "consulting",
]  # fmt: skip
ZONES = [
    ("America/Vancouver", 6), ("America/Los_Angeles", 8), ("America/Denver", 2),
    ("America/Chicago", 4), ("America/Toronto", 7), ("America/New_York", 8),
    ("America/Halifax", 1), ("America/Sao_Paulo", 1), ("Europe/London", 7), ("Europe/Dublin", 2),
    ("Europe/Berlin", 4), ("Europe/Paris", 3), ("Europe/Amsterdam", 2), ("Asia/Dubai", 1),
    ("Asia/Kolkata", 2), ("Asia/Singapore", 3), ("Asia/Manila", 3), ("Asia/Hong_Kong", 2),
    ("Asia/Tokyo", 2), ("Asia/Seoul", 1), ("Australia/Perth", 1), ("Australia/Sydney", 5),
    ("Australia/Melbourne", 3), ("Pacific/Auckland", 3), ("Pacific/Honolulu", 1),
]  # fmt: skip
CADENCES = [("weekly", 3), ("biweekly", 5), ("monthly", 3), ("flexible", 1)]
AREA_W = [6, 6, 4, 3, 4, 3, 2]  # identity and culture are asked for most


def _pick(rng: random.Random, items: Sequence[tuple[str, int]]) -> str:
    return rng.choices([a for a, _ in items], [w for _, w in items])[0]


def make_profile(rng: random.Random, user_id: int, *, mentor: bool) -> Profile:
    """One plausible member."""
    regions = list(dict.fromkeys(rng.choices(ASIAN, ASIAN_W, k=rng.choice([1, 1, 2]))))
    if rng.random() < 0.8:
        regions.append(rng.choices(OTHER, OTHER_W)[0])
    details = [rng.choice(REGIONS[r]) for r in regions if rng.random() < 0.7]
    langs = ["English"] if rng.random() < 0.95 else []
    for _ in range(rng.choice([0, 1, 1, 2])):
        langs.append(_pick(rng, LANGUAGES))
    share = frozenset(
        f for f in ("heritage", "languages", "career", "timezone", "cadence") if rng.random() < 0.75
    )
    if mentor:
        k = rng.randint(2, 5)
        offered = tuple(sorted(set(rng.choices(AREA_KEYS, AREA_W, k=k + 1))))
        wanted: tuple[str, ...] = ()
    else:
        k = rng.choice([1, 2, 3, 3])
        offered = ()
        wanted = tuple(dict.fromkeys(rng.choices(AREA_KEYS, AREA_W, k=k)))
    return Profile(
        user_id=user_id,
        role="mentor" if mentor else "mentee",
        areas_wanted=wanted,
        areas_offered=offered,
        heritage_regions=tuple(regions),
        heritage_details=tuple(details),
        heritage_preference=rng.choices(["similar", "different", "none"], [45, 15, 40])[0],
        languages=tuple(dict.fromkeys(langs)),
        career_field=rng.choice(CAREERS) if rng.random() < 0.9 else None,
        timezone=_pick(rng, ZONES) if rng.random() < 0.95 else None,
        cadence=_pick(rng, CADENCES) if rng.random() < 0.9 else None,
        share=share,
    )


def population(
    mentees: int, mentors: int, seed: int = SEED
) -> tuple[list[Profile], list[MentorSlot], set[tuple[int, int]]]:
    """Seeded mentees, mentor slots (capacities 1–5, some places taken) and blocked pairs."""
    rng = random.Random(f"{seed}:{mentees}x{mentors}")
    mentor_profiles = [make_profile(rng, 1_000_000 + j, mentor=True) for j in range(mentors)]
    slots = []
    for p in mentor_profiles:
        capacity = rng.randint(1, 5)
        active = rng.choice([0, 0, 0, 1]) if capacity > 1 else 0
        slots.append(MentorSlot(profile=p, free=capacity - active))
    people = [make_profile(rng, 10_000_000 + i, mentor=False) for i in range(mentees)]
    # a few people are both: one of them is in both lists with the same id
    for i in range(min(len(people), len(slots), max(1, mentees // 1000))):
        p = people[i]
        people[i] = Profile(**{**p.__dict__, "user_id": slots[i].profile.user_id, "role": "both"})
    blocked = {
        (people[rng.randrange(mentees)].user_id, slots[rng.randrange(mentors)].profile.user_id)
        for _ in range(max(3, mentees // 100))
    }
    return people, slots, blocked


def dense_scores(
    people: Sequence[Profile], slots: Sequence[MentorSlot], blocked: set[tuple[int, int]]
) -> tuple[np.ndarray, list[MentorSlot]]:
    """The full points matrix (0 where a pair may not be made) over mentors with free places."""
    pool = MentorPool.build(slots, DEFAULT_WEIGHTS)
    enc = pool.encoder
    s = enc.mentee_matrix(people) @ enc.mentor_matrix()
    s[s < 0] = 0
    for i, p in enumerate(people):
        j = pool.position(p.user_id)
        if j is not None:
            s[i, j] = 0
    row = {p.user_id: i for i, p in enumerate(people)}
    for a, b in blocked:
        j = pool.position(b)
        if a in row and j is not None:
            s[row[a], j] = 0
    # spot-check the vectorised scores against the independent scalar implementation
    rng = np.random.default_rng(0)
    for _ in range(500):
        i, j = int(rng.integers(len(people))), int(rng.integers(len(pool)))
        if s[i, j] > 0:
            expect = score_pair(people[i], pool.slots[j].profile, DEFAULT_WEIGHTS)
            assert abs(expect * 100 - s[i, j]) < 0.5, (i, j, expect, s[i, j])
    return s, pool.slots


def exact_optimum(s: np.ndarray, slots: Sequence[MentorSlot]) -> float:
    """Independent exact reference: assignment on the matrix with mentor places duplicated."""
    from scipy.optimize import linear_sum_assignment

    expand = np.repeat(np.arange(len(slots)), [sl.free for sl in slots])
    big = s[:, expand].astype(np.float64)
    r, c = linear_sum_assignment(big, maximize=True)
    return float(big[r, c].sum()) / 100


def greedy_total(s: np.ndarray, slots: Sequence[MentorSlot]) -> float:
    """Baseline: best remaining pair first."""
    flat = np.flatnonzero(s.ravel() > 0)
    order = flat[np.argsort(-s.ravel()[flat], kind="stable")]
    free = np.asarray([sl.free for sl in slots])
    taken = np.zeros(s.shape[0], dtype=bool)
    total = 0.0
    n = s.shape[1]
    for cell in order.tolist():
        i, j = divmod(cell, n)
        if not taken[i] and free[j] > 0:
            taken[i] = True
            free[j] -= 1
            total += float(s[i, j])
    return total / 100


def run_size(name: str) -> dict[str, Any]:
    mentees, mentors = SIZES[name]
    people, slots, blocked = population(mentees, mentors)
    if mentees == 1:
        pool = MentorPool.build(slots, DEFAULT_WEIGHTS)
        rng = random.Random(SEED)
        queries = [make_profile(rng, 5_000_000 + q, mentor=False) for q in range(200)]
        forbidden = frozenset(s.profile.user_id for s in slots[:3])
        for q in queries[:20]:  # warm-up
            pool.suggest(q, forbidden=forbidden)
        times = []
        ok = True
        for q in queries:
            t = time.perf_counter()
            got = pool.suggest(q, forbidden=forbidden, k=3)
            times.append(time.perf_counter() - t)
            ok &= all(g.mentor_id not in forbidden for g in got) and len(got) == 3
            ok &= [g.score for g in got] == sorted((g.score for g in got), reverse=True)
        return {
            "size": name,
            "seconds": float(np.percentile(times, 99)),
            "median_seconds": float(np.median(times)),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "optimality": 1.0,
            "certified": ok,
            "matched": 3,
            "unmatched_with_capacity": 0,
            "capacity_violations": 0,
        }
    # warm up a long-running process's caches (zoneinfo, OR-Tools) on a tiny round first
    assign_round(*population(100, 30)[:2])
    t, c = time.perf_counter(), time.process_time()
    result = assign_round(people, slots, forbidden=blocked)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # independent checks of the hard constraints
    free = {s.profile.user_id: s.free for s in slots if s.free > 0}
    load: dict[int, int] = {}
    bad_pairs = 0
    for a in result.assignments:
        load[a.mentor_id] = load.get(a.mentor_id, 0) + 1
        bad_pairs += (a.mentee_id, a.mentor_id) in blocked or a.mentee_id == a.mentor_id
    violations = sum(max(0, c - free.get(mid, 0)) for mid, c in load.items()) + bad_pairs
    spare = [s for s in slots if s.free - load.get(s.profile.user_id, 0) > 0]
    waiting = [p for p in people if p.user_id in result.unmatched]
    unmatched_with_capacity = 0
    if spare and waiting:
        sp = MentorPool.build(spare, DEFAULT_WEIGHTS)
        for p in waiting:
            forb = {b for a, b in blocked if a == p.user_id}
            unmatched_with_capacity += bool((sp.scores(p, forbidden=forb) > 0).any())
    row: dict[str, Any] = {
        "size": name,
        "seconds": seconds,
        "peak_mb": peak,
        "optimality": None,
        "certified": result.proven_optimal,
        "matched": len(result.assignments),
        "unmatched": len(result.unmatched),
        "unmatched_with_capacity": unmatched_with_capacity,
        "capacity_violations": violations,
        "total_score": result.total_score,
        "candidates": int(result.stats.get("candidates", 0)),
        "flows": int(result.stats.get("flows", 0)),
        "pricing_rounds": int(result.stats.get("pricing_rounds", 0)),
        "cpu_seconds": cpu,
        "phases": {
            k.removeprefix("seconds_"): round(v, 3)
            for k, v in result.stats.items()
            if k.startswith("seconds_") and not k.startswith("seconds_cpu_")
        },
    }
    if mentees * mentors <= EXACT_LIMIT:
        s, pooled = dense_scores(people, slots, blocked)
        optimum = exact_optimum(s, pooled)
        row["optimality"] = result.total_score / optimum if optimum else 1.0
        row["reference"] = "scipy linear_sum_assignment"
        row["greedy"] = greedy_total(s, pooled) / optimum if optimum else 1.0
    elif result.proven_optimal:
        row["optimality"] = result.total_score / result.upper_bound
        row["reference"] = "dual certificate"
    return row


def _fmt(row: dict[str, Any]) -> str:
    opt = row["optimality"]
    greedy = row.get("greedy")
    parts = [
        f"{row['size']:>17}",
        f"{row['seconds'] * (1000 if row['size'].startswith('top3') else 1):9.3f}"
        + (" ms" if row["size"].startswith("top3") else " s "),
        f"{row['peak_mb']:8.0f} MB",
        f"{'—' if opt is None else f'{opt:.6%}':>12}",
        f"{'proven' if row['certified'] else 'NOT proven':>10}",
        f"{row['matched']:>7}",
        f"{row['unmatched_with_capacity']:>5}",
        f"{row['capacity_violations']:>5}",
        f"{'' if greedy is None else f'{greedy:.3%}':>9}",
    ]
    return " ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--only", action="append", choices=list(SIZES), help="run these sizes")
    parser.add_argument("--child", choices=list(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_size(args.child)))
        return 0
    if not args.json:
        print(
            f"{'size':>17} {'time':>11} {'peak':>11} {'optimality':>12} {'proof':>10} "
            f"{'matched':>7} {'uwc':>5} {'viol':>5} {'greedy':>9}"
        )
    failed = 0
    for name in args.only or SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--child", name], capture_output=True, text=True
        )
        if out.returncode != 0:
            failed += 1
            print(f"{name}: failed\n{out.stderr}", file=sys.stderr)
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(row) if args.json else _fmt(row), flush=True)
    if not args.json:
        print("uwc = mentees left unmatched while a compatible mentor had capacity;")
        print("viol = capacity, blocked-pair or self violations; greedy = best-pair-first baseline")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
