"""/pairs: moderators' view of pair spaces (names and dates only, never messages), each
command one ``bot.services.pairs`` call that re-checks the pair belongs to this server; and
/reports, the queue of reports and calls for help (``bot.services.moderation``)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import LanternBot, LanternCog
from bot.domain.limits import MAX_NOTE, MAX_ROW_ID
from bot.domain.pairs import MAX_CLOSE_AFTER_DAYS
from bot.gateway.checks import moderator_command, moderator_group
from bot.gateway.messenger import InPlace, reply


class PairsAdminCog(LanternCog):
    """The /pairs moderator commands."""

    pairs_group = moderator_group(
        "pairs", "Moderators: pair spaces (names and dates only, never messages)"
    )

    @moderator_command("reports")
    async def reports(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Moderators: open reports and calls for help, newest first, to acknowledge or resolve."""
        assert interaction.guild_id is not None
        for card in await self.services.moderation.queue(interaction.guild_id):
            await reply(interaction, card.text, buttons=card.buttons)

    @moderator_command("list", pairs_group)
    async def pairs_list(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Pairs with names, start date and last activity (never messages)."""
        assert interaction.guild_id is not None
        await reply(interaction, await self.services.pairs.list(interaction.guild_id))

    @moderator_command("end", pairs_group)
    @app_commands.describe(pair="The pair number from /pairs list", reason="Kept for moderators")
    async def pairs_end(
        self,
        interaction: discord.Interaction[LanternBot],
        pair: app_commands.Range[int, 1, MAX_ROW_ID],
        reason: app_commands.Range[str, 1, MAX_NOTE] | None = None,
    ) -> None:
        """End a pair (the space becomes read-only, nothing is announced)."""
        assert interaction.guild_id is not None
        text = await self.services.pairs.moderator_end(
            interaction.guild_id, interaction.user.id, pair, reason
        )
        await reply(interaction, text)

    @moderator_command("recreate", pairs_group)
    @app_commands.describe(pair="The pair number from /pairs list")
    async def pairs_recreate(
        self,
        interaction: discord.Interaction[LanternBot],
        pair: app_commands.Range[int, 1, MAX_ROW_ID],
    ) -> None:
        """Retry a pending pair space, or restore one that was deleted by hand."""
        assert interaction.guild_id is not None
        text = await self.services.pairs.recreate(interaction.guild_id, interaction.user.id, pair)
        await reply(interaction, text)

    @moderator_command("resume", pairs_group)
    @app_commands.describe(pair="The pair number from /pairs list")
    async def pairs_resume(
        self,
        interaction: discord.Interaction[LanternBot],
        pair: app_commands.Range[int, 1, MAX_ROW_ID],
    ) -> None:
        """Lift a contact pause after a report: both members see the space again."""
        assert interaction.guild_id is not None
        text = await self.services.pairs.resume_contact(
            interaction.guild_id, interaction.user.id, pair
        )
        await reply(interaction, text)

    @moderator_command("settings", pairs_group)
    @app_commands.describe(
        first_checkin_days="Days before the first check-in (default 14)",
        checkin_every_days="Days between later check-ins (default 30)",
        silence_days="Quiet days before a gentle nudge (default 21)",
        retention_days="Days an ended space stays readable before deletion (default 30)",
        close_after_quiet_days=(
            "Quiet days before a pair space closes, warned a week ahead (default 90; 0 = never)"
        ),
        use_threads="Open new pair spaces as private threads instead of channels",
        thread_channel="The private channel that holds pair threads",
        moderators_see_pairs="Let the moderator role see pair spaces, existing ones included",
    )
    async def pairs_settings(
        self,
        interaction: discord.Interaction[LanternBot],
        first_checkin_days: app_commands.Range[int, 1, 365] | None = None,
        checkin_every_days: app_commands.Range[int, 1, 365] | None = None,
        silence_days: app_commands.Range[int, 1, 365] | None = None,
        retention_days: app_commands.Range[int, 1, 365] | None = None,
        close_after_quiet_days: app_commands.Range[int, 0, MAX_CLOSE_AFTER_DAYS] | None = None,
        use_threads: bool | None = None,
        thread_channel: discord.TextChannel | None = None,
        moderators_see_pairs: bool | None = None,
    ) -> None:
        """Check-in rhythm, quiet-time nudges and closing, retention, threads or channels."""
        assert interaction.guild_id is not None
        changes = {
            k: v
            for k, v in {
                "first_checkin_days": first_checkin_days,
                "checkin_every_days": checkin_every_days,
                "silence_days": silence_days,
                "retention_days": retention_days,
                "close_after_quiet_days": close_after_quiet_days,
                "use_threads": use_threads,
                "thread_channel_id": thread_channel.id if thread_channel else None,
                "moderators_see_pairs": moderators_see_pairs,
            }.items()
            if v is not None
        }
        progress = InPlace(interaction)
        text = await self.services.pairs.save_settings(
            interaction.guild_id, interaction.user.id, changes, progress=progress
        )
        await progress.finish(text)
