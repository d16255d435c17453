"""Batch rounds: assign waiting mentees to mentors, maximising total compatibility, with proof.

How a round is solved:

1. Every pair is scored, a chunk of mentees at a time (one float32 matrix product, exact
   integers — see :mod:`bot.domain.matching.scoring`). Only *candidates* are kept: each
   mentee's best ``k`` mentors **and** each mentor's best ``k`` mentees (so a mentor nobody ranks
   highly still gets offered to the mentees who fit them best, instead of leaving slots empty).
2. OR-Tools' min-cost flow solves the b-matching on the candidates exactly (mentee → mentor
   arcs of cost −score, mentor → sink arcs of capacity ``free``, plus a zero-cost "stay
   unmatched" arc per mentee, so it maximises total score rather than forcing a match).
3. **Pricing.** LP duals are recovered from the solution: mentor prices ``v`` as shortest paths
   of the difference constraints that complementary slackness imposes (every matched mentee
   likes their mentor at least as much as any other candidate at current prices, unmatched
   mentees like no one), and mentee surpluses ``u``. Then every pair of the full matrix is
   checked: ``score − u − v ≤ 0``. If it holds, (u, v) is a feasible dual of the *full* problem
   with the same objective as the assignment, so the assignment is proven optimal (integer
   points, exact). Otherwise the violating pairs join the candidates and the flow is solved
   again (column generation) until the check passes.

All scores of compatible pairs are positive, so an optimal assignment never leaves a mentee
unmatched while a compatible mentor has free capacity; a final fill step guarantees it even if
the proof could not be completed within the round limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from bot.domain.areas import area_label
from bot.domain.matching.pool import MentorPool, MentorSlot
from bot.domain.matching.scoring import explain
from bot.domain.matching.weights import DEFAULT_WEIGHTS, Weights
from bot.domain.profile import Profile

DEFAULT_K = 8
MAX_PRICING_ROUNDS = 8
VIOLATORS_PER_MENTEE = 4
CHUNK_CELLS = 16_000_000  # pairs scored at once (64 MB of float32)
CACHE_CELLS = 40_000_000  # keep the whole score matrix between passes when it is this small
_INF = np.int64(1) << 50


@dataclass(frozen=True)
class Assignment:
    """One mentee placed with one mentor in a round."""

    mentee_id: int
    mentor_id: int
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RoundResult:
    """The outcome of a round: who goes with whom, who waits and why, and how good it is."""

    assignments: tuple[Assignment, ...]
    unmatched: Mapping[int, str]
    total_score: float
    proven_optimal: bool
    #: the dual bound: no assignment can total more (equals total_score when proven)
    upper_bound: float = float("inf")
    #: solver figures for benchmarks and logs (candidate edges, pricing rounds...)
    stats: Mapping[str, float] = field(default_factory=dict)


def _unique_mentees(mentees: Sequence[Profile]) -> list[Profile]:
    seen: dict[int, Profile] = {}
    for m in mentees:
        seen.setdefault(m.user_id, m)
    return [seen[k] for k in sorted(seen)]


class _Scores:
    """The full mentee × mentor score matrix, produced chunk by chunk (optionally cached)."""

    def __init__(
        self,
        features: np.ndarray,
        mentor_matrix: np.ndarray,
        blocked_rows: np.ndarray,
        blocked_cols: np.ndarray,
    ) -> None:
        self.f, self.g = features, mentor_matrix
        self.m, self.n = features.shape[0], mentor_matrix.shape[1]
        self.step = max(1, CHUNK_CELLS // max(1, self.n))
        order = np.argsort(blocked_rows, kind="stable")
        self.brows, self.bcols = blocked_rows[order], blocked_cols[order]
        self.cache: dict[int, np.ndarray] | None = {} if self.m * self.n <= CACHE_CELLS else None

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, scores) per chunk; forbidden and self pairs score −1."""
        for start in range(0, self.m, self.step):
            if self.cache is not None and start in self.cache:
                yield start, self.cache[start]
                continue
            stop = min(self.m, start + self.step)
            s = self.f[start:stop] @ self.g
            lo, hi = np.searchsorted(self.brows, [start, stop])
            s[self.brows[lo:hi] - start, self.bcols[lo:hi]] = -1.0
            if self.cache is not None:
                self.cache[start] = s
            yield start, s


