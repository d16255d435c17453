"""Finding a server member even when the member cache is cold (just after a restart)."""

from __future__ import annotations

import discord


async def find_member(guild: discord.Guild, user_id: int) -> discord.Member | None:
    """The member from the cache, else from Discord; ``None`` if they are not in the server."""
    member = guild.get_member(user_id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(user_id)
    except discord.NotFound:
        return None
    except discord.HTTPException:
        return None


async def display_name(
    guild: discord.Guild | None, user_id: int, fallback: str = "A member"
) -> str:
    """A member's display name for a message, or ``fallback`` if they cannot be found."""
    if guild is None:
        return fallback
    member = await find_member(guild, user_id)
    return member.display_name if member else fallback
