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
   again (column generation) until the check passes. When the score matrix is small enough
   to keep (int16), every flow is followed straight by a full pricing pass; beyond, a reserve
   of near-candidates from the scoring pass is priced cheaply first.

All scores of compatible pairs are positive, so an optimal assignment never leaves a mentee
unmatched while a compatible mentor has free capacity; a final fill step guarantees it even if
the proof could not be completed within the round limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from ortools.graph.python import min_cost_flow

from bot.domain.matching.pool import MentorPool, MentorSlot
from bot.domain.matching.scoring import explain
from bot.domain.matching.weights import DEFAULT_WEIGHTS, Weights
from bot.domain.profile import Profile

DEFAULT_K = 8
RESERVE_K = 24
MAX_PRICING_ROUNDS = 8
VIOLATORS_PER_MENTEE = 16
SAMPLE_COLUMNS = 256  # columns sampled per row to find a row's candidate threshold
PRICING_MARGIN = 300.0  # points (3 score points): near-violators kept for the cheap pricing
CHUNK_CELLS = 2_000_000  # pairs scored at once (8 MB of float32: reused, not page-faulted)
MIN_CHUNK_ROWS = 512
TAKE_ROWS = 64  # rows of the area block gathered at once
CACHE_CELLS = 40_000_000  # keep the whole score matrix between passes when it is this small
_INF = np.int64(1) << 50
_BLOCKED = -float(2**22)  # a forbidden or self pair: below any score, exact in float32
_LOW = float(np.iinfo(np.int16).min)  # any pair not allowed, in the int16 cache


class RoundPhase(IntEnum):
    """Where a round's computation is, for the moderator watching it (shared across processes
    as a plain integer)."""

    WAITING = 0  # not started: the worker is starting or busy with another server's round
    READING = 1  # reading and decrypting profiles (the bot, before the solver)
    SCORING = 2  # encoding the profiles and scoring every pair
    SOLVING = 3  # min-cost flow on the candidates
    PROVING = 4  # dual prices and the pricing pass that proves optimality
    REASONS = 5  # the reasons of each introduction


Report = Callable[[RoundPhase], None]


def _silent(phase: RoundPhase) -> None:
    """No one is watching."""


