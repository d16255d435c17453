"""/matching: moderators run batch rounds, match by hand, see the queue and tune weights.
Never shows questionnaire answers — names, wait times and aggregate scores only."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.domain.text import fit
from bot.errors import UserFacingError
from bot.gateway.checks import ensure_moderator, moderator_command, moderator_group
from bot.gateway.components import OwnedView, expired_key, expired_said, services_of
from bot.gateway.messenger import InPlace, reply
from bot.services.matching import MatchingService, RoundPlan


class RoundPreview(OwnedView):
    """Publish or discard a previewed batch round (only the moderator who asked)."""

    def __init__(self, matching: MatchingService, owner_id: int, guild_id: int, plan: RoundPlan):
        super().__init__(owner_id, timeout=900, about=expired_key("round", guild_id))
        self.matching = matching
        self.guild_id = guild_id
        self.plan = plan

    @discord.ui.button(label="Send introductions", style=discord.ButtonStyle.success)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await ensure_moderator(interaction)  # they may have lost the role since the preview
        await interaction.response.edit_message(content="Sending introductions…", view=None)
        self.stop()

        async def progress(text: str) -> None:
            await interaction.edit_original_response(content=text)

        published = await self.matching.publish_round(
            self.guild_id, interaction.user.id, self.plan.assignments, progress=progress
        )
        await interaction.edit_original_response(content=fit(published.text))

    @discord.ui.button(label="Discard", style=discord.ButtonStyle.secondary)
    async def discard(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Discarded. Nothing was sent.", view=None)


async def show_round(
    interaction: discord.Interaction[Any], matching: MatchingService, guild_id: int, said: str = ""
) -> None:
    """Work out a round with its progress edited into the deferred answer, then show the
    preview (or why there is none) in the same message."""
    progress = InPlace(interaction)
    try:
        plan = await matching.preview_round(guild_id, progress=progress)
    except UserFacingError as error:  # in place of the progress, not below it
        await progress.finish(error.message)
        return
    view = RoundPreview(matching, interaction.user.id, guild_id, plan) if plan.assignments else None
    await progress.finish(fit(f"{said}\n\n{plan.text}" if said else plan.text), view=view)


async def expired_round(interaction: discord.Interaction[Any], key: str) -> bool:
    """An expired round preview: a fresh one (who waits may have changed), moderators only."""
    await ensure_moderator(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    await show_round(
        interaction, services_of(interaction).matching, int(key), expired_said(interaction)
    )
    return True


class MatchingAdminCog(commands.Cog):
    """Moderator tools for matching; each command is one call to the matching service."""

    matching = moderator_group("matching", "Moderators: run and tune mentor matching")

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot
        self.service = bot.services.matching

    @moderator_command("round", matching)
    async def round_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Preview a matching round for everyone waiting; nothing is sent until you confirm."""
        assert interaction.guild_id is not None
        await show_round(interaction, self.service, interaction.guild_id)

    @moderator_command("manual", matching)
    @app_commands.describe(
        mentee="The member looking for a mentor", mentor="The mentor to introduce"
    )
    async def manual_command(
        self,
        interaction: discord.Interaction[LanternBot],
        mentee: discord.Member,
        mentor: discord.Member,
    ) -> None:
        """Introduce a mentee to a mentor you choose; Lantern's rules still apply."""
        assert interaction.guild_id is not None
        text = await self.service.introduce_by_hand(
            interaction.guild_id, interaction.user.id, mentee.id, mentor.id
        )
        await reply(interaction, text)

    @moderator_command("queue", matching)
    async def queue_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """List mentees waiting for a mentor and how long they've waited."""
        assert interaction.guild_id is not None
        await reply(interaction, await self.service.queue(interaction.guild_id))

    @moderator_command("mode", matching)
    @app_commands.describe(introductions="Introduce at once when someone asks, or only in rounds")
    @app_commands.choices(
        introductions=[
            app_commands.Choice(name="at once, when someone asks (default)", value="instant"),
            app_commands.Choice(name="only in moderators' batch rounds", value="rounds"),
        ]
    )
    async def mode_command(
        self,
        interaction: discord.Interaction[LanternBot],
        introductions: app_commands.Choice[str],
    ) -> None:
        """Choose whether requests are introduced at once or gathered for batch rounds."""
        assert interaction.guild_id is not None
        text = await self.service.set_mode(
            interaction.guild_id, interaction.user.id, rounds=introductions.value == "rounds"
        )
        await reply(interaction, text)

    @moderator_command("weights", matching)
    @app_commands.describe(
        areas="Weight of shared mentorship areas (0–10)",
        heritage="Weight of the heritage preference (0–10)",
        languages="Weight of shared languages (0–10)",
        career="Weight of the same career field (0–10)",
        timezone="Weight of being close in time zone (0–10)",
        cadence="Weight of a matching meeting rhythm (0–10)",
        expiry_hours="Hours a mentor has to answer an introduction (6–336)",
    )
    async def weights_command(
        self,
        interaction: discord.Interaction[LanternBot],
        areas: app_commands.Range[float, 0, 10] | None = None,
        heritage: app_commands.Range[float, 0, 10] | None = None,
        languages: app_commands.Range[float, 0, 10] | None = None,
        career: app_commands.Range[float, 0, 10] | None = None,
        timezone: app_commands.Range[float, 0, 10] | None = None,
        cadence: app_commands.Range[float, 0, 10] | None = None,
        expiry_hours: app_commands.Range[int, 6, 336] | None = None,
    ) -> None:
        """Show or tune how matching weighs each criterion for this server."""
        assert interaction.guild_id is not None
        given = {
            "areas": areas,
            "heritage": heritage,
            "languages": languages,
            "career": career,
            "timezone": timezone,
            "cadence": cadence,
        }
        changes = {k: float(v) for k, v in given.items() if v is not None}
        text = await self.service.tune(
            interaction.guild_id, interaction.user.id, changes, expiry_hours=expiry_hours
        )
        await reply(interaction, text)
