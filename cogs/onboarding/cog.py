"""Onboarding commands and the welcome: /onboard, /onboarding status, new members greeted."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot, LanternCog
from bot.gateway.boundary import retrying
from bot.gateway.checks import moderator_command, moderator_group
from bot.gateway.messenger import reply
from cogs.onboarding.forms import show_read


class OnboardingCog(LanternCog):
    """Welcome, consent and the questionnaire."""

    moderators = moderator_group("onboarding", "Onboarding totals for moderators")

    @app_commands.command(name="onboard")
    @app_commands.guild_only()
    async def onboard(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Start or continue your Lantern profile (only you see it)."""
        assert interaction.guild_id is not None
        # Once consent is given this opens the current page's form, which must be the first
        # answer to the interaction, so it is not deferred (a slow read gets an Open button).
        guild_id, onboarding = interaction.guild_id, self.services.onboarding
        await show_read(
            interaction, lambda: onboarding.where(guild_id, interaction.user.id, form=True)
        )

    @moderator_command("status", moderators)
    async def status(self, interaction: discord.Interaction[LanternBot]) -> None:
        """How many members started, finished and agreed to onboarding (totals only)."""
        assert interaction.guild_id is not None
        said = await self.services.onboarding.counts(interaction.guild_id, interaction.user.id)
        await reply(interaction, said)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            return
        system = member.guild.system_channel
        await retrying(
            "welcome",
            lambda: self.services.onboarding.welcome(
                member.guild.id,
                member.id,
                joined_at=member.joined_at,
                fallback_channel_id=system.id if system else None,
            ),
            guild=member.guild.id,
            user=member.id,
        )
