"""A batch round as plain data for a worker process, packed in small pieces.

The bot reads a round's profiles in its own process and the solver runs in another
(``Compute``, bot/compute.py). What crosses is plain data: profiles pickled a chunk at a time
*as they are read*, the blocked pairs as one integer array, and a result whose introductions
the worker pickles a chunk at a time. So neither process ever spends more than a few
milliseconds in one pickle call, which holds the GIL from start to end: pickling the 65,000
profiles of a 50,000 × 15,000 round in one go takes ~0.25 s, reading its result back ~0.08 s
— each a stall of the bot's event loop had the executor done it in one piece.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.domain.matching.assignment import Assignment, Report, RoundResult, assign_round
from bot.domain.matching.pool import MentorSlot
from bot.domain.matching.weights import Weights
from bot.domain.profile import Profile

PIECE = 500  # items pickled together: about 2 ms either way


def pack(items: Iterable[Any]) -> bytes:
    """One piece: ``items`` as bytes."""
    return pickle.dumps(tuple(items), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(piece: bytes) -> tuple[Any, ...]:
    """The items of one piece (made by ``pack`` in this program: trusted)."""
    items = pickle.loads(piece)  # our own worker's bytes, never a member's
    assert isinstance(items, tuple)
    return items


def pieces(items: Sequence[Any], size: int = PIECE) -> tuple[bytes, ...]:
    """``items`` packed ``size`` at a time."""
    return tuple(pack(items[i : i + size]) for i in range(0, len(items), size))


@dataclass(frozen=True)
class RoundJob:
    """Everything the solver needs, as plain data: packed profiles, an array of the pairs
    never to make (mentee id, mentor id), the server's weights."""

    mentees: tuple[bytes, ...]  # pieces of Profile
    mentors: tuple[bytes, ...]  # pieces of MentorSlot
    forbidden: np.ndarray  # int64, shape (pairs, 2)
    weights: Weights

    @staticmethod
    def forbid(pairs: Iterable[tuple[int, int]]) -> np.ndarray:
        """The array form of (mentee id, mentor id) pairs."""
        return np.asarray(sorted(pairs), dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True)
class PackedRound:
    """A ``RoundResult`` with its introductions and waiting reasons in pieces."""

    assignments: tuple[bytes, ...]  # pieces of Assignment
    unmatched: tuple[bytes, ...]  # pieces of (mentee id, why)
    total_score: float
    proven_optimal: bool
    upper_bound: float
    stats: Mapping[str, float]

    def result(
        self, assignments: Sequence[Assignment], unmatched: Sequence[tuple[int, str]]
    ) -> RoundResult:
        """The round, once the caller unpacked the pieces (at its own pace)."""
        return RoundResult(
            tuple(assignments),
            dict(unmatched),
            self.total_score,
            self.proven_optimal,
            self.upper_bound,
            dict(self.stats),
        )


def solve(job: RoundJob, report: Report) -> PackedRound:
    """The round of ``job`` (run in the worker process); ``report`` hears each phase."""
    mentees: list[Profile] = [p for piece in job.mentees for p in unpack(piece)]
    mentors: list[MentorSlot] = [s for piece in job.mentors for s in unpack(piece)]
    forbidden = frozenset((int(a), int(b)) for a, b in job.forbidden.tolist())
    result = assign_round(mentees, mentors, forbidden=forbidden, weights=job.weights, report=report)
    return PackedRound(
        pieces(result.assignments),
        pieces(list(result.unmatched.items())),
        result.total_score,
        result.proven_optimal,
        result.upper_bound,
        dict(result.stats),
    )
