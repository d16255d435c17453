"""The circles round preview: confirm or discard, only the moderator who asked; an expired
preview is answered with a fresh one (who waits may have changed)."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.text import fit
from bot.gateway.checks import ensure_moderator
from bot.gateway.components import OwnedView, expired_key, expired_said, services_of
from bot.gateway.messenger import reply
from bot.services.circles import CircleRound, CirclesService


class CircleRoundPreview(OwnedView):
    """Form or discard a previewed circles round."""

    def __init__(
        self, circles: CirclesService, owner_id: int, guild_id: int, plan: CircleRound
    ) -> None:
        super().__init__(owner_id, timeout=900, about=expired_key("circleround", guild_id))
        self.circles = circles
        self.guild_id = guild_id
        self.plan = plan

    @discord.ui.button(label="Form these circles", style=discord.ButtonStyle.success)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await ensure_moderator(interaction)  # they may have lost the role since the preview
        await interaction.response.edit_message(content="Forming circles…", view=None)
        self.stop()

        async def progress(text: str) -> None:
            await interaction.edit_original_response(content=text)

        text = await self.circles.confirm_round(
            self.guild_id,
            interaction.user.id,
            self.plan.circles,
            waiting=self.plan.grouping.waiting,
            progress=progress,
        )
        await interaction.edit_original_response(content=fit(text))

    @discord.ui.button(label="Discard", style=discord.ButtonStyle.secondary)
    async def discard(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Discarded. Nothing was sent.", view=None)


def preview_view(
    circles: CirclesService, owner_id: int, guild_id: int, plan: CircleRound
) -> CircleRoundPreview | None:
    """The confirm/discard buttons, when the round would form anything."""
    return CircleRoundPreview(circles, owner_id, guild_id, plan) if plan.circles else None


async def expired_circle_round(interaction: discord.Interaction[Any], key: str) -> bool:
    """An expired preview: a fresh one, moderators only."""
    await ensure_moderator(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    circles = services_of(interaction).circles
    plan = await circles.preview_round(int(key))
    view = preview_view(circles, interaction.user.id, int(key), plan)
    await reply(interaction, fit(f"{expired_said(interaction)}\n\n{plan.text}"), view=view)
    return True
