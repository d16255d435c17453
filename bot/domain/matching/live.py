"""A mentor pool kept current by small patches instead of being encoded again.

Encoding every mentor of a large server is the expensive part of a suggestion (with reading
and decrypting their profiles); most changes are a mentor's free places moving (an
introduction sent, accepted, declined or expired; a pause). A :class:`LivePool` keeps one
encoded :class:`MentorPool` of every proposable mentor, full ones included, and:

- a change of free places (or a pause) is one entry of its free-place vector;
- a new or edited profile goes to a small *overlay* pool (encoded again alone, on the next
  suggestion) while its old column is masked; past :data:`OVERLAY_LIMIT` mentors the owner
  re-encodes the whole pool (:attr:`LivePool.crowded`).

Suggestions are exactly those of a pool freshly built from the same mentors: both pools rank
by (score, user id) and the best ``k`` of their union is taken.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Set

from bot.domain.matching.pool import MentorPool, MentorSlot, Suggestion
from bot.domain.matching.weights import Weights
from bot.domain.profile import Profile

OVERLAY_LIMIT = 256


class LivePool:
    """Every proposable mentor of a server (profile, free places), encoded once."""

    def __init__(
        self, mentors: Mapping[int, tuple[Profile, int]], weights: Weights, *, warm: bool = True
    ) -> None:
        self.weights = weights
        self._mentors = dict(mentors)
        slots = [MentorSlot(*self._mentors[uid]) for uid in sorted(self._mentors)]
        self._base = MentorPool.encode(slots, weights, warm=warm)
        self._moved: set[int] = set()  # mentors whose base column is stale (overlay or gone)
        self._overlay: MentorPool | None = None

    def __len__(self) -> int:
        return len(self._mentors)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._mentors

    def mentors(self) -> dict[int, tuple[Profile, int]]:
        """Mentor id -> (profile, free places), a copy."""
        return dict(self._mentors)

    @property
    def open_places(self) -> int:
        """Free places over every mentor."""
        return sum(free for _, free in self._mentors.values())

    @property
    def crowded(self) -> bool:
        """Enough profiles changed that encoding everything again pays off."""
        return len(self._moved) > OVERLAY_LIMIT

    def slots(self) -> list[MentorSlot]:
        """Mentors with a free place, in user id order (for a batch round)."""
        return [
            MentorSlot(profile, free)
            for uid, (profile, free) in sorted(self._mentors.items())
            if free > 0
        ]

    def set_free(self, user_id: int, free: int) -> None:
        """The mentor's free places changed; their profile did not."""
        profile, _ = self._mentors[user_id]
        self._mentors[user_id] = (profile, free)
        if user_id in self._moved:
            if self._overlay is not None:
                self._overlay.set_free(user_id, free)
        else:
            self._base.set_free(user_id, free)

    def put(self, profile: Profile, free: int) -> None:
        """A new mentor, or a mentor whose profile changed."""
        self._mentors[profile.user_id] = (profile, free)
        self._move(profile.user_id)

    def remove(self, user_id: int) -> None:
        """The mentor can no longer be proposed (consent, role, data erased...)."""
        if self._mentors.pop(user_id, None) is not None:
            self._move(user_id)

    def _move(self, user_id: int) -> None:
        if self._base.position(user_id) is not None:
            self._base.set_free(user_id, 0)
        self._moved.add(user_id)
        self._overlay = None

    def _overlay_pool(self) -> MentorPool:
        if self._overlay is None:
            slots = [
                MentorSlot(*self._mentors[u]) for u in sorted(self._moved & self._mentors.keys())
            ]
            self._overlay = MentorPool.encode(slots, self.weights, warm=False)
        return self._overlay

    def suggest(
        self, mentee: Profile, *, forbidden: Set[int] = frozenset(), k: int = 3
    ) -> list[Suggestion]:
        """The ``k`` best compatible mentors with a free place, best first (ties: lower id)."""
        found = self._base.suggest(mentee, forbidden=forbidden, k=k)
        if not self._moved:
            return found
        found += self._overlay_pool().suggest(mentee, forbidden=forbidden, k=k)
        return heapq.nsmallest(k, found, key=lambda s: (-s.score, s.mentor_id))
