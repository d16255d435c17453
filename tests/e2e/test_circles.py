"""Peer circles end to end: members join, a moderator previews and confirms a round, the
circle's channel is visible only to its members, a member leaves privately; a circle whose
channel is deleted closes, and its members and the moderators are told once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
import pytest
import pytest_asyncio
import simcord
from discord import app_commands
from sqlalchemy import select as select

from bot.db.models import Circle, CircleMember, CircleStatus, PromptDelivery
from bot.services.ports import Sent
from tests.e2e.conftest import Community, assert_members_cannot_run
from tests.e2e.pairs_helpers import in_bot
from tests.e2e.prompts_helpers import create_schedule
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


@pytest.mark.parametrize("command", ["circles round", "circles list", "circles end"])
async def test_circles_commands_are_for_moderators(world: CircleWorld, command: str) -> None:
    await assert_members_cannot_run(world.c, command)


async def test_joining_before_onboarding_is_refused_kindly(world: CircleWorld) -> None:
    env = world.c.env
    refused = await world.c.member.slash(world.c.general, "circle join", area="culture")
    simcord.assert_error(env, app_commands.AppCommandError, contains="Nothing changed")
    assert refused.ephemeral and "finished joining" in refused.response.content


async def _formed(w: CircleWorld) -> simcord.ChannelHandle:
    """Everyone joins and a moderator forms the round: the circle's channel."""
    for person in w.people:
        await person.slash(w.c.general, "circle join", area="identity")
    preview = await w.c.moderator.slash(w.c.general, "circles round")
    await w.c.moderator.click(preview.response.message, label="Form these circles")
    await w.c.env.settle()
    return _space(w)[0]


def _told_closed(person: simcord.MemberActor) -> list[str]:
    """The "your circle's space was removed" DMs ``person`` got."""
    dms = person.user.dm_channel
    return [m.content for m in (dms.history() if dms else []) if "space was removed" in m.content]


def _closing_alerts(w: CircleWorld) -> list[str]:
    alerts = w.c.guild.channels["lantern-alerts"].history()
    return [m.content for m in alerts if "its space was deleted" in m.content]


async def _circle(w: CircleWorld) -> Circle:
    async with w.c.env.bot.database.session() as session:
        [circle] = (await session.execute(select(Circle))).scalars().all()
        return circle


async def test_a_circle_channel_deleted_by_hand_closes_the_circle_kindly(
    world: CircleWorld,
) -> None:
    w = world
    env = w.c.env
    handle = await _formed(w)
    env.backend.delete_channel(handle.id)
    await env.settle()
    circle = await _circle(w)
    assert circle.status == CircleStatus.CLOSED and circle.space_id is None
    for person in w.people:
        [text] = _told_closed(person)
        assert "Identity exploration" in text and "`/circle join`" in text
    [alert] = _closing_alerts(w)
    assert f"Circle **#{circle.id}**" in alert and "4 of its 4 members" in alert
    status = await w.people[0].slash(w.c.general, "circle status")
    assert "closed on" in status.response.content and "`/circle join`" in status.response.content
    left = await w.people[1].slash(w.c.general, "circle leave")
    simcord.assert_error(env, app_commands.AppCommandError, contains="nothing changed")
    assert "aren't waiting for a circle" in left.response.content
    again = await w.people[2].slash(w.c.general, "circle join", area="identity")
    assert "waiting list" in again.response.content


