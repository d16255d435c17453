"""Moderation: the audit trail of moderator actions, alerts to the moderators' channel, blocks."""

from __future__ import annotations

import logging

from bot.db.queries.moderation import add_block, record_audit
from bot.db.queries.setup import get_guild_settings
from bot.services.context import Context, Service
from bot.services.ports import Posted

log = logging.getLogger("lantern.moderation")


class ModerationService(Service):
    """Audit and alert; both are used by every other service."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)

    async def audit(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        *,
        target_user_id: int | None = None,
        target_id: int | None = None,
    ) -> None:
        """Leave one audit entry for a moderator action: ids and the action name, no content."""
        async with self.ctx.transaction() as session:
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action=action,
                now=self.ctx.now(),
                target_user_id=target_user_id,
                target_id=target_id,
            )

    async def alert(self, guild_id: int, text: str) -> bool:
        """Post to the server's alerts channel, pinging no one; false if that is impossible."""
        async with self.ctx.transaction() as session:
            settings = await get_guild_settings(session, guild_id=guild_id)
        if settings is None or not settings.alerts_channel_id:
            log.warning("no alerts channel guild=%s", guild_id)
            return False
        sent = await self.ctx.messenger.post(settings.alerts_channel_id, text)
        if not isinstance(sent, Posted):
            log.warning("could not alert moderators guild=%s reason=%s", guild_id, sent.value)
            return False
        return True

    async def block(self, guild_id: int, blocker_id: int, blocked_id: int) -> bool:
        """``blocker_id`` is never paired with ``blocked_id`` again; false if already blocked."""
        async with self.ctx.transaction() as session:
            new = await add_block(
                session,
                guild_id=guild_id,
                blocker_id=blocker_id,
                blocked_id=blocked_id,
                now=self.ctx.now(),
            )
        log.info("blocked guild=%s new=%s", guild_id, new)
        return new
