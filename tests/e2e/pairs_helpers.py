"""Test helpers for pair spaces: profiles, an accepted introduction + pair (as matching makes
them), and a community that ran /setup."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import discord
import simcord

from bot.client import LanternBot
from bot.db.models import Pair
from bot.db.queries.setup import get_guild_settings
from tests.e2e.conftest import Community
from tests.factories import MENTEE_DEFAULTS, accepted_pair, add_member

# The mentee answers as ``MENTEE_DEFAULTS``; the mentor shares a career and keeps an answer
# to themselves, which their match must never see.
MENTOR_ANSWERS: dict[str, Any] = {
    "role": "mentor",
    "capacity": 3,
    "areas_offered": ["identity", "culture", "networking"],
    "career_field": "Design",
    "about": "Twenty years in design; I grew up between Osaka and Leeds.",
    "hopes": "Not shared with the match",
    "share": ["career", "about"],
}
REASONS = ["You both chose identity exploration and cultural connection", "2 hours apart"]


async def in_bot(env: simcord.Env, *work: Coroutine[Any, Any, Any]) -> None:
    """Run service calls the way the bot runs them: as bot-owned tasks, then settle.

    simcord joins only bot-owned tasks on ``settle()`` and treats Discord calls from anywhere
    else as the test's own; an interaction handler or listener runs as bot work, so the test
    enters the same scope (simcord's ``_bot_scope``) before starting the tasks.
    """
    with env._bot_scope():
        for coroutine in work:
            asyncio.get_running_loop().create_task(coroutine)
    await env.settle()


async def give_profile(
    bot: LanternBot,
    guild_id: int,
    user_id: int,
    answers: dict[str, Any],
    *,
    completed: bool = False,
) -> None:
    """Consent and questionnaire answers, as onboarding would save them; ``completed`` also
    marks onboarding finished."""
    async with bot.database.session() as session:
        await add_member(
            session,
            bot.cipher,
            guild_id=guild_id,
            user_id=user_id,
            answers=answers,
            now=bot.now(),
            completed=completed,
        )


async def make_pair(
    bot: LanternBot,
    guild_id: int,
    mentee_id: int,
    mentor_id: int,
    reasons: list[str] | None = None,
) -> int:
    """What matching does on accept (see ``accepted_pair``): one ``opening`` Pair's id."""
    return await accepted_pair(
        bot.database,
        bot.cipher,
        guild_id=guild_id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        now=bot.now(),
        reasons=reasons if reasons is not None else REASONS,
    )


async def load_pair(bot: LanternBot, pair_id: int) -> Pair:
    async with bot.database.session() as session:
        pair = await session.get(Pair, pair_id, populate_existing=True)
    assert pair is not None
    return pair


@dataclass
class PairWorld:
    """A set-up community with a mentee and a mentor who have profiles."""

    c: Community
    mentee: simcord.MemberActor
    mentor: simcord.MemberActor
    third: simcord.MemberActor

    @property
    def env(self) -> simcord.Env:
        return self.c.env

    @property
    def bot(self) -> LanternBot:
        return self.c.env.bot  # type: ignore[return-value]

    async def settings(self) -> Any:
        async with self.bot.database.session() as session:
            return await get_guild_settings(session, guild_id=self.c.guild.id)

    async def accept(
        self,
        mentee: simcord.MemberActor | None = None,
        mentor: Any = None,
        *,
        reasons: list[str] | None = None,
    ) -> int:
        """Make an accepted pair (introduced for ``reasons``, ``REASONS`` if not given) and open
        its space, as matching's accept does; the pair id."""
        mentee_id, mentor_id = (mentee or self.mentee).id, (mentor or self.mentor).id
        pair_id = await make_pair(self.bot, self.c.guild.id, mentee_id, mentor_id, reasons)
        await in_bot(self.env, self.bot.services.pairs.open_space(pair_id))
        return pair_id

    async def use_threads(self) -> simcord.ChannelHandle:
        """A moderator sets a new channel to hold pair spaces as private threads; the channel."""
        holder = self.c.guild.create_text_channel("pair-threads")
        await self.env.settle()
        await self.c.moderator.slash(
            self.c.general, "pairs settings", use_threads=True, thread_channel=holder
        )
        return holder

    async def opened(
        self, mentee: simcord.MemberActor | None = None, *, reasons: list[str] | None = None
    ) -> Pair:
        """``accept``, then the pair as stored once its space is open."""
        return await load_pair(self.bot, await self.accept(mentee, reasons=reasons))

    async def opened_space(self) -> tuple[Pair, simcord.ChannelHandle]:
        """``opened``, and the pair's channel as its members use it."""
        pair = await self.opened()
        return pair, self.channel(pair.channel_id)

    def channel(self, channel_id: int | None) -> simcord.ChannelHandle:
        assert channel_id is not None
        return next(h for h in self.c.guild.channels.values() if h.id == channel_id)

    async def end_as(self, member: simcord.MemberActor, pair: Pair) -> simcord.ChannelHandle:
        """``member`` ends ``pair`` with /pair end and confirms; the pair's space."""
        handle = self.channel(pair.channel_id)
        shown = await member.slash(handle, "pair end")
        await member.click(shown.response.message, label="Yes, end the mentorship")
        await self.env.settle()
        return handle

    def alerts(self) -> list[discord.Message]:
        return self.c.guild.channels["lantern-alerts"].history()


async def pair_world(community: Community, *, moderators_see: bool = False) -> PairWorld:
    env = community.env
    options: dict[str, Any] = {"moderator_role": community.moderator_role}
    if moderators_see:
        options["moderators_see_pairs"] = True
    await community.moderator.slash(community.general, "setup", **options)
    mentee = community.guild.add_member(env.create_user("ana_mentee"), nick="Ana Reyes")
    mentor = community.guild.add_member(env.create_user("kenji_mentor"), nick="Kenji Sato")
    third = community.guild.add_member(env.create_user("zed_third"))
    await env.settle()
    bot: LanternBot = env.bot  # type: ignore[assignment]
    await give_profile(bot, community.guild.id, mentee.id, MENTEE_DEFAULTS)
    await give_profile(bot, community.guild.id, mentor.id, MENTOR_ANSWERS)
    return PairWorld(community, mentee, mentor, third)
