"""/match (members looking for a mentor) and /mentor (mentors' availability)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import LanternBot, LanternCog
from bot.gateway.checks import member_group
from bot.gateway.messenger import reply


class MatchingCog(LanternCog):
    """Member and mentor commands; each is one call to the matching service."""

    match = member_group("match", "Find a mentor and see where you stand")
    mentor = member_group("mentor", "Your availability as a mentor")

    @match.command(name="request")
    async def match_request(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Ask Lantern to find you a mentor."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.matching.request(interaction.guild_id, interaction.user.id)
        await reply(interaction, text)

    @match.command(name="block")
    @app_commands.describe(member="Someone you never want to be matched with")
    async def match_block(
        self, interaction: discord.Interaction[LanternBot], member: discord.Member
    ) -> None:
        """Never be matched with this member. Private: they are not told."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.matching.block(
            interaction.guild_id, interaction.user.id, member.id
        )
        await reply(interaction, text)

    @match.command(name="status")
    async def match_status(self, interaction: discord.Interaction[LanternBot]) -> None:
        """See where your mentor request stands."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.matching.status(interaction.guild_id, interaction.user.id)
        await reply(interaction, text)

    @match.command(name="cancel")
    async def match_cancel(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Stop looking for a mentor for now."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.matching.cancel(interaction.guild_id, interaction.user.id)
        await reply(interaction, text)

    @mentor.command(name="pause")
    async def mentor_pause(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Pause new introductions for a while."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.matching.pause(interaction.guild_id, interaction.user.id)
        await reply(interaction, text)

    @mentor.command(name="resume")
    async def mentor_resume(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Start receiving introductions again."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.matching.resume(interaction.guild_id, interaction.user.id)
        await reply(interaction, text)

    @mentor.command(name="capacity")
    @app_commands.describe(mentees="How many mentees you can support at once (1–5)")
    async def mentor_capacity(
        self, interaction: discord.Interaction[LanternBot], mentees: app_commands.Range[int, 1, 5]
    ) -> None:
        """Change how many mentees you can support at once."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.services.matching.set_capacity(
            interaction.guild_id, interaction.user.id, mentees
        )
        await reply(interaction, text)
