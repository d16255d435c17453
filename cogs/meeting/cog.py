"""/meet: one ``bot.services.meeting`` call.

The suggestion is posted in the space for everyone in it (both members should see the same
times, each in their own zone), while the invoker's answer stays private: the command defers
privately, so a refusal (used outside a space, the partner left) is never shown to others.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import LanternBot, LanternCog
from bot.gateway.messenger import reply


class MeetingCog(LanternCog):
    """The /meet command."""

    @app_commands.command(name="meet")
    @app_commands.guild_only()
    async def meet(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Suggest weekly times that suit everyone in this private space."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        text = await self.services.meeting.suggest(
            interaction.guild_id, interaction.channel_id or 0, interaction.user.id
        )
        await reply(interaction, text)
