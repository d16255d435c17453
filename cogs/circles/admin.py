"""/circles: moderators form peer circles in a preview-then-confirm round."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.client import LanternBot
from bot.gateway.checks import moderator_command, moderator_group
from bot.gateway.messenger import reply
from cogs.circles.components import preview_view


class CirclesAdminCog(commands.Cog):
    """Moderator tools for circles; each command is one call to the circles service."""

    circles = moderator_group("circles", "Moderators: form peer circles")

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot
        self.service = bot.services.circles

    @moderator_command("round", circles)
    async def round_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Preview circles for everyone waiting; nothing is sent until you confirm."""
        assert interaction.guild_id is not None
        plan = await self.service.preview_round(interaction.guild_id)
        view = preview_view(self.service, interaction.user.id, interaction.guild_id, plan)
        await reply(interaction, plan.text, view=view)
