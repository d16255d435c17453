"""The persistent matching buttons: Accept / Decline / Decline-and-pause on an introduction card
(only its mentor may press them) and "Find me a mentor" (acts for whoever presses it)."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.components import INTRO, REQUEST
from bot.domain.text import fit
from bot.gateway.components import Defer, PersistentButton
from bot.gateway.messenger import reply


class IntroButton(PersistentButton, template=INTRO):
    """Accept, Decline or Decline-and-pause; the card's state is read back through the service,
    so the buttons work after a restart."""

    defer = Defer.UPDATE

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        mentor_id = await self.services(interaction).matching.mentor_of(int(self.match["id"]))
        return mentor_id == interaction.user.id

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        matching = self.services(interaction).matching
        intro_id, action = int(self.match["id"]), self.match["action"]
        if action == "accept":
            outcome = await matching.accept(intro_id)
        else:
            outcome = await matching.decline(intro_id, pause=action == "decline-pause")
        await close_card(interaction, outcome)


class RequestButton(PersistentButton, template=REQUEST):
    """ "Find me a mentor", sent after onboarding or after a pair ends."""

    defer = Defer.PUBLIC

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        text = await self.services(interaction).matching.request(
            int(self.match["guild"]), interaction.user.id
        )
        await reply(interaction, text, ephemeral=False)


async def close_card(interaction: discord.Interaction[Any], outcome: str) -> None:
    """Replace the card's buttons with the outcome (after a deferred update)."""
    message = interaction.message
    content = f"{message.content}\n\n{outcome}" if message else outcome
    try:
        await interaction.edit_original_response(content=fit(content), view=None)
    except discord.HTTPException:
        await interaction.followup.send(outcome, ephemeral=True)
