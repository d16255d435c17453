"""Pair spaces: opening, check-ins, care, endings, retention.

BRIDGE: a stub until pairs move here; each method forwards to the pairs cog.
"""

from __future__ import annotations

from bot.db.models import Pair
from bot.services.context import Context, Service


class PairsService(Service):
    """Pair spaces: opening, check-ins, care, endings, retention."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)

    async def open_space(self, pair_id: int) -> None:
        """Open the private space of a newly accepted pair (or leave it pending, told)."""
        await self._legacy("pairs.open_space")(pair_id)

    async def end_all_of(
        self, guild_id: int, user_id: int, *, cause: str, tell_other: str
    ) -> list[Pair]:
        """End every open pair of a member who is leaving; the pairs ended."""
        ended = await self._legacy("pairs.end_all_of")(
            guild_id, user_id, cause=cause, tell_other=tell_other
        )
        return list(ended)
