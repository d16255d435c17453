"""The server places /setup makes (roles' channels and the pair category), and the permission
report: the Discord side of setting Lantern up. Pair spaces are made in ``channels.py``."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.permissions import REQUIRED, missing_permissions
from bot.domain.setup import CREATABLE


def bot_permission_report(guild: discord.Guild) -> list[str]:
    """Missing server-level permissions of Lantern in ``guild``."""
    perms = guild.me.guild_permissions
    granted = {flag: bool(getattr(perms, flag)) for flag in (*REQUIRED, "administrator")}
    return missing_permissions(granted)


def private_overwrites(
    guild: discord.Guild, moderator_role: discord.Role | None, *, moderators: bool
) -> dict[Any, discord.PermissionOverwrite]:
    """Hidden from @everyone, open to Lantern (and to the moderator role when ``moderators``)."""
    overwrites: dict[Any, discord.PermissionOverwrite] = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        guild.me: discord.PermissionOverwrite(
            view_channel=True,
            send_messages=True,
            embed_links=True,
            read_message_history=True,
            create_private_threads=True,
            send_messages_in_threads=True,
        ),
    }
    if moderators and moderator_role is not None:
        overwrites[moderator_role] = discord.PermissionOverwrite(
            view_channel=True, send_messages=True, read_message_history=True
        )
    return overwrites


async def create_place(
    guild: discord.Guild, key: str, moderator_role: discord.Role | None, see_pairs: bool
) -> discord.abc.GuildChannel:
    """Create the place for setting ``key`` with its complete overwrite set."""
    name = CREATABLE[key]
    reason = "Lantern /setup"
    if key == "pair_category_id":
        return await guild.create_category(
            name,
            overwrites=private_overwrites(guild, moderator_role, moderators=see_pairs),
            reason=reason,
        )
    if key in ("intro_channel_id", "alerts_channel_id"):
        return await guild.create_text_channel(
            name,
            overwrites=private_overwrites(guild, moderator_role, moderators=True),
            reason=reason,
        )
    return await guild.create_text_channel(name, reason=reason)