class _Clock:
    """Wall time per phase, for the round's stats."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - t
            self.totals["cpu_" + name] = (
                self.totals.get("cpu_" + name, 0.0) + time.process_time() - c
            )


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
        area_columns: slice,
        mentor_area_column: np.ndarray,
        blocked_rows: np.ndarray,
        blocked_cols: np.ndarray,
    ) -> None:
        # The area block is one-hot on the mentor side: a gather of the mentee's row is far
        # cheaper than multiplying ~100 mostly-zero columns, so it is split off the product.
        self.f_area = np.ascontiguousarray(features[:, area_columns])
        self.area_col = mentor_area_column
        rest = np.ones(features.shape[1], dtype=bool)
        rest[area_columns] = False
        self.f = np.ascontiguousarray(features[:, rest])
        self.g = np.ascontiguousarray(mentor_matrix[rest])
        self.m, self.n = features.shape[0], mentor_matrix.shape[1]
        # at least a few hundred rows per chunk: a thin chunk wastes the matrix product
        self.step = max(MIN_CHUNK_ROWS, CHUNK_CELLS // max(1, self.n))
        order = np.argsort(blocked_rows, kind="stable")
        self.brows, self.bcols = blocked_rows[order], blocked_cols[order]
        # Kept as int16 (scores are whole points ≤ 10,000; anything not allowed is clamped to
        # ``_LOW``): half the memory of float32, and fresh memory is what a first round pays
        # for most. Chunks are produced in one reused float32 buffer.
        # A matrix of a single chunk simply stays in the float32 buffer.
        self.single = self.m <= self.step
        keep = self.m * self.n <= CACHE_CELLS and not self.single
        self.cache: np.ndarray | None = np.empty((self.m, self.n), dtype=np.int16) if keep else None
        self.cached = False
        self._buf = np.empty((min(self.step, self.m), self.n), dtype=np.float32)

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, float32 scores) per chunk; forbidden, self and incompatible pairs are
        negative (``_BLOCKED``, or ``_LOW`` from the cache). The array is reused for the next
        chunk: copy what you keep."""
        if self.single and self.cached:
            yield 0, self._buf
            return
        for start in range(0, self.m, self.step):
            stop = min(self.m, start + self.step)
            s = self._buf[: stop - start]
            if self.cache is not None and self.cached:
                s[...] = self.cache[start:stop]
                yield start, s
                continue
            np.matmul(self.f[start:stop], self.g, out=s)
            for lo in range(start, stop, TAKE_ROWS):  # small temporaries, reused
                hi = min(stop, lo + TAKE_ROWS)
                s[lo - start : hi - start] += np.take(self.f_area[lo:hi], self.area_col, axis=1)
            self._block(start, stop, s)
            if self.cache is not None:
                np.maximum(s, _LOW, out=s)  # every pair not allowed is negative either way
                self.cache[start:stop] = s
            yield start, s
        self.cached = self.single or self.cache is not None

    def _block(self, start: int, stop: int, s: np.ndarray) -> None:
        lo, hi = np.searchsorted(self.brows, [start, stop])
        s[self.brows[lo:hi] - start, self.bcols[lo:hi]] = _BLOCKED

    def reduced_chunks(self, u: np.ndarray, v: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, ``score − u − v``) per chunk, exact; blocked pairs far below zero.

        Without a cache the duals ride along in the matrix product (two extra columns), so
        no second full-size array is needed.
        """
        uf, vf = u.astype(np.float32), v.astype(np.float32)
        if self.single:
            r = self._buf - vf[None, :]
            r -= uf[:, None]
            yield 0, r
            return
        if self.cache is not None:
            for start, s in self.chunks():
                s -= vf[None, :]  # the chunk buffer is a copy of the cache: reuse it
                s -= uf[start : start + s.shape[0], None]
                yield start, s
            return
        g = np.vstack([self.g, np.ones((1, self.n), np.float32), -vf[None, :]])
        for start in range(0, self.m, self.step):
            stop = min(self.m, start + self.step)
            f = np.hstack(
                [self.f[start:stop], -uf[start:stop, None], np.ones((stop - start, 1), np.float32)]
            )
            r = f @ g
            r += np.take(self.f_area[start:stop], self.area_col, axis=1)
            self._block(start, stop, r)
            yield start, r


def _top_along(s: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Indices of the ``k`` largest entries along ``axis`` (all when there are fewer)."""
    size = s.shape[axis]
    if k >= size:
        shape = [1, 1]
        shape[axis] = size
        return np.broadcast_to(np.arange(size).reshape(shape), s.shape).copy()
    return np.argpartition(s, size - k, axis=axis).take(range(size - k, size), axis=axis)


