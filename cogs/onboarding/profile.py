"""/profile: a member sees their own profile (privately) and changes any answer."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.client import LanternBot, LanternCog
from bot.domain import onboarding as text
from bot.domain.components import PROFILE_EDIT
from bot.domain.text import fit
from bot.gateway.components import (
    Defer,
    OwnedView,
    PersistentButton,
    expired_key,
    services_of,
)
from bot.gateway.messenger import reply
from cogs.onboarding.forms import private, show_card, show_expired, show_read


class PageSelect(discord.ui.Select["EditPageView"]):
    """'Change an answer…': the pages of the member's questionnaire."""

    def __init__(self, guild_id: int, options: tuple[tuple[str, str], ...]) -> None:
        super().__init__(
            placeholder="Change an answer…",
            options=[
                discord.SelectOption(label=fit(title, 100), value=pid) for pid, title in options
            ],
        )
        self.guild_id = guild_id

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        onboarding, page_id = services_of(interaction).onboarding, self.values[0]
        await show_read(
            interaction,
            lambda: onboarding.open_page(self.guild_id, interaction.user.id, page_id, editing=True),
        )


class EditPageView(OwnedView):
    """Pick a page, get its form pre-filled with your answers."""

    def __init__(self, guild_id: int, options: tuple[tuple[str, str], ...], owner_id: int) -> None:
        super().__init__(owner_id, timeout=900, about=expired_key("profile", guild_id))
        self.add_item(PageSelect(guild_id, options))


class ProfileEditButton(PersistentButton, template=PROFILE_EDIT):
    """'Change an answer' under the profile: the pages to pick from."""

    defer = Defer.PRIVATE

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = int(self.match["guild"])
        shown = await self.services(interaction).onboarding.profile(guild_id, interaction.user.id)
        if not shown.pages:
            await show_card(interaction, shown)
            return
        view = EditPageView(guild_id, shown.pages, interaction.user.id)
        await reply(interaction, text.PICK_PAGE, view=view, ephemeral=private(interaction))


async def expired_profile(interaction: discord.Interaction[Any], key: str) -> bool:
    """A click on an expired profile menu or form: say so, and show the current profile."""
    await interaction.response.defer(ephemeral=private(interaction), thinking=True)
    shown = await services_of(interaction).onboarding.profile(int(key), interaction.user.id)
    return await show_expired(interaction, shown)


class ProfileCog(LanternCog):
    """A member's own profile."""

    @app_commands.command(name="profile")
    @app_commands.guild_only()
    async def profile(self, interaction: discord.Interaction[LanternBot]) -> None:
        """See your Lantern profile and change any answer (only you see it)."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = await self.services.onboarding.profile(interaction.guild_id, interaction.user.id)
        # The same text and the same button as "my profile" in DMs.
        await reply(interaction, shown.text, buttons=shown.buttons)
