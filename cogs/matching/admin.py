"""/matching: moderators run batch rounds, match by hand, see the queue and tune weights.
Never shows questionnaire answers — names, wait times and aggregate scores only."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import LanternBot, LanternCog
from bot.errors import UserFacingError
from bot.gateway.checks import moderator_command, moderator_group
from bot.gateway.components import PreviewConfirm, Progress, expired_key
from bot.gateway.messenger import InPlace, Preview, expired_preview, reply
from bot.services import Services

ROUND_LABELS = ("Send introductions", "Sending introductions…")


async def round_preview(
    services: Services, guild_id: int, owner_id: int, progress: InPlace | None = None
) -> Preview:
    """A batch round's preview, with Send and Discard buttons when it would introduce anyone
    (only the moderator who asked may press them); ``progress`` shows the round's step while it
    is worked out."""
    matching = services.matching
    plan = await matching.preview_round(guild_id, progress=progress)

    async def send(actor_id: int, progress: Progress) -> str:
        sent = await matching.publish_round(guild_id, actor_id, plan.assignments, progress=progress)
        return sent.text

    view = PreviewConfirm(owner_id, expired_key("round", guild_id), ROUND_LABELS, send)
    return plan.text, view if plan.assignments else None


expired_round = expired_preview(round_preview)


class MatchingAdminCog(LanternCog):
    """Moderator tools for matching; each command is one call to the matching service."""

    matching = moderator_group("matching", "Moderators: run and tune mentor matching")

    @moderator_command("round", matching)
    async def round_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Preview a matching round for everyone waiting; nothing is sent until you confirm."""
        assert interaction.guild_id is not None
        progress = InPlace(interaction)  # edited in place, then replaced by the preview
        try:
            text, view = await round_preview(
                self.services, interaction.guild_id, interaction.user.id, progress
            )
        except UserFacingError as error:  # in place of the progress, not below it
            await progress.finish(error.message)
            return
        await progress.finish(text, view=view)

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
        text = await self.services.matching.introduce_by_hand(
            interaction.guild_id, interaction.user.id, mentee.id, mentor.id
        )
        await reply(interaction, text)

    @moderator_command("queue", matching)
    async def queue_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """List mentees waiting for a mentor and how long they've waited."""
        assert interaction.guild_id is not None
        await reply(interaction, await self.services.matching.queue(interaction.guild_id))

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
        text = await self.services.matching.set_mode(
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
        text = await self.services.matching.tune(
            interaction.guild_id, interaction.user.id, changes, expiry_hours=expiry_hours
        )
        await reply(interaction, text)
