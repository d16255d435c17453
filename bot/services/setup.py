"""Server set-up: the choices a server made in /setup, saved with an audit entry."""

from __future__ import annotations

from typing import Any

from bot.db.models import GuildSettings
from bot.db.queries.moderation import record_audit
from bot.db.queries.setup import SETTING_FIELDS, get_guild_settings, save_guild_settings
from bot.services.context import Context, Service


class SetupService(Service):
    """Read and save a server's settings."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)

    async def settings(self, guild_id: int) -> GuildSettings | None:
        """The server's saved choices, or ``None`` before its first /setup."""
        async with self.ctx.transaction() as session:
            return await get_guild_settings(session, guild_id=guild_id)

    async def current(self, guild_id: int) -> dict[str, Any]:
        """The saved choices as a plain mapping (empty before the first /setup)."""
        settings = await self.settings(guild_id)
        return {k: getattr(settings, k) for k in SETTING_FIELDS} if settings else {}

    async def save(self, guild_id: int, actor_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply ``changes``, leave one audit entry for the moderator; the saved choices."""
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            settings = await save_guild_settings(
                session, guild_id=guild_id, now=now, changes=changes
            )
            await record_audit(
                session, guild_id=guild_id, actor_id=actor_id, action="setup", now=now
            )
        return {k: getattr(settings, k) for k in SETTING_FIELDS}

    async def moderator_role(self, guild_id: int) -> int | None:
        """The role id chosen as Lantern's moderators, if any."""
        settings = await self.settings(guild_id)
        return settings.moderator_role_id if settings else None
