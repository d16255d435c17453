"""/profile: a member sees their own profile (privately) and changes any answer."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.db.models import ConsentStatus
from bot.domain.onboarding import profile_summary
from bot.gateway.components import OwnedView
from cogs.onboarding import onboarding_cog


class EditPageView(OwnedView):
    """'Change an answer…': pick a page, get its form pre-filled with your answers."""

    def __init__(self, guild_id: int, options: list[tuple[str, str]], owner_id: int) -> None:
        super().__init__(owner_id, timeout=900)
        self.guild_id = guild_id
        select: discord.ui.Select[Any] = discord.ui.Select(
            placeholder="Change an answer…",
            custom_id="profile-edit",
            options=[discord.SelectOption(label=title, value=pid) for pid, title in options],
        )
        select.callback = self.chosen  # type: ignore[method-assign]
        self.select = select
        self.add_item(select)

    async def chosen(self, interaction: discord.Interaction[Any]) -> None:
        await onboarding_cog(interaction.client).open_page(
            interaction, self.guild_id, self.select.values[0], editing=True
        )


class ProfileCog(commands.Cog):
    """A member's own profile."""

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot

    @app_commands.command(name="profile")
    @app_commands.guild_only()
    async def profile(self, interaction: discord.Interaction[LanternBot]) -> None:
        """See your Lantern profile and change any answer (only you see it)."""
        guild = interaction.guild
        assert guild is not None
        cog = onboarding_cog(self.bot)
        await interaction.response.defer(ephemeral=True, thinking=True)
        row, answers = await cog._state(guild.id, interaction.user.id)
        if row is None or row.consent_status != ConsentStatus.ACCEPTED:
            await interaction.followup.send(
                "You don't have a profile here yet. `/onboard` starts one (it begins by "
                "explaining what Lantern keeps and why).",
                ephemeral=True,
            )
            return
        text = profile_summary(
            cog.q,
            answers,
            consent_status=row.consent_status,
            completed=row.completed_at is not None,
            guild_name=guild.name,
        )
        options = [(p.id, p.title) for p in cog.q.pages_for(answers.get("role"))]
        await interaction.followup.send(
            text, view=EditPageView(guild.id, options, interaction.user.id), ephemeral=True
        )


async def setup(bot: LanternBot) -> None:
    await bot.add_cog(ProfileCog(bot))
