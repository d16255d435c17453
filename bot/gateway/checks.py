"""Who may use a command: members inside a server, or Lantern moderators, checked inside the
bot as well as by Discord."""

from __future__ import annotations

from collections.abc import Callable
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


def member_group(name: str, description: str) -> app_commands.Group:
    """A server-only command group for every member (its commands say ``@group.command``)."""
    return app_commands.Group(name=name, description=description, guild_only=True)


def moderator_group(name: str, description: str) -> app_commands.Group:
    """A server-only command group that Discord shows to members with Manage Server; its
    commands are declared with ``moderator_command``."""
    return app_commands.Group(
        name=name,
        description=description,
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )


async def _moderator_deferred(interaction: discord.Interaction[Any]) -> bool:
    # Deferred first: the moderator-role check may read the database, and Discord is answered
    # before anything waits on it (a refusal then arrives as the private follow-up).
    await interaction.response.defer(ephemeral=True, thinking=True)
    await ensure_moderator(interaction)
    return True


def moderator_command(name: str, group: app_commands.Group | None = None) -> Callable[[Any], Any]:
    """Decorator: a moderator's slash command, in ``group`` (a ``moderator_group``) or else
    server-only at the top level and shown by Discord to members with Manage Server.

    The bot defers a private answer, then re-checks that the person is one of this server's
    Lantern moderators, so the command does its work and ``reply``s."""

    def decorate(callback: Any) -> Any:
        checked = app_commands.check(_moderator_deferred)(callback)
        if group is not None:
            return group.command(name=name)(checked)
        shown = app_commands.guild_only()(
            app_commands.default_permissions(manage_guild=True)(checked)
        )
        return app_commands.command(name=name)(shown)

    return decorate
