"""/mydata: a member exports, deletes, or withdraws consent for what Lantern holds about them."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.db.models import ConsentStatus
from bot.db.queries.members import get_member_profile, record_consent
from bot.db.registry import delete_member, export_member
from bot.domain.pairs import STEPPED_AWAY_TEXT
from bot.domain.questionnaire import load_questionnaire
from bot.errors import UserFacingError
from bot.gateway.components import OwnedView

log = logging.getLogger("lantern.mydata")

DELETE_QUESTION = (
    "**Delete everything Lantern holds about you?**\n"
    "This erases your answers, your consent record, your prompt settings and anything else "
    "that names you, in every server. It can't be undone. (`/mydata export` first if you'd "
    "like a copy.)"
)
DELETED = (
    "Done: everything Lantern held about you is deleted. If you ever want to take part again, "
    "`/onboard` starts fresh."
)


def private(interaction: discord.Interaction[Any]) -> bool:
    """Reply ephemerally in servers; a DM is already private."""
    return interaction.guild is not None


async def erase_member(bot: LanternBot, user_id: int) -> dict[str, int]:
    """Close what the member is part of kindly, then delete every row naming them.

    Their pending introductions are withdrawn (a mentee rolls on to another mentor) and their
    pair spaces end like a departure, so partners are told and mentors' slots come back;
    then the registry erases every table.
    """
    matching = bot.get_cog("MatchingCog")
    pairs = bot.get_cog("PairsCog")
    mentors: dict[int, set[int]] = {}
    for guild in bot.guilds:
        if matching is not None:
            await matching.withdraw_member(guild.id, user_id)  # type: ignore[attr-defined]
        if pairs is not None:
            ended = await pairs.end_pairs_of(  # type: ignore[attr-defined]
                guild.id, user_id, cause="data_deleted", tell_other=STEPPED_AWAY_TEXT
            )
            mentors[guild.id] = {p.mentor_id for p in ended if p.mentor_id != user_id}
    async with bot.database.session() as session:
        counts = await delete_member(session, user_id=user_id)
    log.info("member data deleted user=%s tables=%s", user_id, ",".join(sorted(counts)))
    if matching is not None:
        for guild_id, mentor_ids in mentors.items():
            if mentor_ids:
                await matching.recount_after_erase(guild_id, mentor_ids)  # type: ignore[attr-defined]
    return counts


class DeleteConfirmView(OwnedView):
    """Yes/no before erasing a member's data; only they can press it."""

    def __init__(self, bot: LanternBot, owner_id: int) -> None:
        super().__init__(owner_id, timeout=600)
        self.bot = bot

    @discord.ui.button(label="Yes, delete everything", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer()
        await erase_member(self.bot, interaction.user.id)
        self.stop()
        await interaction.edit_original_response(content=DELETED, view=None)

    @discord.ui.button(label="Keep my data", style=discord.ButtonStyle.secondary)
    async def keep(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Nothing was deleted. Your data stays as it is.", view=None
        )


class MyDataCog(commands.Cog):
    """Data rights: export, delete, withdraw consent."""

    mydata = app_commands.Group(
        name="mydata", description="See, download or delete what Lantern holds about you"
    )

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot
        self.consent_version = load_questionnaire().consent.version

    @mydata.command(name="export")
    async def export(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Get a file with everything Lantern holds about you."""
        await interaction.response.defer(ephemeral=private(interaction), thinking=True)
        async with self.bot.database.session() as session:
            data = await export_member(session, user_id=interaction.user.id, cipher=self.bot.cipher)
        payload = {"user_id": str(interaction.user.id), "exported_at": self.bot.now().isoformat()}
        payload["data"] = data  # type: ignore[assignment]
        blob = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
        log.info("member data exported user=%s tables=%d", interaction.user.id, len(data))
        summary = (
            "Here is everything Lantern holds about you."
            if data
            else "Lantern holds nothing about you right now; the file says so."
        )
        await interaction.followup.send(
            summary,
            file=discord.File(io.BytesIO(blob), filename="lantern-my-data.json"),
            ephemeral=private(interaction),
        )

    @mydata.command(name="delete")
    async def delete(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Erase everything Lantern holds about you (asks first)."""
        await interaction.response.send_message(
            DELETE_QUESTION,
            view=DeleteConfirmView(self.bot, interaction.user.id),
            ephemeral=private(interaction),
        )

    @mydata.command(name="withdraw")
    @app_commands.guild_only()
    async def withdraw(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Withdraw your consent to matching in this server."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.database.session() as session:
            row = await get_member_profile(
                session, guild_id=interaction.guild_id, user_id=interaction.user.id
            )
            if row is None or row.consent_status != ConsentStatus.ACCEPTED:
                raise UserFacingError(
                    "You haven't agreed to matching here, so there's nothing to withdraw. "
                    "`/mydata delete` erases anything Lantern holds about you."
                )
            await record_consent(
                session,
                guild_id=interaction.guild_id,
                user_id=interaction.user.id,
                status=ConsentStatus.WITHDRAWN,
                version=self.consent_version,
                now=self.bot.now(),
            )
        log.info("consent withdrawn guild=%s user=%s", interaction.guild_id, interaction.user.id)
        self.bot.dispatch("lantern_consent_withdrawn", interaction.guild_id, interaction.user.id)
        await interaction.followup.send(
            "Consent withdrawn: Lantern won't match you with anyone in this server. Your "
            "answers are still stored; would you like them deleted too?\n\n" + DELETE_QUESTION,
            view=DeleteConfirmView(self.bot, interaction.user.id),
            ephemeral=True,
        )


async def setup(bot: LanternBot) -> None:
    await bot.add_cog(MyDataCog(bot))
