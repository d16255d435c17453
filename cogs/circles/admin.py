"""/circles: moderators form peer circles in a preview-then-confirm round, list the open ones
(numbers, sizes and dates, never names or messages) and close one."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import LanternBot, LanternCog
from bot.domain.limits import MAX_NOTE, MAX_ROW_ID
from bot.gateway.checks import moderator_command, moderator_group
from bot.gateway.messenger import reply
from cogs.circles.components import circle_round


class CirclesAdminCog(LanternCog):
    """Moderator tools for circles; each command is one call to the circles service."""

    circles = moderator_group("circles", "Moderators: form, list and close peer circles")

    @moderator_command("round", circles)
    async def round_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Preview circles for everyone waiting; nothing is sent until you confirm."""
        assert interaction.guild_id is not None
        text, view = await circle_round(self.services, interaction.guild_id, interaction.user.id)
        await reply(interaction, text, view=view)

    @moderator_command("list", circles)
    async def circles_list(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Open circles: area, size, opening and last activity (never names or messages)."""
        assert interaction.guild_id is not None
        await reply(interaction, await self.services.circles.list_open(interaction.guild_id))

    @moderator_command("end", circles)
    @app_commands.describe(
        circle="The circle number from /circles list", reason="Kept for moderators"
    )
    async def circles_end(
        self,
        interaction: discord.Interaction[LanternBot],
        circle: app_commands.Range[int, 1, MAX_ROW_ID],
        reason: app_commands.Range[str, 1, MAX_NOTE] | None = None,
    ) -> None:
        """Close a circle (its space becomes read-only; members are told kindly)."""
        assert interaction.guild_id is not None
        text = await self.services.circles.moderator_end(
            interaction.guild_id, interaction.user.id, circle, reason
        )
        await reply(interaction, text)
