"""Pair spaces: a private channel for every matched pair, a warm start, check-ins, a graceful
and private ending, reports, and the moderators' view (no message content, ever).

The cog holds the commands and listeners; opening/closing spaces lives in ``pairs_spaces`` and
check-ins and buttons in ``pairs_care`` (mixins, as Red-DiscordBot splits its large cogs)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.db.models import Pair, PairStatus
from bot.db.queries import pairs as q
from bot.db.queries.matching import take_mentor_slot
from bot.db.queries.moderation import record_audit
from bot.domain import pairs as d
from bot.domain.text import safe_block, safe_inline
from bot.errors import UserFacingError
from bot.gateway.checks import ensure_moderator, moderator_only
from cogs.pairs_care import CareMixin
from cogs.pairs_components import CheckinAnswerButton, PairActionButton
from cogs.pairs_spaces import overwrite_for, user_mention

log = logging.getLogger("lantern.pairs")

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REPORTS_PER_DAY = 3
ACTIVITY_THROTTLE = timedelta(minutes=1)


class PairsCog(CareMixin, commands.Cog):
    """Opens, tends and closes pair spaces."""

    pair = app_commands.Group(
        name="pair", description="Your mentorship pair space", guild_only=True
    )
    pairs = app_commands.Group(
        name="pairs",
        description="Moderators: pair spaces (names and dates only, never messages)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot
        self.starters = d.load_starter_library(DATA_DIR)
        self.spaces: dict[int, int] = {}  # channel/thread id -> pair id
        self._touched: dict[int, datetime] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._full_categories: set[int] = set()

    async def cog_load(self) -> None:
        self.bot.register_components(PairActionButton, CheckinAnswerButton)
        self.bot.register_sweep("pairs-open", self.run_pending_spaces, every_seconds=300)
        self.bot.register_sweep("pairs-checkins", self.run_due_checkins, every_seconds=300)
        self.bot.register_sweep("pairs-silence", self.run_silence, every_seconds=3600)
        self.bot.register_sweep("pairs-retention", self.run_due_deletions, every_seconds=3600)
        # BRIDGE: the pairs service forwards here until pairs move into bot/services/pairs.py.
        self.bot.services.ctx.legacy["pairs.open_space"] = self.open_space
        self.bot.services.ctx.legacy["pairs.end_all_of"] = self.end_pairs_of

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Rebuild which channels are pair spaces (the activity map) from the database."""
        async with self.bot.database.session() as session:
            self.spaces.update(await q.live_spaces(session))

    async def _pair_here(self, interaction: discord.Interaction[Any]) -> Pair:
        """The caller's pair for a /pair command: this space, or their only live pair."""
        assert interaction.guild is not None
        async with self.bot.database.session() as session:
            pair = await q.pair_for_channel(session, channel_id=interaction.channel_id or 0)
            if pair is None:
                mine = await q.pairs_of_member(
                    session,
                    guild_id=interaction.guild.id,
                    user_id=interaction.user.id,
                    statuses=q.LIVE,
                )
                if len(mine) == 1:
                    pair = mine[0]
        if pair is None or interaction.user.id not in (pair.mentee_id, pair.mentor_id):
            raise UserFacingError(
                "Please use this inside your pair space, so Lantern knows which mentorship "
                "you mean. Nothing changed."
            )
        return pair

    @commands.Cog.listener("on_lantern_pair_accepted")
    async def on_pair_accepted(self, pair_id: int) -> None:
        """Matching accepted a pair: open its space."""
        await self.open_space(pair_id)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Note that a pair space was active (never what was said)."""
        pair_id = self.spaces.get(message.channel.id)
        if pair_id is None or message.author.bot:
            return
        now = self.bot.now()
        last = self._touched.get(pair_id)
        if last is not None and now - last < ACTIVITY_THROTTLE:
            return
        self._touched[pair_id] = now
        async with self.bot.database.session() as session:
            await q.touch_activity(session, pair_id=pair_id, now=now)

    @commands.Cog.listener()
    async def on_member_remove(self, member: discord.Member) -> None:
        """A member left: end their pairs cleanly and tell the other person kindly."""
        await self.end_pairs_of(
            member.guild.id,
            member.id,
            cause="member_left",
            tell_other=d.kind_departure_text(left=True),
        )

    async def end_pairs_of(
        self, guild_id: int, user_id: int, *, cause: str, tell_other: str
    ) -> list[Pair]:
        """End every open pair of a member who is leaving; returns the pairs ended."""
        async with self.bot.database.session() as session:
            mine = await q.pairs_of_member(session, guild_id=guild_id, user_id=user_id)
        ended = []
        for pair in mine:
            assert pair.id is not None
            if await self.end_space(
                pair.id, actor_id=user_id, reason=None, cause=cause, tell_other=tell_other
            ):
                log.info("pair ended pair=%s cause=%s", pair.id, cause)
                ended.append(pair)
        return ended

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A pair space was deleted by hand: end the match and tell both people."""
        await self._space_vanished(channel.id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self._space_vanished(payload.thread_id)

    @pair.command(name="end")
    @app_commands.describe(reason="Optional: a private note only moderators will see")
    async def pair_end(
        self, interaction: discord.Interaction[LanternBot], reason: str | None = None
    ) -> None:
        """End your mentorship privately (the space becomes read-only)."""
        pair = await self._pair_here(interaction)
        if pair.status == PairStatus.ENDED:
            raise UserFacingError("This mentorship has already ended, so nothing changed.")
        assert pair.id is not None
        await self.ask_end_confirmation(interaction, pair.id, reason)

    @pair.command(name="report")
    @app_commands.describe(
        reason="What happened. Only moderators will read this",
        pause_contact="Remove the other person's access to your space until a moderator acts",
        block="Never pair you with this person again",
    )
    async def pair_report(
        self,
        interaction: discord.Interaction[LanternBot],
        reason: app_commands.Range[str, 1, 1000],
        pause_contact: bool = False,
        block: bool = False,
    ) -> None:
        """Tell moderators privately about a problem in your mentorship."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        pair = await self._pair_here(interaction)
        assert pair.id is not None and interaction.guild is not None
        me = interaction.user.id
        other = pair.mentor_id if me == pair.mentee_id else pair.mentee_id
        now = self.bot.now()
        async with self.bot.database.session() as session:
            if await q.recent_reports(session, reporter_id=me, since=now - timedelta(days=1)) >= (
                REPORTS_PER_DAY
            ):
                raise UserFacingError(
                    "You've sent several reports today, so Lantern is holding this one. If you "
                    "feel unsafe, contact a moderator directly. Your words weren't stored."
                )
            report = await q.file_report(
                session,
                guild_id=pair.guild_id,
                pair_id=pair.id,
                reporter_id=me,
                reported_id=other,
                reason_enc=self.bot.cipher.encrypt(reason),
                pause_contact=pause_contact,
                block=block,
                now=now,
            )
            paused = False
            if report is not None and pause_contact:
                role = "mentor" if other == pair.mentor_id else "mentee"
                paused = await q.pause_contact(session, pair_id=pair.id, paused_member=role)
            if report is not None and block:
                await q.add_block(
                    session, guild_id=pair.guild_id, blocker_id=me, blocked_id=other, now=now
                )
        if report is None:
            await interaction.followup.send(
                "You already reported this mentorship; the moderators have it. "
                "Nothing more was sent.",
                ephemeral=True,
            )
            return
        if paused:
            space = self._space(pair)
            if space is not None:
                await self._set_member_access(
                    space, other, discord.PermissionOverwrite(view_channel=False)
                )
        log.info("pair reported pair=%s report=%s", pair.id, report.id)
        await self.alert_moderators(
            pair.guild_id,
            f"🚩 **Private report** about pair **#{pair.id}** from {user_mention(me)} "
            f"(about {user_mention(other)}).\nContact paused: {'yes' if paused else 'no'} · "
            f"Block future pairing: {'yes' if block else 'no'}\n>>> {safe_block(reason)}\n"
            + (f"Use `/pairs resume pair:{pair.id}` or `/pairs end pair:{pair.id}`."),
        )
        parts = ["Thank you. Your report went privately to the moderators."]
        if paused:
            parts.append("The other person can't see your space until a moderator acts.")
        if block:
            parts.append("Lantern will never pair you with them again.")
        await interaction.followup.send(" ".join(parts), ephemeral=True)

    async def _mod_pair(self, interaction: discord.Interaction[Any], pair_id: int) -> Pair:
        await ensure_moderator(interaction)
        async with self.bot.database.session() as session:
            pair = await q.get_pair(session, pair_id=pair_id)
        if pair is None or pair.guild_id != interaction.guild_id:
            raise UserFacingError(f"There is no pair #{pair_id} in this server.")
        return pair

    async def _audit(self, interaction: discord.Interaction[Any], action: str, pair: Pair) -> None:
        async with self.bot.database.session() as session:
            await record_audit(
                session,
                guild_id=pair.guild_id,
                actor_id=interaction.user.id,
                action=action,
                now=self.bot.now(),
                target_id=pair.id,
            )

    @pairs.command(name="list")
    @moderator_only()
    async def pairs_list(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Pairs with names, start date and last activity (never messages)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild
        assert guild is not None
        async with self.bot.database.session() as session:
            rows = await q.list_pairs(session, guild_id=guild.id)

        def name(user_id: int) -> str:
            member = guild.get_member(user_id)
            return safe_inline(member.display_name, limit=40) if member else "(left)"

        lines = []
        for pair in rows:
            last = pair.last_activity_at.strftime("%Y-%m-%d") if pair.last_activity_at else "—"
            state = pair.status
            if pair.status == PairStatus.OPENING and pair.space_error:
                state = f"pending ({pair.space_error})"
            lines.append(
                f"**#{pair.id}** {name(pair.mentee_id)} & {name(pair.mentor_id)} · started "
                f"{pair.created_at:%Y-%m-%d} · last activity {last} · {state}"
            )
        text = "\n".join(lines) or "No active pairs yet."
        if len(text) > 1900:
            text = text[:1900].rsplit("\n", 1)[0] + "\n… (more not shown)"
        await interaction.followup.send(text, ephemeral=True)

    @pairs.command(name="end")
    @moderator_only()
    @app_commands.describe(pair="The pair number from /pairs list", reason="Kept for moderators")
    async def pairs_end(
        self, interaction: discord.Interaction[LanternBot], pair: int, reason: str | None = None
    ) -> None:
        """End a pair (the space becomes read-only, nothing is announced)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        row = await self._mod_pair(interaction, pair)
        ended = await self.end_space(
            pair, actor_id=interaction.user.id, reason=reason, cause="moderator"
        )
        if ended:
            await self._audit(interaction, "pair_end", row)
        await interaction.followup.send(
            f"Pair #{pair} has ended." if ended else f"Pair #{pair} had already ended.",
            ephemeral=True,
        )

    @pairs.command(name="recreate")
    @moderator_only()
    @app_commands.describe(pair="The pair number from /pairs list")
    async def pairs_recreate(self, interaction: discord.Interaction[LanternBot], pair: int) -> None:
        """Retry a pending pair space, or restore one that was deleted by hand."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        row = await self._mod_pair(interaction, pair)
        async with self.bot.database.session() as session:
            if row.status == PairStatus.ENDED:
                if not await q.reopen_pair(session, pair_id=pair):
                    raise UserFacingError(
                        f"Pair #{pair} was ended by its members or a moderator, so it can't be "
                        "reopened. Nothing changed."
                    )
                # Ending gave the mentor's slot back; a reopened pair takes it again.
                if not await take_mentor_slot(
                    session, guild_id=row.guild_id, mentor_id=row.mentor_id
                ):
                    raise UserFacingError(
                        f"Pair #{pair}'s mentor has since taken on as many mentees as their "
                        "capacity allows, so it can't be reopened. Nothing changed."
                    )
            elif row.status in q.LIVE and self._space(row) is None:
                await q.release_active_space(session, pair_id=pair)
        outcome = await self.open_space(pair)
        await self._audit(interaction, "pair_recreate", row)
        texts = {
            "opened": f"Pair #{pair}'s space is open again.",
            "busy": f"Pair #{pair} already has a space (or it is being created right now).",
        }
        text = texts.get(outcome) or d.space_error_help(outcome, pair)
        await interaction.followup.send(text, ephemeral=True)

    @pairs.command(name="resume")
    @moderator_only()
    @app_commands.describe(pair="The pair number from /pairs list")
    async def pairs_resume(self, interaction: discord.Interaction[LanternBot], pair: int) -> None:
        """Lift a contact pause after a report: both members see the space again."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        row = await self._mod_pair(interaction, pair)
        async with self.bot.database.session() as session:
            paused = await q.resume_contact(session, pair_id=pair)
        if paused is None:
            raise UserFacingError(f"Pair #{pair} isn't paused, so nothing changed.")
        space = self._space(row)
        user_id = row.mentor_id if paused == "mentor" else row.mentee_id
        if space is not None and paused:
            await self._set_member_access(space, user_id, overwrite_for(d.Grant(d.MEMBER_ALLOW)))
        await self._audit(interaction, "pair_resume", row)
        await interaction.followup.send(f"Pair #{pair} can talk again.", ephemeral=True)

    @pairs.command(name="settings")
    @moderator_only()
    @app_commands.describe(
        first_checkin_days="Days before the first check-in (default 14)",
        checkin_every_days="Days between later check-ins (default 30)",
        silence_days="Quiet days before a gentle nudge (default 21)",
        retention_days="Days an ended space stays readable before deletion (default 30)",
        use_threads="Open new pair spaces as private threads instead of channels",
        thread_channel="The private channel that holds pair threads",
    )
    async def pairs_settings(
        self,
        interaction: discord.Interaction[LanternBot],
        first_checkin_days: app_commands.Range[int, 1, 365] | None = None,
        checkin_every_days: app_commands.Range[int, 1, 365] | None = None,
        silence_days: app_commands.Range[int, 1, 365] | None = None,
        retention_days: app_commands.Range[int, 1, 365] | None = None,
        use_threads: bool | None = None,
        thread_channel: discord.TextChannel | None = None,
    ) -> None:
        """Check-in rhythm, quiet-time nudges, retention, and threads instead of channels."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild is not None
        changes = {
            k: v
            for k, v in {
                "first_checkin_days": first_checkin_days,
                "checkin_every_days": checkin_every_days,
                "silence_days": silence_days,
                "retention_days": retention_days,
                "use_threads": use_threads,
                "thread_channel_id": thread_channel.id if thread_channel else None,
            }.items()
            if v is not None
        }
        async with self.bot.database.session() as session:
            saved = await q.save_pair_settings(
                session, guild_id=interaction.guild.id, now=self.bot.now(), changes=changes
            )
            await record_audit(
                session,
                guild_id=interaction.guild.id,
                actor_id=interaction.user.id,
                action="pair_settings",
                now=self.bot.now(),
            )
        rhythm = d.rhythm_from(saved.model_dump())
        where = (
            f"private threads in <#{saved.thread_channel_id}>"
            if saved.use_threads and saved.thread_channel_id
            else "channels in the pair category"
        )
        await interaction.followup.send(
            f"Pair spaces: first check-in after {rhythm.first_checkin_days} days, then every "
            f"{rhythm.checkin_every_days}; a nudge after {rhythm.silence_days} quiet days; "
            f"ended spaces kept {rhythm.retention_days} days; new spaces are {where}.",
            ephemeral=True,
        )


async def setup(bot: LanternBot) -> None:
    await bot.add_cog(PairsCog(bot))
