"""Prompts: the library, schedules, suggestions and subscriptions."""

from __future__ import annotations

import logging

from bot.db.queries.members import set_prompt_subscription
from bot.db.queries.prompts import pause_all_subscriptions
from bot.services.context import Context, Service

log = logging.getLogger("lantern.prompts")


class PromptsService(Service):
    """Prompts: the library, schedules, suggestions and subscriptions."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)

    async def set_subscription(self, guild_id: int, user_id: int, status: str) -> None:
        """Subscribe, pause or unsubscribe a member from DM prompts in one server."""
        async with self.ctx.transaction() as session:
            await set_prompt_subscription(
                session, guild_id=guild_id, user_id=user_id, status=status, now=self.ctx.now()
            )
        log.info("prompts %s guild=%s user=%s", status, guild_id, user_id)

    async def pause_everywhere(self, user_id: int) -> list[int]:
        """Pause DM prompts in every server where the member receives them; those servers."""
        async with self.ctx.transaction() as session:
            guild_ids = await pause_all_subscriptions(session, user_id=user_id, now=self.ctx.now())
        log.info("prompts paused everywhere user=%s servers=%d", user_id, len(guild_ids))
        return guild_ids
