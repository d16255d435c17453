"""Interactive suggestions: the best few available mentors for one mentee."""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass

import numpy as np

from bot.domain.matching.scoring import Encoder, explain
from bot.domain.matching.weights import Weights
from bot.domain.profile import Profile


@dataclass(frozen=True)
class MentorSlot:
    """A mentor and how many more mentees they can take (capacity minus active pairs).

    The caller leaves out (or gives ``free=0`` to) paused and unconsented mentors.
    """

    profile: Profile
    free: int


@dataclass(frozen=True)
class Suggestion:
    """One proposed mentor for a mentee, with the score (0–100) and the reasons behind it."""

    mentor_id: int
    score: float
    reasons: tuple[str, ...]


def available(mentors: Sequence[MentorSlot]) -> list[MentorSlot]:
    """Mentors with free capacity, one slot per user id (the first), in user id order."""
    seen: dict[int, MentorSlot] = {}
    for slot in mentors:
        if slot.free > 0 and slot.profile.user_id not in seen:
            seen[slot.profile.user_id] = slot
    return [seen[k] for k in sorted(seen)]


class MentorPool:
    """Mentors with free capacity, encoded once for fast scoring of any mentee against them."""

    def __init__(self, slots: list[MentorSlot], encoder: Encoder) -> None:
        self.slots = slots
        self.encoder = encoder
        self.ids = np.asarray([s.profile.user_id for s in slots], dtype=np.int64)
        self.free = np.asarray([s.free for s in slots], dtype=np.int64)
        self._position = {int(u): j for j, u in enumerate(self.ids)}

    @classmethod
    def build(cls, mentors: Sequence[MentorSlot], weights: Weights) -> MentorPool:
        """Encode the mentors that have free capacity (duplicates keep the first)."""
        return cls.encode(available(mentors), weights)

    @classmethod
    def encode(cls, slots: list[MentorSlot], weights: Weights, *, warm: bool = True) -> MentorPool:
        """Encode ``slots`` as given (one per user id, in user id order), full ones included:
        a mentor without a free place is never proposed, and :meth:`set_free` can give them
        one later without encoding anything again."""
        encoder = Encoder([s.profile for s in slots], weights)
        if warm:
            encoder.warm()
        return cls(slots, encoder)

    def set_free(self, user_id: int, free: int) -> None:
        """The mentor's free places changed (0: never proposed)."""
        self.free[self._position[user_id]] = free

    def __len__(self) -> int:
        return len(self.slots)

    def position(self, user_id: int) -> int | None:
        """Index of a mentor in the pool, if present."""
        return self._position.get(user_id)

    def scores(self, mentee: Profile, *, forbidden: Set[int] = frozenset()) -> np.ndarray:
        """Points (hundredths, float32) per pooled mentor; ≤ 0 where they may not be proposed."""
        if not self.slots:
            return np.zeros(0, dtype=np.float32)
        out = self.encoder.score_row(self.encoder.mentee_row(mentee))
        out[self.free <= 0] = -1.0
        for uid in (mentee.user_id, *forbidden):
            j = self._position.get(uid)
            if j is not None:
                out[j] = -1.0
        return out

    def suggest(
        self, mentee: Profile, *, forbidden: Set[int] = frozenset(), k: int = 3
    ) -> list[Suggestion]:
        """The ``k`` best compatible mentors for the mentee, best first (ties: lower user id).

        Never the mentee themself, a mentor in ``forbidden`` or one without free capacity.
        """
        if k <= 0 or not self.slots:
            return []
        scores = self.scores(mentee, forbidden=forbidden)
        n = scores.shape[0]
        if k < n:
            # Keep every mentor tied with the k-th score, then order exactly.
            kth = np.partition(scores, n - k)[n - k]
            picked = np.flatnonzero(scores >= kth)
        else:
            picked = np.arange(n)
        picked = picked[scores[picked] > 0]
        order = np.lexsort((self.ids[picked], -scores[picked]))[:k]
        return [
            Suggestion(
                mentor_id=int(self.ids[j]),
                score=float(scores[j]) / 100,
                reasons=explain(mentee, self.slots[j].profile),
            )
            for j in picked[order]
        ]