def _top_along(s: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Indices of the ``k`` largest entries along ``axis`` (all when there are fewer)."""
    size = s.shape[axis]
    if k >= size:
        shape = [1, 1]
        shape[axis] = size
        idx = np.arange(size).reshape(shape)
        return np.broadcast_to(idx, s.shape if axis == 1 else s.shape).copy()
    return np.argpartition(s, size - k, axis=axis).take(range(size - k, size), axis=axis)


def _candidates(scores: _Scores, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs (rows, cols, points) plus whether each mentee has any compatible mentor."""
    m, n = scores.m, scores.n
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    any_compatible = np.zeros(m, dtype=bool)
    best_val = np.full((0, n), -np.inf, dtype=np.float32)
    best_row = np.zeros((0, n), dtype=np.int64)
    colidx = np.arange(n)
    for start, s in scores.chunks():
        b = s.shape[0]
        any_compatible[start : start + b] = s.max(axis=1) > 0
        top = _top_along(s, k, axis=1)
        r = np.repeat(np.arange(start, start + b), top.shape[1])
        c = top.ravel()
        keep = s[r - start, c] > 0
        rows.append(r[keep])
        cols.append(c[keep])
        # mentor side: merge this chunk's best k per column into the running best
        ctop = _top_along(s, k, axis=0)
        val = np.concatenate([best_val, s[ctop, colidx[None, :]]], axis=0)
        idx = np.concatenate([best_row, ctop + start], axis=0)
        if val.shape[0] > k:
            pick = np.argpartition(val, val.shape[0] - k, axis=0)[-k:]
            val = np.take_along_axis(val, pick, axis=0)
            idx = np.take_along_axis(idx, pick, axis=0)
        best_val, best_row = val, idx
    keep = best_val > 0
    rows.append(best_row[keep])
    cols.append(np.broadcast_to(colidx[None, :], best_val.shape)[keep])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    key = np.unique(r * n + c)
    return key // n, key % n, any_compatible


def _pair_points(scores: _Scores, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Exact points of chosen pairs (recomputed row by row from the encodings)."""
    out = np.empty(rows.shape[0], dtype=np.int64)
    gt = scores.g.T
    step = 65_536
    for lo in range(0, rows.shape[0], step):
        r, c = rows[lo : lo + step], cols[lo : lo + step]
        out[lo : lo + step] = np.einsum("ij,ij->i", scores.f[r], gt[c])
    return out


def _solve_flow(
    m: int, n: int, free: np.ndarray, rows: np.ndarray, cols: np.ndarray, pts: np.ndarray
) -> np.ndarray:
    """Max-weight b-matching on the candidate pairs; returns each mentee's mentor index or −1."""
    flow = min_cost_flow.SimpleMinCostFlow()
    sink = m + n
    ones = np.ones(m, dtype=np.int64)
    pair_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        rows, cols + m, np.ones(rows.shape[0], dtype=np.int64), -pts
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(m), np.full(m, sink), ones, np.zeros(m, dtype=np.int64)
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(m, m + n), np.full(n, sink), free, np.zeros(n, dtype=np.int64)
    )
    flow.set_nodes_supplies(np.arange(m + 1), np.append(ones, 0))
    flow.set_node_supply(sink, -m)
    status = flow.solve()
    if status != flow.OPTIMAL:  # pragma: no cover - the network is always feasible
        raise RuntimeError(f"min-cost flow failed with status {status}")
    used = flow.flows(pair_arcs) > 0
    match = np.full(m, -1, dtype=np.int64)
    match[rows[used]] = cols[used]
    return match


def _duals(
    m: int,
    n: int,
    free: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    pts: np.ndarray,
    match: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Dual prices (u per mentee, v per mentor) proving optimality on the candidates, or None.

    Mentor prices are the largest solution of the difference constraints from complementary
    slackness, found by Bellman–Ford on a graph of mentors plus an "outside" node 0.
    """
    matched_pts = np.zeros(m, dtype=np.int64)
    is_pair = match[rows] == cols
    matched_pts[rows[is_pair]] = pts[is_pair]
    mi = match[rows]
    other = (mi >= 0) & ~is_pair
    free_rows = mi < 0
    matched = np.flatnonzero(match >= 0)
    used = np.bincount(match[matched], minlength=n)
    spare = np.flatnonzero(used < free)
    src = np.concatenate(
        [
            cols[other] + 1,  # v[match] ≤ v[j] + (s_match − s_j)
            cols[free_rows] + 1,  # v[j] ≥ s_j for unmatched mentees: 0 ≤ v[j] − s_j
            np.zeros(matched.shape[0], dtype=np.int64),  # v[match] ≤ s_match
            np.zeros(spare.shape[0], dtype=np.int64),  # v = 0 with spare capacity
            np.arange(1, n + 1),  # v ≥ 0
        ]
    )
    dst = np.concatenate(
        [
            mi[other] + 1,
            np.zeros(int(free_rows.sum()), dtype=np.int64),
            match[matched] + 1,
            spare + 1,
            np.zeros(n, dtype=np.int64),
        ]
    )
    w = np.concatenate(
        [
            matched_pts[rows[other]] - pts[other],
            -pts[free_rows],
            matched_pts[matched],
            np.zeros(spare.shape[0], dtype=np.int64),
            np.zeros(n, dtype=np.int64),
        ]
    )
    d = np.full(n + 1, _INF, dtype=np.int64)
    d[0] = 0
    for _ in range(n + 2):
        live = d[src] < _INF
        new = d.copy()
        np.minimum.at(new, dst[live], d[src[live]] + w[live])
        if np.array_equal(new, d):
            break
        d = new
    else:
        return None  # a negative cycle: the flow was not optimal on its candidates
    if d[0] != 0 or (d[1:] >= _INF).any():
        return None
    v = d[1:]
    u = np.zeros(m, dtype=np.int64)
    np.maximum.at(u, rows, pts - v[cols])
    if (u[matched] != matched_pts[matched] - v[match[matched]]).any():
        return None
    return u, v


def _price(
    scores: _Scores, u: np.ndarray, v: np.ndarray, per_row: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs with positive reduced cost ``score − u − v`` (up to ``per_row`` per mentee)."""
    vf = v.astype(np.float32)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for start, s in scores.chunks():
        r = s - vf[None, :]
        uc = u[start : start + s.shape[0]].astype(np.float32)
        bad = np.flatnonzero(r.max(axis=1) > uc)
        if bad.size == 0:
            continue
        sub = r[bad]
        top = _top_along(sub, per_row, axis=1)
        rr = np.repeat(bad, top.shape[1])
        cc = top.ravel()
        ok = (sub[np.repeat(np.arange(bad.size), top.shape[1]), cc] > uc[rr]) & (s[rr, cc] > 0)
        rows.append(rr[ok] + start)
        cols.append(cc[ok])
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def _fill(
    scores: _Scores, match: np.ndarray, free: np.ndarray
) -> np.ndarray:  # pragma: no cover - only reached when the proof failed
    """Greedily place unmatched mentees with compatible mentors that still have room."""
    used = np.bincount(match[match >= 0], minlength=scores.n)
    for start, s in scores.chunks():
        for i in range(s.shape[0]):
            if match[start + i] >= 0:
                continue
            room = used < free
            row = np.where(room, s[i], -1.0)
            j = int(row.argmax())
            if row[j] > 0:
                match[start + i] = j
                used[j] += 1
    return match


def _areas_phrase(mentee: Profile) -> str:
    labels = [area_label(a).lower() for a in dict.fromkeys(mentee.areas_wanted)]
    if not labels:
        return ""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _unmatched_reason(mentee: Profile, any_compatible: bool, any_mentor: bool) -> str:
    if not any_mentor:
        return "no mentor has free capacity right now"
    if not any_compatible:
        if mentee.areas_wanted:
            return f"no mentor with free capacity offers {_areas_phrase(mentee)}"
        return "no mentor with free capacity is available to them"
    return "every mentor who fits is full this round (others fit them even better)"


def assign_round(
    mentees: Sequence[Profile],
    mentors: Sequence[MentorSlot],
    *,
    forbidden: Set[tuple[int, int]] = frozenset(),
    weights: Weights = DEFAULT_WEIGHTS,
    k: int = DEFAULT_K,
) -> RoundResult:
    """Assign mentees to mentors maximising total compatibility under capacities.

    ``forbidden`` holds (mentee_id, mentor_id) pairs never to make (blocked, declined, past).
    Never oneself, never beyond a mentor's ``free`` places. Deterministic for the same input
    (mentees and mentors are processed in user id order).
    """
    people = _unique_mentees(mentees)
    pool = MentorPool.build(mentors, weights)
    m, n = len(people), len(pool)
    if m == 0:
        return RoundResult((), {}, 0.0, True, 0.0)
    if n == 0:
        return RoundResult(
            (),
            {p.user_id: _unmatched_reason(p, False, False) for p in people},
            0.0,
            True,
            0.0,
        )
    enc = pool.encoder
    features = enc.mentee_matrix(people)
    g = enc.mentor_matrix()
    brows: list[int] = []
    bcols: list[int] = []
    index = {p.user_id: i for i, p in enumerate(people)}
    for i, p in enumerate(people):
        j = pool.position(p.user_id)
        if j is not None:
            brows.append(i)
            bcols.append(j)
    for mentee_id, mentor_id in forbidden:
        i, j = index.get(mentee_id), pool.position(mentor_id)
        if i is not None and j is not None:
            brows.append(i)
            bcols.append(j)
    scores = _Scores(
        features, g, np.asarray(brows, dtype=np.int64), np.asarray(bcols, dtype=np.int64)
    )
    free = pool.free
    rows, cols, any_compatible = _candidates(scores, k)
    pts = _pair_points(scores, rows, cols)
    proven = False
    bound_points = -1
    pricing_rounds = 0
    while True:
        match = _solve_flow(m, n, free, rows, cols, pts)
        duals = _duals(m, n, free, rows, cols, pts, match)
        if duals is None or pricing_rounds >= MAX_PRICING_ROUNDS:
            break
        pricing_rounds += 1
        u, v = duals
        new_r, new_c = _price(scores, u, v, VIOLATORS_PER_MENTEE)
        if new_r.size == 0:
            proven = True
            bound_points = int(u.sum() + (free * v).sum())
            break
        key = np.unique(np.concatenate([rows * n + cols, new_r * n + new_c]))
        rows, cols = key // n, key % n
        pts = _pair_points(scores, rows, cols)
    if not proven:
        match = _fill(scores, match, free)
    matched = np.flatnonzero(match >= 0)
    matched_pts = _pair_points(scores, matched, match[matched])
    total = int(matched_pts.sum())
    if proven and bound_points != total:  # pragma: no cover - duality says they are equal
        proven = False
    assignments = tuple(
        Assignment(
            mentee_id=people[i].user_id,
            mentor_id=int(pool.ids[match[i]]),
            score=int(p) / 100,
            reasons=explain(people[i], pool.slots[match[i]].profile),
        )
        for i, p in zip(matched.tolist(), matched_pts.tolist(), strict=True)
    )
    unmatched = {
        people[i].user_id: _unmatched_reason(people[i], bool(any_compatible[i]), True)
        for i in np.flatnonzero(match < 0).tolist()
    }
    return RoundResult(
        assignments=assignments,
        unmatched=unmatched,
        total_score=total / 100,
        proven_optimal=proven,
        upper_bound=bound_points / 100 if proven else float("inf"),
        stats={
            "candidates": float(rows.shape[0]),
            "pricing_rounds": float(pricing_rounds),
        },
    )
