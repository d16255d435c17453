"""A batch round as plain data for a worker process, packed in small pieces.

The bot reads a round's rows and decrypts them in its own process; everything else runs in a
worker (``Compute``, bot/compute.py): building the typed profiles from the answers (the larger
part of reading: ~0.2 ms of 0.3 ms per member), scoring, solving, the reasons. What crosses is
plain data: (user id, answers as JSON text[, free places]) tuples pickled a piece at a time as
they are read, the blocked pairs as one integer array, and a result whose introductions the
worker pickles a piece at a time. So neither process spends more than a few milliseconds in one
pickle call, which holds the GIL from start to end: pickling the 65,000 profiles of a
50,000 × 15,000 round in one go takes ~0.25 s, reading its result back ~0.08 s — each a stall
of the bot's event loop had the executor done it in one piece.
"""

from __future__ import annotations

import itertools
import json
import pickle
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import numpy as np

from bot.domain.matching.assignment import (
    Assignment,
    Report,
    RoundPhase,
    assign_round,
)
from bot.domain.matching.pool import MentorSlot
from bot.domain.matching.weights import Weights
from bot.domain.profile import Profile
from bot.domain.questionnaire import shipped_labels

PIECE = 500  # items pickled together: about 2 ms either way
T = TypeVar("T")


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
    """Everything the solver needs, as plain data: packed rows, an array of the pairs never to
    make (mentee id, mentor id), the server's weights."""

    mentees: tuple[bytes, ...]  # pieces of (user id, answers JSON or None)
    mentors: tuple[bytes, ...]  # pieces of (user id, answers JSON or None, free places)
    forbidden: np.ndarray  # int64, shape (pairs, 2)
    weights: Weights

    @staticmethod
    def forbid(pairs: Iterable[tuple[int, int]]) -> np.ndarray:
        """The array form of (mentee id, mentor id) pairs."""
        return np.asarray(sorted(pairs), dtype=np.int64).reshape(-1, 2)


class Packed(Sequence[T]):
    """Items kept packed ``PIECE`` at a time and unpacked only when read (a piece at a time
    when iterated). A round's 40,000 introductions stay a few hundred byte strings in the bot
    instead of some 200,000 long-lived objects, which the garbage collector would otherwise
    walk in one pause of the event loop (measured: 0.1–0.2 s at 10,000 × 3,000)."""

    def __init__(self, items: Sequence[T] = ()) -> None:
        self.pieces = pieces(items)
        self.length = len(items)

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[T]:
        for piece in self.pieces:
            yield from unpack(piece)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.length)
            return tuple(itertools.islice(self, start, stop, step))
        if not -self.length <= index < self.length:
            raise IndexError(index)
        index %= self.length
        item: T = unpack(self.pieces[index // PIECE])[index % PIECE]
        return item

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class PackedRound:
    """A round's outcome as the worker sends it back: introductions and waiting reasons
    packed, the scores as one array (for the preview's figures)."""

    assignments: Packed[Assignment]
    scores: np.ndarray  # float64, one per introduction, in the same order
    unmatched: Packed[tuple[int, str]]  # (mentee id, why), in user id order
    total_score: float
    proven_optimal: bool
    upper_bound: float
    stats: Mapping[str, float]


def _profile(user_id: int, answers: str | None) -> Profile:
    return Profile.from_answers(user_id, json.loads(answers) if answers else {}, shipped_labels())


def solve(job: RoundJob, report: Report) -> PackedRound:
    """The round of ``job`` (run in the worker process); ``report`` hears each phase."""
    report(RoundPhase.READING)
    people = (_profile(*row) for piece in job.mentees for row in unpack(piece))
    mentees = [p for p in people if p.is_mentee]
    mentors = [
        MentorSlot(_profile(user, answers), free)
        for piece in job.mentors
        for user, answers, free in unpack(piece)
    ]
    forbidden = frozenset((int(a), int(b)) for a, b in job.forbidden.tolist())
    result = assign_round(mentees, mentors, forbidden=forbidden, weights=job.weights, report=report)
    return PackedRound(
        Packed(result.assignments),
        np.asarray([a.score for a in result.assignments], dtype=np.float64),
        Packed(list(result.unmatched.items())),
        result.total_score,
        result.proven_optimal,
        result.upper_bound,
        dict(result.stats),
    )
