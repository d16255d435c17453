"""/circles: moderators form peer circles in a preview-then-confirm round."""

from __future__ import annotations

import discord

from bot.client import LanternBot, LanternCog
from bot.gateway.checks import moderator_command, moderator_group
from bot.gateway.messenger import reply
from cogs.circles.components import circle_round


class CirclesAdminCog(LanternCog):
    """Moderator tools for circles; each command is one call to the circles service."""

    circles = moderator_group("circles", "Moderators: form peer circles")

    @moderator_command("round", circles)
    async def round_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Preview circles for everyone waiting; nothing is sent until you confirm."""
        assert interaction.guild_id is not None
        text, view = await circle_round(self.services, interaction.guild_id, interaction.user.id)
        await reply(interaction, text, view=view)
