"""Matching: requests, introductions, accepts and declines, rounds.

BRIDGE: a stub until matching moves here; each method forwards to the matching cog.
"""

from __future__ import annotations

from bot.services.context import Context, Service
from bot.services.events import PairEnded


class MatchingService(Service):
    """Matching: requests, introductions, accepts and declines, rounds."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)

    async def request(self, guild_id: int, user_id: int) -> str:
        """Put a mentee on the waiting list (or introduce them); what to tell them."""
        return str(await self._legacy("matching.request")(guild_id, user_id))

    async def status(self, guild_id: int, user_id: int) -> str:
        """Where the member stands, in a sentence or two."""
        return str(await self._legacy("matching.status")(guild_id, user_id))

    async def fill_waiting(self, guild_id: int) -> None:
        """A mentor may have become available: introduce waiting mentees."""
        await self._legacy("matching.fill_waiting")(guild_id)

    async def withdraw(self, guild_id: int, user_id: int) -> None:
        """The member stops taking part: off the waiting list, introductions withdrawn."""
        await self._legacy("matching.withdraw")(guild_id, user_id)

    async def recount(self, guild_id: int, mentor_ids: set[int]) -> None:
        """Mentors whose pairs vanished get their places back; waiting mentees are offered."""
        await self._legacy("matching.recount")(guild_id, mentor_ids)

    async def pair_ended(self, event: PairEnded) -> None:
        """A pair ended: the mentor's place comes back, the mentee is offered a new mentor."""
        await self._legacy("matching.pair_ended")(event.pair_id)
