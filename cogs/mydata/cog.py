"""/mydata: a member exports, deletes, or withdraws consent for what Lantern holds about them.

A member leaving a server is handled here too: one ordered use case closes what they were
part of there.
"""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot, LanternCog
from bot.domain.components import erase_buttons
from bot.domain.onboarding import DELETE_QUESTION
from bot.gateway.boundary import retrying
from bot.gateway.messenger import reply


class MyDataCog(LanternCog):
    """Data rights: export, delete, withdraw consent; and members who leave."""

    mydata = app_commands.Group(
        name="mydata", description="See, download or delete what Lantern holds about you"
    )

    @mydata.command(name="export")
    async def export(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Get a file with everything Lantern holds about you."""
        private = interaction.guild is not None
        await interaction.response.defer(ephemeral=private, thinking=True)
        exported = await self.services.member_data.export(interaction.user.id)
        await interaction.followup.send(
            exported.text,
            file=discord.File(io.BytesIO(exported.content), filename=exported.filename),
            ephemeral=private,
        )

    @mydata.command(name="delete")
    async def delete(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Erase everything Lantern holds about you (asks first)."""
        await reply(
            interaction,
            DELETE_QUESTION,
            buttons=erase_buttons(interaction.user.id),
            ephemeral=interaction.guild is not None,
        )

    @mydata.command(name="withdraw")
    @app_commands.guild_only()
    async def withdraw(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Withdraw your consent to matching in this server."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        said = await self.services.member_data.withdraw_consent(
            interaction.guild_id, interaction.user.id
        )
        await reply(interaction, said, buttons=erase_buttons(interaction.user.id))

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A member left (cached or not): close what they were part of in that server."""
        if payload.user.bot:
            return
        guild_id, user_id = payload.guild_id, payload.user.id
        await retrying(
            "member left",
            lambda: self.services.member_data.member_left(guild_id, user_id),
            guild=guild_id,
            user=user_id,
        )