async def test_a_deletion_just_as_a_prompt_is_posted_tells_each_member_once(
    world: CircleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The channel is deleted by hand while Lantern posts a circle prompt to it: the delete
    event and the failed post both report it, and the circle closes once."""
    w = world
    env, bot = w.c.env, w.c.env.bot
    handle = await _formed(w)
    await create_schedule(w.c, when="daily 09:00", timezone="UTC", channel=False, circles=True)
    messenger = bot.services.ctx.messenger
    post = messenger.post
    deleted: list[int] = []

    async def deleted_as_posted(channel_id: int, text: str, **options: Any) -> Sent:
        if channel_id == handle.id and not deleted:
            deleted.append(channel_id)
            env.backend.delete_channel(channel_id)  # a moderator deletes it just then
        return await post(channel_id, text, **options)

    monkeypatch.setattr(messenger, "post", deleted_as_posted)
    due = env.now().replace(hour=9, minute=0, second=0, microsecond=0)
    await env.advance_time((due - env.now()).total_seconds() + 30)
    await bot.services.delivery.run_due(env.now())
    await env.settle()
    assert deleted == [handle.id]
    async with bot.database.session() as session:
        [delivery] = (await session.execute(select(PromptDelivery))).scalars().all()
    assert delivery.status == "no_channel"  # the post met the deleted channel
    circle = await _circle(w)
    assert circle.status == CircleStatus.CLOSED
    for person in w.people:
        assert len(_told_closed(person)) == 1, person.user.name
    assert len(_closing_alerts(w)) == 1


async def test_a_channel_deleted_while_lantern_was_away_is_found_at_start_up(
    world: CircleWorld, bot_factory: Any
) -> None:
    w = world
    env = w.c.env
    handle = await _formed(w)
    # the channel vanishes without Lantern seeing the event (it was offline)
    guild = env.backend.guilds[w.c.guild.id]
    guild.channel_ids.remove(handle.id)
    del env.backend.channels[handle.id]
    await env.restart_bot(bot_factory())
    await env.bot.run_sweeps(env.now())  # the start-up catch-up
    await env.settle()
    circle = await _circle(w)
    assert circle.status == CircleStatus.CLOSED and circle.space_id is None
    assert all(len(_told_closed(person)) == 1 for person in w.people)
    assert len(_closing_alerts(w)) == 1


DAY = 86400
WARNING = "unless someone writes here"


def _dms(person: simcord.MemberActor, words: str) -> list[str]:
    dms = person.user.dm_channel
    return [m.content for m in (dms.history() if dms else []) if words in m.content]


async def _close_quiet(w: CircleWorld) -> None:
    """The hourly quiet-circle sweep, run as the bot runs it, at simcord's time."""
    await in_bot(w.c.env, w.c.env.bot.services.circles.close_quiet(w.c.env.now()))


async def test_a_quiet_circle_is_warned_kept_open_by_a_message_then_closed_kindly(
    world: CircleWorld, bot_factory: Any
) -> None:
    w = world
    env = w.c.env
    handle = await _formed(w)
    await env.advance_time(83 * DAY)
    await _close_quiet(w)
    await _close_quiet(w)
    [warning] = [m for m in handle.history() if WARNING in m.content]
    assert all(f"<@{p.id}>" in warning.content for p in w.people)
    assert "<t:" in warning.content and warning.author.id == env.bot.user.id

    # A member writing anything keeps the circle open.
    await env.advance_time(2 * DAY)
    await w.people[2].send(handle, "Sorry all, busy month! Still here 🌱")
    await env.settle()
    await env.advance_time(6 * DAY)
    await _close_quiet(w)
    assert (await _circle(w)).status == CircleStatus.OPEN

    # A new silence gets its own warning; Lantern restarts before the date.
    await env.advance_time(77 * DAY)
    await _close_quiet(w)
    assert len([m for m in handle.history() if WARNING in m.content]) == 2
    await env.restart_bot(bot_factory())
    await env.advance_time(7 * DAY + 1)
    await env.bot.run_sweeps(env.now())
    await env.settle()
    await env.bot.run_sweeps(env.now())
    await env.settle()

    circle = await _circle(w)
    assert circle.status == CircleStatus.CLOSED and circle.close_reason == "inactive"
    for person in w.people:  # the space is kept, read-only, until retention ends
        assert handle.history(viewer=person)
        with pytest.raises(simcord.BackendError):
            await person.send(handle, "wait!")
        [told] = _dms(person, "had been quiet since")
        assert "Nobody did anything wrong" in told
    alerts = w.c.guild.channels["lantern-alerts"].history()
    assert len([m for m in alerts if "quiet too long" in m.content]) == 1
    status = await w.people[0].slash(w.c.general, "circle status")
    assert "quiet for a long while" in status.response.content


async def test_moderators_list_circles_and_end_one_once(world: CircleWorld) -> None:
    w = world
    env, general, moderator = w.c.env, w.c.general, w.c.moderator
    handle = await _formed(w)
    circle = await _circle(w)
    listed = await moderator.slash(general, "circles list")
    text = listed.response.content
    assert listed.ephemeral and f"#{circle.id}" in text and "4 people" in text
    assert "Ana" not in text and "@everyone" not in text

    note = "[tap](http://evil) @everyone <@&1>"
    ended = await moderator.slash(general, "circles end", circle=circle.id, reason=note)
    assert ended.ephemeral and f"Circle #{circle.id} has closed" in ended.response.content
    again = await moderator.slash(general, "circles end", circle=circle.id, reason=note)
    assert f"Circle #{circle.id} had already closed" in again.response.content
    await env.settle()
    assert (await _circle(w)).status == CircleStatus.CLOSED
    for person in w.people:
        [told] = _dms(person, "closed your circle")
        assert "isn't a judgement" in told and "evil" not in told
        with pytest.raises(simcord.BackendError):
            await person.send(handle, "hello?")
    alerts = [m for m in w.c.guild.channels["lantern-alerts"].history() if "closed by" in m.content]
    [alert] = alerts
    assert "](http" not in alert.content and "\\[tap\\]" in alert.content
    assert [m.id for m in alert.mentions] == [moderator.id]  # who closed it, for moderators
    assert not alert.role_mentions and not alert.mention_everyone
    assert "no open circles" in (await moderator.slash(general, "circles list")).response.content
