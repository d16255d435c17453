"""The erase question's buttons: persistent, and only the member they ask may press them."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.components import ERASE
from bot.domain.onboarding import DELETED, KEPT
from bot.gateway.components import PersistentButton


class EraseButton(PersistentButton, template=ERASE):
    """Yes, delete everything / Keep my data."""

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return interaction.user.id == int(self.match["user"])

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        if self.match["choice"] == "no":
            await interaction.response.edit_message(content=KEPT, view=None)
            return
        await interaction.response.defer()
        await self.services(interaction).member_data.erase(interaction.user.id)
        await interaction.edit_original_response(content=DELETED, view=None)
