"""What the bot echoes is safe: hostile display names (a masked link, ``@everyone``, a user
mention, a newline, markdown, 4,000 characters) reach every message escaped, on one line and
within Discord's limits."""

from __future__ import annotations

import re

import discord
import pytest
import simcord

from bot.db.queries.matching import open_request
from tests.e2e.conftest import Community
from tests.e2e.pairs_helpers import (
    MENTOR_ANSWERS,
    give_profile,
    load_pair,
    pair_world,
)
from tests.factories import MENTEE_DEFAULTS, onboarded

LINK = "[click here](https://example.com)"
HOSTILE = f"{LINK} @everyone <@123456789012345678>\nsecond **line**"
LONG = "[x](https://example.com) " * 160  # 4,000 characters


def assert_inert(text: str) -> None:
    """No masked link, mass mention, user mention or unescaped bold from a member's name."""
    assert LINK not in text
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", text), text  # no [..]( left unescaped
    assert "@everyone" not in text
    assert "<@123456789012345678>" not in text
    assert "**line**" not in text
    assert "\nsecond" not in text  # the name stayed on one line
    assert len(text) <= 2000


def no_pings(message: discord.Message) -> None:
    assert not message.mention_everyone
    assert [u.id for u in message.mentions] == [] or all(
        u.id != 123456789012345678 for u in message.mentions
    )


@pytest.mark.parametrize("name", [HOSTILE, LONG])
async def test_hostile_names_are_inert_in_matching_messages(
    community: Community, name: str
) -> None:
    env, guild, bot = community.env, community.guild, community.env.bot
    await community.moderator.slash(
        community.general, "setup", moderator_role=community.moderator_role
    )
    mentee = guild.add_member(env.create_user("hana"), nick=name)
    mentor = guild.add_member(env.create_user("marco"), nick=name)
    await env.settle()
    now = env.now()
    await onboarded(bot.database, bot.cipher, guild_id=guild.id, user_id=mentee.id, now=now)
    await onboarded(
        bot.database, bot.cipher, guild_id=guild.id, user_id=mentor.id, now=now, mentor=True
    )

    # The moderators' queue and round preview.
    async with bot.database.session() as session:
        await open_request(session, guild_id=guild.id, mentee_id=mentee.id, now=now)
    queue = await community.moderator.slash(community.general, "matching queue")
    assert "click here" in queue.response.content or "\\[x\\]" in queue.response.content
    assert_inert(queue.response.content)

    # The introduction card the mentor reads, and the halfway reminder.
    await mentee.slash(community.general, "match cancel")
    await mentee.slash(community.general, "match request")
    card = mentor.user.dm_channel.last_message
    assert card is not None and "would like a mentor" in card.content
    assert_inert(card.content)
    no_pings(card)
    await env.advance_time(37 * 3600)
    await bot.run_sweeps(env.now())
    reminder = mentor.user.dm_channel.last_message
    assert reminder is not None and "gentle reminder" in reminder.content
    assert_inert(reminder.content)

    # The accept: the mentor's card and the mentee's DM, then /match status.
    await mentor.user.click(card, label="Accept")
    await env.settle()
    accepted = [m for m in mentee.user.dm_channel.history() if "accepted!" in m.content]
    assert accepted
    assert_inert(accepted[-1].content)
    no_pings(accepted[-1])
    status = await mentee.slash(community.general, "match status")
    assert "matched with" in status.response.content
    assert_inert(status.response.content)


async def test_hostile_names_are_inert_in_the_pair_space_and_the_pairs_list(
    community: Community,
) -> None:
    w = await pair_world(community)
    hostile = community.guild.add_member(community.env.create_user("h"), nick=HOSTILE)
    long = community.guild.add_member(community.env.create_user("l"), nick=LONG)
    await community.env.settle()
    await give_profile(w.bot, community.guild.id, hostile.id, MENTEE_DEFAULTS)
    await give_profile(w.bot, community.guild.id, long.id, MENTOR_ANSWERS)
    pair_id = await w.accept(hostile, long)
    pair = await load_pair(w.bot, pair_id)
    space = w.channel(pair.channel_id)
    opening = space.history()[0]
    assert_inert(opening.content)
    assert not opening.mention_everyone
    titles = [e.title or "" for e in opening.embeds]
    assert any(t.startswith("Mentee: \\[click here\\]") for t in titles), titles
    for embed in opening.embeds:
        assert_inert(embed.title or "")
        assert len(embed.title or "") <= 256
    assert sum(len(e) for e in opening.embeds) <= 6000
    listed = await community.moderator.slash(community.general, "pairs list")
    assert f"#{pair_id}" in listed.response.content
    assert_inert(listed.response.content)


async def test_out_of_range_options_are_refused_before_the_bot(community: Community) -> None:
    """Discord itself refuses a number or text outside an option's bounds."""
    await community.moderator.slash(
        community.general, "setup", moderator_role=community.moderator_role
    )
    with pytest.raises(simcord.SetupError):
        await community.moderator.slash(community.general, "pairs resume", pair=2**40)
    with pytest.raises(simcord.SetupError):
        await community.moderator.slash(community.general, "prompts schedule", when="x" * 4000)
