"""/profile: a member sees their own profile (privately) and changes any answer."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.domain.text import fit
from bot.gateway.components import OwnedView, services_of
from bot.gateway.messenger import reply
from cogs.onboarding.forms import show


class PageSelect(discord.ui.Select["EditPageView"]):
    """'Change an answer…': the pages of the member's questionnaire."""

    def __init__(self, guild_id: int, options: tuple[tuple[str, str], ...]) -> None:
        super().__init__(
            placeholder="Change an answer…",
            custom_id="profile-edit",
            options=[
                discord.SelectOption(label=fit(title, 100), value=pid) for pid, title in options
            ],
        )
        self.guild_id = guild_id

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        opened = await services_of(interaction).onboarding.open_page(
            self.guild_id, interaction.user.id, self.values[0], editing=True
        )
        await show(interaction, opened)


class EditPageView(OwnedView):
    """Pick a page, get its form pre-filled with your answers."""

    def __init__(self, guild_id: int, options: tuple[tuple[str, str], ...], owner_id: int) -> None:
        super().__init__(owner_id, timeout=900)
        self.add_item(PageSelect(guild_id, options))


class ProfileCog(commands.Cog):
    """A member's own profile."""

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot

    @app_commands.command(name="profile")
    @app_commands.guild_only()
    async def profile(self, interaction: discord.Interaction[LanternBot]) -> None:
        """See your Lantern profile and change any answer (only you see it)."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = await self.bot.services.onboarding.profile(
            interaction.guild_id, interaction.user.id
        )
        if shown.pages:
            view = EditPageView(interaction.guild_id, shown.pages, interaction.user.id)
            await reply(interaction, shown.text, view=view)
        else:
            await reply(interaction, shown.text, buttons=shown.buttons)
