"""Peer circles end to end: members join, a moderator previews and confirms a round, the
circle's channel is visible only to its members, a member leaves privately."""

from __future__ import annotations

from dataclasses import dataclass

import discord
import pytest_asyncio
import simcord
from discord import app_commands

from bot.db.models import Circle, CircleMember
from tests.e2e.conftest import Community, assert_members_cannot_run
from tests.factories import count_rows, onboarded


@dataclass
class CircleWorld:
    c: Community
    people: list[simcord.MemberActor]


@pytest_asyncio.fixture
async def world(community: Community) -> CircleWorld:
    env, guild = community.env, community.guild
    await community.moderator.slash(
        community.general, "setup", moderator_role=community.moderator_role
    )
    people = [
        guild.add_member(env.create_user(name), nick=nick)
        for name, nick in (
            ("ana", "Ana"),
            ("ben", "Ben"),
            ("cy", "Cy"),
            ("dee", "[x](http://e) @everyone"),
        )
    ]
    await env.settle()
    bot = env.bot
    for person in people:
        await onboarded(
            bot.database, bot.cipher, guild_id=guild.id, user_id=person.id, now=env.now()
        )
    return CircleWorld(community, people)


def _space(w: CircleWorld) -> tuple[simcord.ChannelHandle, discord.TextChannel]:
    handle = next(h for n, h in w.c.guild.channels.items() if n.startswith("circle-identity"))
    channel = w.c.env.bot.get_channel(handle.id)
    assert isinstance(channel, discord.TextChannel)
    return handle, channel


async def test_join_round_confirm_space_and_leave(world: CircleWorld) -> None:
    w = world
    env, general = w.c.env, w.c.general
    for person in w.people:
        joined = await person.slash(general, "circle join", area="identity")
        assert joined.ephemeral and "waiting list" in joined.response.content
    status = await w.people[0].slash(general, "circle status")
    assert "Identity exploration" in status.response.content
    preview = await w.c.moderator.slash(general, "circles round")
    text = preview.response.content
    assert preview.ephemeral and "Identity exploration" in text and "4 members" in text
    assert "](http" not in text and "@everyone" not in text
    assert await count_rows(env.bot.database, Circle) == 0  # nothing before confirming
    await w.c.moderator.click(preview.response.message, label="Form these circles")
    await env.settle()
    assert await count_rows(env.bot.database, CircleMember) == 4
    handle, channel = _space(w)
    for person in w.people:
        assert channel.permissions_for(person.member).view_channel
    for outsider in (w.c.member, w.c.moderator):
        assert not channel.permissions_for(outsider.member).view_channel
    [opening] = [m for m in handle.history() if "Who can see this" in m.content]
    assert "the members of this circle" in opening.content
    assert "You all chose identity exploration" in opening.content
    left = await w.people[1].slash(general, "circle leave")
    assert left.ephemeral and "stepped away" in left.response.content
    await env.settle()
    assert not channel.permissions_for(w.people[1].member).view_channel
    note = handle.history()[-1]
    assert "Someone has stepped away" in note.content and "Ben" not in note.content
    assert (
        "circle of 3 around" in (await w.people[0].slash(general, "circle status")).response.content
    )


async def test_circles_round_is_for_moderators(world: CircleWorld) -> None:
    await assert_members_cannot_run(world.c, "circles round")


async def test_joining_before_onboarding_is_refused_kindly(world: CircleWorld) -> None:
    env = world.c.env
    refused = await world.c.member.slash(world.c.general, "circle join", area="culture")
    simcord.assert_error(env, app_commands.AppCommandError, contains="Nothing changed")
    assert refused.ephemeral and "finished joining" in refused.response.content
