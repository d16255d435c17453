"""/insights for moderators: the program's health over a chosen period, as a chart (PNG) or
a CSV file, privately. Also counts joins, which Lantern did not record before."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot, LanternCog
from bot.domain.insights import DEFAULT_PERIOD, PERIODS, Insights, csv_text, summary_text
from bot.gateway.boundary import retrying
from bot.gateway.charts import chart
from bot.gateway.checks import moderator_command, moderator_group
from bot.gateway.messenger import reply

PERIOD_CHOICES = [app_commands.Choice(name=label, value=key) for key, (label, _) in PERIODS.items()]


class InsightsCog(LanternCog):
    """The /insights moderator commands and the join counter."""

    insights_group = moderator_group(
        "insights", "Moderators: the program's health in totals (nobody is named)"
    )

    async def _figures(
        self, interaction: discord.Interaction[LanternBot], period: app_commands.Choice[str] | None
    ) -> Insights:
        assert interaction.guild_id is not None
        return await self.services.insights.insights(
            interaction.guild_id, interaction.user.id, period.value if period else DEFAULT_PERIOD
        )

    @moderator_command("chart", insights_group)
    @app_commands.describe(period="Which days to count (the default is the last 30 days)")
    @app_commands.choices(period=PERIOD_CHOICES)
    async def chart_command(
        self,
        interaction: discord.Interaction[LanternBot],
        period: app_commands.Choice[str] | None = None,
    ) -> None:
        """A chart of onboarding, matching, pairs, prompts and feedback (totals only)."""
        figures = await self._figures(interaction, period)
        png = await chart(figures)
        await reply(interaction, summary_text(figures), file=("insights.png", png))

    @moderator_command("export", insights_group)
    @app_commands.describe(period="Which days to count (the default is the last 30 days)")
    @app_commands.choices(period=PERIOD_CHOICES)
    async def export_command(
        self,
        interaction: discord.Interaction[LanternBot],
        period: app_commands.Choice[str] | None = None,
    ) -> None:
        """The same totals as a CSV file (same privacy rules as the chart)."""
        figures = await self._figures(interaction, period)
        await reply(
            interaction,
            f"Program insights for {figures.period}, as a CSV file (totals only, nobody named).",
            file=("insights.csv", csv_text(figures).encode()),
        )

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        """Someone joined: one more on today's count (for the onboarding funnel)."""
        if not member.bot:
            guild_id = member.guild.id
            await retrying(
                "join count", lambda: self.services.insights.count_join(guild_id), guild=guild_id
            )
