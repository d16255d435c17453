"""Who counts as a Lantern moderator, checked inside the bot as well as by Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.services import Services


class NotModeratorError(UserFacingError, app_commands.CheckFailure):
    """The person is not one of this server's Lantern moderators."""

    def __init__(self) -> None:
        super().__init__(
            "This command is for this server's Lantern moderators. "
            "If you think you should have access, ask an admin to run `/setup` and pick your role."
        )


class NotInServerError(UserFacingError, app_commands.CheckFailure):
    """A server-only command was used in a DM."""

    def __init__(self) -> None:
        super().__init__("Please use this command inside the server, not in a direct message.")


async def is_moderator(services: Services, member: discord.Member) -> bool:
    """Manage Server, or the moderator role chosen in /setup."""
    if member.guild_permissions.manage_guild or member.guild_permissions.administrator:
        return True
    role_id = await services.setup.moderator_role(member.guild.id)
    return role_id is not None and any(role.id == role_id for role in member.roles)


async def ensure_moderator(interaction: discord.Interaction[Any]) -> bool:
    """Re-check in the bot what Discord's default permissions already hide."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise NotInServerError()
    if not await is_moderator(interaction.client.services, interaction.user):
        raise NotModeratorError()
    return True


def moderator_only() -> Any:
    """Decorator: the command runs only for this server's Lantern moderators."""
    return app_commands.check(ensure_moderator)
