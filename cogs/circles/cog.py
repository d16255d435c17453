"""/circle: join the waiting list for a peer circle, see where you stand, leave privately.
Each handler is one ``bot.services.circles`` call."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import LanternBot, LanternCog
from bot.gateway.checks import member_group
from bot.gateway.choices import AREA_CHOICES
from bot.gateway.messenger import reply


class CirclesCog(LanternCog):
    """The members' /circle commands."""

    circle = member_group("circle", "Small peer circles around one area")

    @circle.command(name="join")
    @app_commands.describe(
        area="The area your circle would gather around",
        facilitate="Mentors only: offer to facilitate a circle in an area you offer",
    )
    @app_commands.choices(area=AREA_CHOICES)
    async def circle_join(
        self,
        interaction: discord.Interaction[LanternBot],
        area: app_commands.Choice[str],
        facilitate: bool = False,
    ) -> None:
        """Join the waiting list for a peer circle (3–8 people) around one area."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.circles.join(
            interaction.guild_id, interaction.user.id, area.value, facilitate=facilitate
        )
        await reply(interaction, text)

    @circle.command(name="status")
    async def circle_status(self, interaction: discord.Interaction[LanternBot]) -> None:
        """See whether you're waiting for a circle or in one."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.circles.status(interaction.guild_id, interaction.user.id)
        await reply(interaction, text)

    @circle.command(name="leave")
    async def circle_leave(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Leave the waiting list or your circle, privately (nobody is told who or why)."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.circles.leave(interaction.guild_id, interaction.user.id)
        await reply(interaction, text)
