"""Buttons: an unknown Lantern button, or one whose state is gone, gets a private "expired"
reply instead of Discord's bare "This interaction failed" (RELIABILITY.md promise 6)."""

from __future__ import annotations

import discord
from sqlalchemy import delete

from bot.db.models import Introduction
from tests.e2e.conftest import Community
from tests.e2e.test_matching import Matchable, _intro_cards, world

__all__ = ["Matchable", "world"]  # the fixture is shared with the matching tests


async def test_a_button_lantern_no_longer_knows_says_it_expired(community: Community) -> None:
    env = community.env
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Old button", custom_id="lantern:retired:thing:7"))
    channel = env.bot.get_channel(community.general.id)
    assert isinstance(channel, discord.TextChannel)
    with env._bot_scope():  # the bot posted it long ago, before the feature was retired
        message = await channel.send("An old message", view=view)
    view.stop()  # nothing in this bot listens for it any more
    await env.settle()
    handle = next(m for m in community.general.history() if m.id == message.id)
    result = await community.member.click(handle, label="Old button")
    assert result.ephemeral
    assert "expired" in result.response.content


async def test_a_card_whose_introduction_is_gone_says_it_expired(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    (card,) = _intro_cards(world.mentor_a)
    async with env.bot.database.session() as session:
        await session.execute(delete(Introduction))
    result = await world.mentor_a.user.click(card, label="Accept")
    (said,) = result.followups  # acknowledged first (the card is read back), then told privately
    assert said.ephemeral and "expired" in said.content
