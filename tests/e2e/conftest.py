"""A simulated community: a guild with a moderator role, moderators, mentors and members."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import pytest_asyncio
import simcord
from sqlalchemy.exc import OperationalError


@dataclass
class Community:
    env: simcord.Env
    guild: simcord.GuildHandle
    general: simcord.ChannelHandle
    moderator_role: simcord.RoleHandle
    moderator: simcord.MemberActor
    member: simcord.MemberActor


@pytest_asyncio.fixture
async def community(simcord_env: simcord.Env) -> Community:
    env = simcord_env
    guild = env.create_guild("Lantern Test Community")
    general = guild.create_text_channel("general")
    mod_role = guild.create_role(
        "Community Team", permissions=discord.Permissions(manage_guild=True)
    )
    moderator = guild.add_member(env.create_user("mod_mei"), roles=[mod_role])
    member = guild.add_member(env.create_user("member_kai"))
    await env.settle()
    return Community(env, guild, general, mod_role, moderator, member)


async def set_up_with(community: Community, *names: str) -> list[simcord.MemberActor]:
    """The moderator runs /setup (their role becomes the moderator role), then members with
    these user names join and are welcomed."""
    env = community.env
    await community.moderator.slash(
        community.general, "setup", moderator_role=community.moderator_role
    )
    joined = [community.guild.add_member(env.create_user(name)) for name in names]
    await env.settle()
    return joined


def close_dms(env: simcord.Env, user: simcord.UserHandle) -> None:
    """Discord refuses the bot's next DM to ``user``: 403, code 50007 (their DMs are closed)."""
    env.inject_error(
        "POST",
        f"/channels/{user.dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
    )


def troubled_database(
    bot: Any,
    monkeypatch: pytest.MonkeyPatch,
    *,
    failures: int = 0,
    delay: float = 0.0,
) -> None:
    """From now on every database session first waits ``delay`` seconds (simcord's virtual
    time), and the next ``failures`` of them then fail as a locked or unreachable database does."""
    database, original = bot.database, bot.database.session
    left = [failures]

    @asynccontextmanager
    async def session() -> AsyncIterator[Any]:
        if delay:
            await asyncio.sleep(delay)
        if left[0] > 0:
            left[0] -= 1
            raise OperationalError("BEGIN", {}, Exception("database is locked"))
        async with original() as opened:
            yield opened

    monkeypatch.setattr(database, "session", session)


def set_bot_permission(community: Community, flag: str, allowed: bool) -> None:
    """Give ``flag`` to Lantern's managed role or take it away (simcord's backend, see
    TESTING.md)."""
    backend = community.env.backend
    guild = backend.guilds[community.guild.id]
    bot_role = next(r for r in guild.roles.values() if r.managed)
    perms = discord.Permissions(bot_role.permissions)
    setattr(perms, flag, allowed)
    backend.edit_role(community.guild.id, bot_role.id, {"permissions": perms.value})


async def assert_members_cannot_run(community: Community, command: str) -> None:
    """A plain member is not offered ``command``, and Discord refuses it if they try."""
    assert command not in community.member.available_commands(community.general)
    with pytest.raises(simcord.SetupError):
        await community.member.slash(community.general, command)