@dataclass
class _Pairs:
    """A set of mentee–mentor pairs with their points, kept sorted and without duplicates."""

    rows: np.ndarray
    cols: np.ndarray
    pts: np.ndarray

    @classmethod
    def of(cls, n: int, rows: np.ndarray, cols: np.ndarray, pts: np.ndarray) -> _Pairs:
        key, first = np.unique(rows * n + cols, return_index=True)
        return cls(key // n, key % n, pts[first].astype(np.int64))

    def merge(self, n: int, other: _Pairs) -> _Pairs:
        return _Pairs.of(
            n,
            np.concatenate([self.rows, other.rows]),
            np.concatenate([self.cols, other.cols]),
            np.concatenate([self.pts, other.pts]),
        )

    def take(self, mask: np.ndarray) -> _Pairs:
        return _Pairs(self.rows[mask], self.cols[mask], self.pts[mask])

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def _sparse_nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` for a 2-D C-contiguous boolean mask that is mostly False (8 at a time)."""
    n = mask.shape[1]
    flat = mask.reshape(-1)
    whole = flat.shape[0] // 8 * 8
    words = np.flatnonzero(flat[:whole].view(np.uint64))
    cells = (words[:, None] * 8 + np.arange(8)).ravel()
    cells = cells[flat[cells]]
    if whole < flat.shape[0]:
        cells = np.concatenate([cells, whole + np.flatnonzero(flat[whole:])])
    return cells // n, cells % n


def _row_best(
    s: np.ndarray, ks: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Roughly each row's best ``max(ks)`` positive entries, without a full partition per row.

    A per-row threshold comes from a partition of a sample of columns; rows that let far too
    many entries through (large ties) are cut exactly. Returns (local rows, cols, and for each
    k in ``ks`` a mask of the entries among the row's best k of those). Candidates need not be
    exact: the pricing check proves the result whatever they are.
    """
    n = s.shape[1]
    kmax = max(ks)
    sample = s if n <= 2 * SAMPLE_COLUMNS else s[:, :: n // SAMPLE_COLUMNS]
    ns = sample.shape[1]
    order = min(ns, max(1, -(-kmax * ns // n)))
    t = np.maximum(np.partition(sample, ns - order, axis=1)[:, ns - order], 0.5)
    mask = s >= t[:, None]
    counts = np.count_nonzero(mask, axis=1)
    crowded = np.flatnonzero(counts > 4 * kmax)
    if crowded.size:
        sub = s[crowded]
        exact = np.partition(sub, n - kmax, axis=1)[:, n - kmax]
        t[crowded] = np.maximum(exact, 0.5)
        mask[crowded] = sub > t[crowded, None]
    rows, cols = _sparse_nonzero(mask)
    vals = s[rows, cols]
    # exact ranks within each row's candidates (rows come out sorted)
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    rank = np.arange(rows.shape[0]) - np.searchsorted(rows, rows, side="left")
    return rows, cols, [rank < k for k in ks]


class _ColumnBest:
    """Each mentor's best ``k`` mentees so far (by points), fed chunk by chunk."""

    def __init__(self, n: int, k: int) -> None:
        self.n, self.k = n, k
        self.kth = np.full(n, 0.5, dtype=np.float32)
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.size = 0
        self.rank = np.empty(0, dtype=np.int64)

    def offer(self, start: int, s: np.ndarray) -> None:
        """Consider a chunk of rows (starting at row ``start``)."""
        if not self.parts and s.shape[0] <= 2 * SAMPLE_COLUMNS:
            if self.k == 1:
                top = s.argmax(axis=0)[None, :]
            else:  # partitioning rows of the transpose is far faster than strided columns
                top = np.concatenate(  # a block of mentors at a time: small temporaries
                    [
                        _top_along(np.ascontiguousarray(s[:, lo : lo + 2048].T), self.k, 1).T
                        for lo in range(0, self.n, 2048)
                    ],
                    axis=1,
                )
            cols = np.broadcast_to(np.arange(self.n)[None, :], top.shape).ravel()
            rows = top.ravel()
            vals = s[rows, cols]
            keep = vals > 0
            self._add(rows[keep] + start, cols[keep], vals[keep])
            self.compact()
            return
        if not self.parts:
            # a first cut from a sample of rows, generous (twice k) so little is lost
            sample = s[:: s.shape[0] // SAMPLE_COLUMNS]
            ns = sample.shape[0]
            order = min(ns, max(1, -(-2 * self.k * ns // s.shape[0])))
            self.kth = np.maximum(np.partition(sample, ns - order, axis=0)[ns - order], 0.5)
            self.kth = np.nextafter(self.kth, np.float32(-np.inf))
        rows, cols = _sparse_nonzero(s > self.kth[None, :])
        self._add(rows + start, cols, s[rows, cols])
        if self.size > 3 * self.k * self.n:
            self.compact()

    def _add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        self.parts.append((rows, cols, vals))
        self.size += rows.shape[0]

    def compact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Keep the best ``k`` per column; returns (rows, cols, points), ranks in ``rank``."""
        rows, cols, vals = (np.concatenate(x) for x in zip(*self.parts, strict=True))
        order = np.lexsort((rows, -vals, cols))
        rows, cols, vals = rows[order], cols[order], vals[order]
        rank = np.arange(cols.shape[0]) - np.searchsorted(cols, cols, side="left")
        keep = rank < self.k
        rows, cols, vals, rank = rows[keep], cols[keep], vals[keep], rank[keep]
        full = rank == self.k - 1
        self.kth[cols[full]] = vals[full]
        self.parts = [(rows, cols, vals)]
        self.size = rows.shape[0]
        self.rank = rank
        return rows, cols, vals


def _candidates(
    scores: _Scores, k: int, reserve: int, total_free: int
) -> tuple[_Pairs, _Pairs, np.ndarray]:
    """Candidate pairs: about each mentee's best ``k`` mentors and each mentor's best ``k``
    mentees, a larger reserve (best ``reserve`` both ways) for cheap pricing, and whether each
    mentee has any compatible mentor at all."""
    m, n = scores.m, scores.n
    kr = max(k, reserve)
    # Mentor-side lists matter when mentees outnumber places; with places to spare, a short
    # list per mentor is enough (and keeps rounds of a few mentees against many mentors fast).
    scale = min(1.0, 2.0 * m / max(1, total_free))
    kc, kcr = max(1, math.ceil(k * scale)), max(1, math.ceil(kr * scale))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    any_compatible = np.zeros(m, dtype=bool)
    columns = _ColumnBest(n, kcr)
    for start, s in scores.chunks():
        b = s.shape[0]
        rows, cols, (active, _) = _row_best(s, (k, kr))
        any_compatible[start : start + b] = np.bincount(rows, minlength=b) > 0
        parts.append((rows + start, cols, s[rows, cols], active))
        columns.offer(start, s)
    crow, ccol, cval = columns.compact()
    parts.append((crow, ccol, cval, columns.rank < kc))
    rows, cols, pts, active = (np.concatenate(x) for x in zip(*parts, strict=True))
    everything = _Pairs.of(n, rows, cols, pts)
    chosen = _Pairs.of(n, rows[active], cols[active], pts[active])
    return chosen, everything, any_compatible


def _pair_points(scores: _Scores, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Exact points of chosen pairs, recomputed from the encodings."""
    out = np.empty(rows.shape[0], dtype=np.int64)
    gt = scores.g.T
    step = 65_536
    for lo in range(0, rows.shape[0], step):
        r, c = rows[lo : lo + step], cols[lo : lo + step]
        out[lo : lo + step] = np.einsum("ij,ij->i", scores.f[r], gt[c])
        out[lo : lo + step] += scores.f_area[r, scores.area_col[c]].astype(np.int64)
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


def _shortest_from_zero(
    nodes: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray
) -> np.ndarray | None:
    """Bellman–Ford distances from node 0 (vectorised rounds), or None on a negative cycle."""
    d = np.full(nodes, _INF, dtype=np.int64)
    d[0] = 0
    for _ in range(nodes + 1):
        live = d[src] < _INF
        new = d.copy()
        np.minimum.at(new, dst[live], d[src[live]] + w[live])
        if np.array_equal(new, d):
            break
        d = new
    else:
        return None
    if d[0] != 0 or (d >= _INF).any():
        return None
    return d


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
    # The largest prices: unmatched mentees (who need high prices to be priced out) are the
    # usual source of improvements a pruned pair could bring.
    high = _shortest_from_zero(n + 1, src, dst, w)
    if high is None:
        return None  # a negative cycle: the flow was not optimal on its candidates
    v = high[1:]
    u = np.zeros(m, dtype=np.int64)
    np.maximum.at(u, rows, pts - v[cols])
    if (u[matched] != matched_pts[matched] - v[match[matched]]).any():
        return None
    return u, v


def _price(scores: _Scores, u: np.ndarray, v: np.ndarray, per_row: int, margin: float) -> _Pairs:
    """Pairs whose reduced cost ``score − u − v`` exceeds ``-margin`` (best ``per_row`` per
    mentee). Those above 0 are the violations; the others are likely to matter next."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start, r in scores.reduced_chunks(u, v):
        rows, cols = _sparse_nonzero(r > -margin)
        reduced = r[rows, cols].astype(np.int64)
        pts = reduced + u[rows + start] + v[cols]
        ok = pts > 0
        rows, cols, pts, reduced = rows[ok], cols[ok], pts[ok], reduced[ok]
        order = np.lexsort((cols, -reduced, rows))
        rows, cols, pts = rows[order], cols[order], pts[order]
        rank = np.arange(rows.shape[0]) - np.searchsorted(rows, rows, side="left")
        keep = rank < per_row
        parts.append((rows[keep] + start, cols[keep], pts[keep]))
    rows, cols, pts = (np.concatenate(x) for x in zip(*parts, strict=True))
    return _Pairs.of(scores.n, rows, cols, pts)


def _fill(scores: _Scores, match: np.ndarray, free: np.ndarray) -> np.ndarray:
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


def _unmatched_reason(mentee: Profile, any_compatible: bool, any_mentor: bool) -> str:
    if not any_mentor:
        return "no mentor has free capacity right now"
    if not any_compatible:
        if mentee.areas_wanted:
            # Shown to moderators beside the mentee's name: never the areas themselves.
            return "no mentor with free capacity offers the areas they asked for"
        return "no mentor with free capacity is available to them"
    return "every mentor who fits is full this round (others fit them even better)"


def assign_round(
    mentees: Sequence[Profile],
    mentors: Sequence[MentorSlot],
    *,
    forbidden: Set[tuple[int, int]] = frozenset(),
    weights: Weights = DEFAULT_WEIGHTS,
    k: int = DEFAULT_K,
    report: Report = _silent,
) -> RoundResult:
    """Assign mentees to mentors maximising total compatibility under capacities.

    ``forbidden`` holds (mentee_id, mentor_id) pairs never to make (blocked, declined, past).
    Never oneself, never beyond a mentor's ``free`` places. Deterministic for the same input
    (mentees and mentors are processed in user id order). ``report`` hears each phase as it
    starts (it must be cheap: it is called a handful of times per flow).
    """
    report(RoundPhase.SCORING)
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
    clock = _Clock()
    enc = pool.encoder
    with clock("encode"):
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
        fi, fj = index.get(mentee_id), pool.position(mentor_id)
        if fi is not None and fj is not None:
            brows.append(fi)
            bcols.append(fj)
    scores = _Scores(
        features,
        g,
        enc.area_columns,
        enc.mentor_area_column,
        np.asarray(brows, dtype=np.int64),
        np.asarray(bcols, dtype=np.int64),
    )
    free = pool.free
    # With the whole score matrix kept, a full pricing pass costs less than a flow: price
    # every pair straight away and skip the reserve (whose selection costs as much again).
    cached = scores.cache is not None or scores.single
    with clock("candidates"):
        active, reserve, any_compatible = _candidates(
            scores, k, k if cached else RESERVE_K, int(free.sum())
        )
    proven = False
    bound_points = -1
    full_passes = flows = 0
    while True:
        flows += 1
        report(RoundPhase.SOLVING)
        with clock("flow"):
            match = _solve_flow(m, n, free, active.rows, active.cols, active.pts)
        report(RoundPhase.PROVING)
        with clock("duals"):
            duals = _duals(m, n, free, active.rows, active.cols, active.pts, match)
        if duals is None:
            break
        u, v = duals
        if not cached:
            # cheap pricing first: the reserve of near-candidates kept from the scoring pass
            reduced = reserve.pts - u[reserve.rows] - v[reserve.cols]
            if (reduced > 0).any():
                active = active.merge(n, reserve.take(reduced > -PRICING_MARGIN))
                continue
        if full_passes >= MAX_PRICING_ROUNDS:
            break
        full_passes += 1
        with clock("pricing"):
            near = _price(scores, u, v, VIOLATORS_PER_MENTEE, PRICING_MARGIN)
        better = near.take(near.pts - u[near.rows] - v[near.cols] > 0)
        if not len(better):
            proven = True
            bound_points = int(u.sum() + (free * v).sum())
            break
        if cached and full_passes == 2:
            # Few violations are left by now: keep only the pairs these duals leave within
            # reach (and the matching itself), a much smaller and faster flow. Once only, so
            # the candidates grow monotonically afterwards and the loop cannot cycle.
            slack = active.pts - u[active.rows] - v[active.cols]
            close = (slack > -PRICING_MARGIN) | (match[active.rows] == active.cols)
            active = active.take(close).merge(n, near)
        elif cached:
            # every near pair joins: the next duals move, and near pairs are what they reach
            active = active.merge(n, near)
        else:
            active = active.merge(n, better)
            reserve = reserve.merge(n, near)
    matched = np.flatnonzero(match >= 0)
    if not proven:
        match = _fill(scores, match, free)
        matched = np.flatnonzero(match >= 0)
        matched_pts = _pair_points(scores, matched, match[matched])
    else:
        pos = np.searchsorted(active.rows * n + active.cols, matched * n + match[matched])
        matched_pts = active.pts[pos]
    total = int(matched_pts.sum())
    if proven and bound_points != total:  # pragma: no cover - duality says they are equal
        proven = False
    report(RoundPhase.REASONS)
    with clock("reasons"):
        assignments = _assignments(people, pool, match, matched, matched_pts)
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
            "candidates": float(len(active)),
            "reserve": float(len(reserve)),
            "flows": float(flows),
            "pricing_rounds": float(full_passes),
            **{f"seconds_{k}": v for k, v in clock.totals.items()},
        },
    )


def _assignments(
    people: Sequence[Profile],
    pool: MentorPool,
    match: np.ndarray,
    matched: np.ndarray,
    matched_pts: np.ndarray,
) -> tuple[Assignment, ...]:
    return tuple(
        Assignment(
            mentee_id=people[i].user_id,
            mentor_id=int(pool.ids[match[i]]),
            score=int(p) / 100,
            reasons=explain(people[i], pool.slots[match[i]].profile),
        )
        for i, p in zip(matched.tolist(), matched_pts.tolist(), strict=True)
    )
