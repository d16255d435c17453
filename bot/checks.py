"""Who counts as a Lantern moderator, checked inside the bot as well as by Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.db.queries.core import get_guild_settings
from bot.errors import NotInServerError, NotModeratorError

if TYPE_CHECKING:
    from bot.client import LanternBot


async def is_moderator(bot: LanternBot, member: discord.Member) -> bool:
    """Manage Server, or the moderator role chosen in /setup."""
    if member.guild_permissions.manage_guild or member.guild_permissions.administrator:
        return True
    async with bot.database.session() as session:
        settings = await get_guild_settings(session, guild_id=member.guild.id)
    role_id = settings.moderator_role_id if settings else None
    return role_id is not None and any(role.id == role_id for role in member.roles)


async def ensure_moderator(interaction: discord.Interaction[Any]) -> bool:
    """Re-check in the bot what Discord's default permissions already hide."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise NotInServerError()
    if not await is_moderator(interaction.client, interaction.user):
        raise NotModeratorError()
    return True


def moderator_only() -> Any:
    """Decorator: the command runs only for this server's Lantern moderators."""
    return app_commands.check(ensure_moderator)
