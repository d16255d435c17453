"""/pair: a member's own mentorship space (end it, report a problem), and the listeners that
keep private spaces (pairs' and circles') in step with Discord. Each handler is one
``bot.services.pairs`` call."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot, LanternCog
from bot.domain.limits import MAX_NOTE
from bot.gateway.boundary import retrying
from bot.gateway.checks import member_group
from bot.gateway.messenger import reply
from cogs.pairs.components import ask_end_confirmation


class PairsCog(LanternCog):
    """The /pair commands and the pair-space listeners."""

    pair = member_group("pair", "Your mentorship pair space")

    @pair.command(name="end")
    @app_commands.describe(reason="Optional: a private note only moderators will see")
    async def pair_end(
        self,
        interaction: discord.Interaction[LanternBot],
        reason: app_commands.Range[str, 1, MAX_NOTE] | None = None,
    ) -> None:
        """End your mentorship privately (the space becomes read-only)."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        pair_id = await self.services.pairs.pair_here(
            interaction.guild_id,
            interaction.channel_id or 0,
            interaction.user.id,
            refuse_ended=True,
        )
        await ask_end_confirmation(interaction, pair_id, reason)

    @pair.command(name="report")
    @app_commands.describe(
        reason="What happened. Only moderators will read this",
        pause_contact="Remove the other person's access to your space until a moderator acts",
        block="Never pair you with this person again",
    )
    async def pair_report(
        self,
        interaction: discord.Interaction[LanternBot],
        reason: app_commands.Range[str, 1, MAX_NOTE],
        pause_contact: bool = False,
        block: bool = False,
    ) -> None:
        """Tell moderators privately about a problem in your mentorship."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        text = await self.services.pairs.report(
            interaction.guild_id,
            interaction.channel_id or 0,
            interaction.user.id,
            reason,
            pause_contact=pause_contact,
            block=block,
        )
        await reply(interaction, text)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Note that a pair's or a circle's space was active (never what was said)."""
        if message.guild is not None and not message.author.bot:
            await self.services.pairs.touch(message.channel.id)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A private space was deleted by hand: a pair's ends the match and tells both people,
        a circle's closes the circle and tells its members (the one listener for both)."""
        space_id = channel.id
        await retrying(
            "space deleted", lambda: self.services.pairs.space_vanished(space_id), space=space_id
        )

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A private thread was deleted by hand: the same as a channel."""
        space_id = payload.thread_id
        await retrying(
            "space deleted", lambda: self.services.pairs.space_vanished(space_id), space=space_id
        )
