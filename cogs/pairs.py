"""Pair spaces: a private channel for every matched pair, a warm start, check-ins, a graceful
and private ending, reports, and the moderators' view (no message content, ever)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import ensure_moderator, moderator_only
from bot.client import LanternBot
from bot.db.models import GuildSettings, Pair, PairSettings, PairStatus
from bot.db.queries import pairs as q
from bot.db.queries.core import get_guild_settings, record_audit
from bot.db.queries.members import load_profile
from bot.domain import pairs as d
from bot.domain.profile import Profile
from bot.domain.text import safe_block, safe_inline
from bot.errors import ExpiredComponentError, UserFacingError
from bot.ui import GuardedItem, LanternModal, OwnedView, custom_id

log = logging.getLogger("lantern.pairs")

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REPORTS_PER_DAY = 3
ACTIVITY_THROTTLE = timedelta(minutes=1)
CHECKIN_ANSWERS = {
    "well": "Going well",
    "notmet": "We haven't met yet",
    "help": "We need help",
}


class SpacePendingError(Exception):
    """The space can't be made right now; ``error`` says why (a key of SPACE_ERRORS)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _cog(interaction: discord.Interaction[Any]) -> PairsCog:
    cog = interaction.client.get_cog("PairsCog")
    assert isinstance(cog, PairsCog)
    return cog


def _overwrite(grant: d.Grant) -> discord.PermissionOverwrite:
    flags: dict[str, bool] = {flag: True for flag in grant.allow}
    flags.update({flag: False for flag in grant.deny})
    return discord.PermissionOverwrite(**flags)


def _read_only() -> discord.PermissionOverwrite:
    return _overwrite(d.Grant(allow=d.READ_ONLY_ALLOW, deny=d.READ_ONLY_DENY))


def _mention(user_id: int) -> str:
    return f"<@{user_id}>"


# ---------------------------------------------------------------- persistent components


class PairActionButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:pairs:(?P<action>checkin|pause|end|delete):(?P<pair_id>\d+)",
):
    """Check-in, pause reminders, end, delete-now: only the pair's two members may click."""

    LABELS = {
        "checkin": ("How it's going", discord.ButtonStyle.primary),
        "pause": ("Pause reminders", discord.ButtonStyle.secondary),
        "end": ("End mentorship", discord.ButtonStyle.danger),
        "delete": ("Delete this space now", discord.ButtonStyle.danger),
    }

    def __init__(self, action: str, pair_id: int) -> None:
        label, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=custom_id("pairs", action, pair_id)
            )
        )
        self.action = action
        self.pair_id = pair_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PairActionButton:
        return cls(match["action"], int(match["pair_id"]))

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return await _cog(interaction).is_member_of(self.pair_id, interaction.user.id)

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).on_pair_button(interaction, self.action, self.pair_id)


class CheckinAnswerButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:pairs:answer:(?P<checkin_id>\d+):(?P<answer>well|notmet|help)",
):
    """One answer to a check-in. Either member may answer; a new click replaces their answer."""

    def __init__(self, checkin_id: int, answer: str) -> None:
        style = discord.ButtonStyle.success if answer == "well" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=CHECKIN_ANSWERS[answer],
                style=style,
                custom_id=custom_id("pairs", "answer", checkin_id, answer),
            )
        )
        self.checkin_id = checkin_id
        self.answer = answer

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CheckinAnswerButton:
        return cls(int(match["checkin_id"]), match["answer"])

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return await _cog(interaction).may_answer_checkin(self.checkin_id, interaction.user.id)

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).on_checkin_answer(interaction, self.checkin_id, self.answer)


def opening_view(pair_id: int) -> discord.ui.View:
    """The buttons under the opening message."""
    view = discord.ui.View(timeout=None)
    for action in ("checkin", "pause", "end"):
        view.add_item(PairActionButton(action, pair_id))
    return view


def checkin_view(checkin_id: int) -> discord.ui.View:
    """The three answers of a check-in."""
    view = discord.ui.View(timeout=None)
    for answer in CHECKIN_ANSWERS:
        view.add_item(CheckinAnswerButton(checkin_id, answer))
    return view


class EndReasonModal(LanternModal):
    """The End button asks for an optional reason (moderators only see it), then confirms."""

    reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="A note for moderators (optional)",
        custom_id="reason",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=500,
        placeholder="Only the moderators will see this. Your partner won't.",
    )

    def __init__(self, *, owner_id: int, pair_id: int) -> None:
        super().__init__(title="End this mentorship", owner_id=owner_id)
        self.pair_id = pair_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).ask_end_confirmation(
            interaction, self.pair_id, self.reason.value or None
        )


class EndConfirmView(OwnedView):
    """Are you sure? Ending is final for this match."""

    def __init__(self, *, owner_id: int, pair_id: int, reason: str | None) -> None:
        super().__init__(owner_id, timeout=600)
        self.pair_id = pair_id
        self.reason = reason

    @discord.ui.button(label="Yes, end the mentorship", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        ended = await _cog(interaction).end_space(
            self.pair_id, actor_id=interaction.user.id, reason=self.reason, cause="ended"
        )
        self.stop()
        text = (
            "Your mentorship has ended. The space is now read-only for you both and will be "
            "deleted after the retention period (use **Delete this space now** to remove it "
            "sooner). Nothing was announced publicly. Thank you for taking part. 🌱"
            if ended
            else "This mentorship had already ended, so nothing changed."
        )
        await interaction.followup.send(text, ephemeral=True)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.send_message("Nothing changed. 🌱", ephemeral=True)


# ---------------------------------------------------------------- the cog


class PairsCog(commands.Cog):
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

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Rebuild which channels are pair spaces (the activity map) from the database."""
        async with self.bot.database.session() as session:
            self.spaces.update(await q.live_spaces(session))

    # ------------------------------------------------------------ helpers

    async def _settings(self, guild_id: int) -> tuple[GuildSettings | None, PairSettings | None]:
        async with self.bot.database.session() as session:
            return (
                await get_guild_settings(session, guild_id=guild_id),
                await q.get_pair_settings(session, guild_id=guild_id),
            )

    async def _rhythm(self, guild_id: int) -> d.Rhythm:
        _, pset = await self._settings(guild_id)
        return d.rhythm_from(pset.model_dump() if pset else None)

    async def alert_moderators(self, guild_id: int, text: str) -> bool:
        """Post to the server's alerts channel, pinging no one; false if there is none."""
        settings, _ = await self._settings(guild_id)
        channel = (
            self.bot.get_channel(settings.alerts_channel_id)
            if settings and settings.alerts_channel_id
            else None
        )
        if not isinstance(channel, discord.TextChannel):
            log.warning("no alerts channel guild=%s", guild_id)
            return False
        try:
            await channel.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not alert moderators guild=%s code=%s", guild_id, exc.code)
            return False
        return True

    async def dm(self, user_id: int, text: str) -> bool:
        """A private message to one person; false if their DMs are closed."""
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text)
        except discord.HTTPException as exc:
            log.info("could not DM user=%s code=%s", user_id, exc.code)
            return False
        return True

    def _space(self, pair: Pair) -> discord.abc.Messageable | None:
        space_id = pair.channel_id or pair.thread_id
        channel = self.bot.get_channel(space_id) if space_id else None
        if isinstance(channel, discord.TextChannel | discord.Thread):
            return channel
        return None

    async def _set_member_access(
        self, channel: Any, user_id: int, overwrite: discord.PermissionOverwrite | None
    ) -> None:
        """Set (or remove) one member's overwrite, even for someone who left the server."""
        if isinstance(channel, discord.Thread):
            try:
                if overwrite is None or overwrite.view_channel is False:
                    await channel.remove_user(discord.Object(user_id))
                elif overwrite.send_messages is False:
                    await channel.edit(locked=True, archived=False)
                else:
                    await channel.add_user(discord.Object(user_id))
            except discord.HTTPException as exc:
                log.warning("thread access change failed thread=%s code=%s", channel.id, exc.code)
            return
        http = self.bot.http
        try:
            if overwrite is None:
                await http.delete_channel_permissions(channel.id, user_id)
            else:
                allow, deny = overwrite.pair()
                await http.edit_channel_permissions(
                    channel.id, user_id, str(allow.value), str(deny.value), 1
                )
        except discord.NotFound:
            pass

    async def is_member_of(self, pair_id: int, user_id: int) -> bool:
        """Whether ``user_id`` is one of the pair's two members."""
        async with self.bot.database.session() as session:
            pair = await q.get_pair(session, pair_id=pair_id)
        if pair is None:
            raise ExpiredComponentError()
        return user_id in (pair.mentee_id, pair.mentor_id)

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

    # ------------------------------------------------------------ opening a space

    @commands.Cog.listener("on_lantern_pair_accepted")
    async def on_pair_accepted(self, pair_id: int) -> None:
        """Matching accepted a pair: open its space."""
        await self.open_space(pair_id)

    async def open_space(self, pair_id: int) -> str:
        """Open the pair's space if nobody else is; returns ``opened``, ``busy`` or an error."""
        now = self.bot.now()
        async with self.bot.database.session() as session:
            if not await q.claim_space(session, pair_id=pair_id, now=now):
                return "busy"
            pair = await q.get_pair(session, pair_id=pair_id)
        assert pair is not None
        try:
            return await self._create(pair)
        except SpacePendingError as pending:
            return await self._space_failed(pair, pending.error)
        except discord.Forbidden:
            return await self._space_failed(pair, "missing_permissions")
        except discord.HTTPException as exc:
            if exc.code == 30013:
                return await self._space_failed(pair, "guild_full")
            if exc.code == 50035 and "CHANNEL_PARENT_MAX_CHANNELS" in str(exc.text):
                return await self._space_failed(pair, "category_full")
            return await self._space_failed(pair, f"discord_{exc.code or exc.status}")
        except Exception:
            log.exception("pair space creation failed pair=%s", pair_id)
            await self._space_failed(pair, "unexpected")
            raise

    async def _space_failed(self, pair: Pair, error: str) -> str:
        assert pair.id is not None
        async with self.bot.database.session() as session:
            await q.fail_space(session, pair_id=pair.id, error=error)
            first = await q.claim_error_alert(session, pair_id=pair.id, error=error)
        log.warning("pair space pending pair=%s error=%s", pair.id, error)
        if first:
            await self.alert_moderators(pair.guild_id, d.space_error_help(error, pair.id))
            for user_id in (pair.mentee_id, pair.mentor_id):
                await self.dm(user_id, d.PENDING_TEXT)
        return error

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def _create(self, pair: Pair) -> str:
        assert pair.id is not None
        guild = self.bot.get_guild(pair.guild_id)
        if guild is None:
            raise SpacePendingError("guild_unavailable")
        mentee = guild.get_member(pair.mentee_id)
        mentor = guild.get_member(pair.mentor_id)
        if mentee is None or mentor is None:
            raise SpacePendingError("member_missing")
        settings, pset = await self._settings(guild.id)
        rhythm = d.rhythm_from(pset.model_dump() if pset else None)
        moderator_role = (
            guild.get_role(settings.moderator_role_id)
            if settings and settings.moderator_role_id
            else None
        )
        moderators_see = bool(settings and settings.moderators_see_pairs)
        grants = d.space_grants(
            moderators_see=moderators_see, has_moderator_role=moderator_role is not None
        )
        targets: dict[str, Any] = {
            "everyone": guild.default_role,
            "mentee": mentee,
            "mentor": mentor,
            "bot": guild.me,
            "moderators": moderator_role,
        }
        overwrites = {targets[kind]: _overwrite(g) for kind, g in grants.items()}
        async with self._lock(guild.id):
            space, is_thread = await self._make_space(
                guild, pair, settings, pset, overwrites, moderators_see, moderator_role
            )
        now = self.bot.now()
        async with self.bot.database.session() as session:
            done = await q.complete_space(
                session,
                pair_id=pair.id,
                channel_id=None if is_thread else space.id,
                thread_id=space.id if is_thread else None,
                now=now,
                next_checkin_at=d.first_checkin(now, rhythm),
            )
        if not done:  # a moderator ended it meanwhile: leave nothing behind
            await space.delete()
            return "busy"
        self.spaces[space.id] = pair.id
        log.info("pair space created pair=%s space=%s", pair.id, space.id)
        await self._send_opening(
            pair, space, mentee, mentor, moderators_see, moderator_role, is_thread, rhythm
        )
        return "opened"

    async def _make_space(
        self,
        guild: discord.Guild,
        pair: Pair,
        settings: GuildSettings | None,
        pset: PairSettings | None,
        overwrites: dict[Any, discord.PermissionOverwrite],
        moderators_see: bool,
        moderator_role: discord.Role | None,
    ) -> tuple[discord.TextChannel | discord.Thread, bool]:
        assert pair.id is not None
        mentee = guild.get_member(pair.mentee_id)
        mentor = guild.get_member(pair.mentor_id)
        assert mentee is not None and mentor is not None
        primary = (
            guild.get_channel(settings.pair_category_id)
            if settings and settings.pair_category_id
            else None
        )
        thread_parent = (
            guild.get_channel(pset.thread_channel_id) if pset and pset.thread_channel_id else None
        )
        if not isinstance(thread_parent, discord.TextChannel):
            thread_parent = None
        async with self.bot.database.session() as session:
            extra = await q.overflow_categories(session, guild_id=guild.id)
            categories: list[discord.CategoryChannel] = []
            for row in extra:
                found = guild.get_channel(row.category_id)
                if isinstance(found, discord.CategoryChannel):
                    categories.append(found)
                else:
                    await q.forget_overflow_category(session, category_id=row.category_id)
        if isinstance(primary, discord.CategoryChannel):
            categories.insert(0, primary)
        elif not (pset and pset.use_threads and thread_parent):
            raise SpacePendingError("no_category")
        for _attempt in range(3):
            counts = [
                (c.id, d.CATEGORY_CAP if c.id in self._full_categories else len(c.channels))
                for c in categories
            ]
            placement = d.place_space(
                counts,
                guild_channels=len(guild.channels),
                prefer_threads=bool(pset and pset.use_threads),
                thread_parent=thread_parent is not None,
            )
            if placement.warn_moderators:
                await self._warn_cap(guild)
            taken = {c.name for c in guild.channels}
            name = d.pair_channel_name(mentee.display_name, mentor.display_name, taken)
            if placement.kind == "full":
                raise SpacePendingError("guild_full")
            if placement.kind == "thread":
                assert thread_parent is not None
                thread = await thread_parent.create_thread(
                    name=name,
                    type=discord.ChannelType.private_thread,
                    invitable=False,
                    reason=f"Lantern pair space #{pair.id}",
                )
                for member in (mentee, mentor):
                    await thread.add_user(member)
                return thread, True
            if placement.kind == "new_category":
                base = categories[0].name if categories else "Mentorship"
                grants = d.category_grants(
                    moderators_see=moderators_see, has_moderator_role=moderator_role is not None
                )
                targets: dict[str, Any] = {
                    "everyone": guild.default_role,
                    "bot": guild.me,
                    "moderators": moderator_role,
                }
                category = await guild.create_category(
                    d.overflow_category_name(base, placement.number),
                    overwrites={targets[k]: _overwrite(g) for k, g in grants.items()},
                    reason="Lantern: the pair category is full",
                )
                async with self.bot.database.session() as session:
                    await q.add_overflow_category(
                        session,
                        guild_id=guild.id,
                        category_id=category.id,
                        number=placement.number,
                        now=self.bot.now(),
                    )
                log.info("pair category added guild=%s number=%s", guild.id, placement.number)
                categories.append(category)
                target = category
            else:
                found = guild.get_channel(placement.category_id or 0)
                assert isinstance(found, discord.CategoryChannel)
                target = found
            try:
                channel = await guild.create_text_channel(
                    name,
                    category=target,
                    overwrites=overwrites,
                    reason=f"Lantern pair space #{pair.id}",
                )
            except discord.HTTPException as exc:
                if exc.code == 50035 and "CHANNEL_PARENT_MAX_CHANNELS" in str(exc.text):
                    self._full_categories.add(target.id)  # Discord knows better: roll over
                    continue
                raise
            return channel, False
        raise SpacePendingError("category_full")

    async def _warn_cap(self, guild: discord.Guild) -> None:
        async with self.bot.database.session() as session:
            first = await q.claim_cap_warning(session, guild_id=guild.id, now=self.bot.now())
        if first:
            await self.alert_moderators(
                guild.id,
                f"ℹ️ This server has {len(guild.channels)} channels, close to Discord's limit of "
                f"{d.GUILD_CAP}. New pair spaces can be private threads instead: "
                "`/pairs settings use_threads:True thread_channel:#a-private-channel`.",
            )

    async def _send_opening(
        self,
        pair: Pair,
        space: discord.TextChannel | discord.Thread,
        mentee: discord.Member,
        mentor: discord.Member,
        moderators_see: bool,
        moderator_role: discord.Role | None,
        is_thread: bool,
        rhythm: d.Rhythm,
    ) -> None:
        assert pair.id is not None
        async with self.bot.database.session() as session:
            mentee_profile = await load_profile(
                session, guild_id=pair.guild_id, user_id=pair.mentee_id, cipher=self.bot.cipher
            )
            mentor_profile = await load_profile(
                session, guild_id=pair.guild_id, user_id=pair.mentor_id, cipher=self.bot.cipher
            )
            reasons_enc = await q.get_reasons_enc(session, introduction_id=pair.introduction_id)
        mentee_p = mentee_profile or Profile(user_id=pair.mentee_id)
        mentor_p = mentor_profile or Profile(user_id=pair.mentor_id)
        try:
            reasons = json.loads(self.bot.cipher.decrypt(reasons_enc) or "[]")
        except ValueError:
            reasons = []
        areas = d.shared_areas(mentee_p, mentor_p) or mentee_p.areas_wanted
        opening = d.render_opening(
            mentee=mentee_p,
            mentor=mentor_p,
            mentee_name=mentee.display_name,
            mentor_name=mentor.display_name,
            mentee_mention=mentee.mention,
            mentor_mention=mentor.mention,
            reasons=[str(r) for r in reasons if isinstance(r, str)],
            starters=d.pick_starters(areas, self.starters, seed=pair.id),
            notice=d.visibility_notice(
                moderators_see=moderators_see,
                moderator_role=moderator_role.name if moderator_role else None,
                thread=is_thread,
            ),
            first_checkin_days=rhythm.first_checkin_days,
        )
        embeds = []
        for card in opening.cards:
            embed = discord.Embed(title=card.title[:256], colour=discord.Colour.gold())
            for label, value in card.fields[:25]:
                embed.add_field(name=label[:256], value=value[:1024] or "—", inline=False)
            embeds.append(embed)
        try:
            message = await space.send(
                opening.content,
                embeds=embeds,
                view=opening_view(pair.id),
                allowed_mentions=discord.AllowedMentions(users=[mentee, mentor]),
            )
        except discord.HTTPException as exc:
            log.warning("opening message failed pair=%s code=%s", pair.id, exc.code)
            return
        async with self.bot.database.session() as session:
            await q.set_opening_message(session, pair_id=pair.id, message_id=message.id)

    async def run_pending_spaces(self, now: datetime) -> None:
        """Sweep: retry spaces that failed, were never started, or were interrupted."""
        async with self.bot.database.session() as session:
            waiting = await q.pairs_to_open(
                session, now=now, grace=timedelta(minutes=2), stale=timedelta(minutes=10)
            )
        for pair_id in waiting:
            await self.open_space(pair_id)

    # ------------------------------------------------------------ activity and check-ins

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

    async def run_due_checkins(self, now: datetime) -> None:
        """Sweep: post each due check-in once (claimed in the database before sending)."""
        async with self.bot.database.session() as session:
            due = await q.due_checkins(session, now=now)
        for pair in due:
            assert pair.id is not None and pair.next_checkin_at is not None
            rhythm = await self._rhythm(pair.guild_id)
            async with self.bot.database.session() as session:
                checkin = await q.claim_checkin(
                    session,
                    pair_id=pair.id,
                    due_at=pair.next_checkin_at,
                    next_at=d.following_checkin(pair.next_checkin_at, now, rhythm),
                    now=now,
                )
            if checkin is None or checkin.id is None:
                continue
            space = self._space(pair)
            if space is None:
                log.warning("check-in skipped, no space pair=%s", pair.id)
                continue
            try:
                message = await space.send(
                    f"{_mention(pair.mentee_id)} {_mention(pair.mentor_id)} 🌱 **Check-in:** "
                    "how is your mentorship going? Each of you can answer. Your answers stay with "
                    "Lantern; moderators are told only if you ask for help.",
                    view=checkin_view(checkin.id),
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(pair.mentee_id), discord.Object(pair.mentor_id)]
                    ),
                )
            except discord.HTTPException as exc:
                log.warning("check-in send failed pair=%s code=%s", pair.id, exc.code)
                continue
            async with self.bot.database.session() as session:
                await q.mark_checkin_sent(
                    session, checkin_id=checkin.id, message_id=message.id, now=now
                )
            log.info("check-in sent pair=%s checkin=%s", pair.id, checkin.id)

    async def may_answer_checkin(self, checkin_id: int, user_id: int) -> bool:
        """Only the pair's two members answer its check-ins."""
        async with self.bot.database.session() as session:
            checkin = await q.get_checkin(session, checkin_id=checkin_id)
            pair = await q.get_pair(session, pair_id=checkin.pair_id) if checkin else None
        if pair is None:
            raise ExpiredComponentError()
        return user_id in (pair.mentee_id, pair.mentor_id)

    async def on_checkin_answer(
        self, interaction: discord.Interaction[Any], checkin_id: int, answer: str
    ) -> None:
        """Record a check-in answer; "need help" tells moderators once (pair, never content)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.now()
        async with self.bot.database.session() as session:
            checkin = await q.get_checkin(session, checkin_id=checkin_id)
            if checkin is None:
                raise ExpiredComponentError()
            _first, previous = await q.record_checkin_answer(
                session, checkin_id=checkin_id, user_id=interaction.user.id, answer=answer, now=now
            )
            pair = await q.get_pair(session, pair_id=checkin.pair_id)
        assert pair is not None
        if answer == "help" and previous != "help":
            await self.alert_moderators(
                pair.guild_id,
                f"🙋 Pair **#{pair.id}** ({_mention(pair.mentee_id)} and "
                f"{_mention(pair.mentor_id)}) asked for help at their check-in. Please reach "
                f"out to {_mention(interaction.user.id)} privately.",
            )
        replies = {
            "well": "Lovely to hear. Thank you for letting us know! 🌱",
            "notmet": (
                "Thanks for being honest: it happens. A short first call is enough; try "
                "suggesting two times that suit you, right here in your space."
            ),
            "help": (
                "Thank you for telling us. A moderator has been let know and will reach out to "
                "you privately. You can also use `/pair report` at any time."
            ),
        }
        await interaction.followup.send(replies[answer], ephemeral=True)

    async def run_silence(self, now: datetime) -> None:
        """Sweep: nudge quiet pairs gently; after repeated silence, tell moderators (once)."""
        async with self.bot.database.session() as session:
            quiet = await q.quiet_pairs(session, before=now - timedelta(days=1))
        for pair, space_row in quiet:
            assert pair.id is not None and pair.last_activity_at is not None
            rhythm = await self._rhythm(pair.guild_id)
            action = d.silence_action(
                last_activity=pair.last_activity_at,
                nudges_sent=space_row.nudges_sent,
                alerted=space_row.silence_alerted_at is not None,
                now=now,
                rhythm=rhythm,
            )
            if action == "nudge":
                async with self.bot.database.session() as session:
                    won = await q.claim_nudge(
                        session, pair_id=pair.id, nudges_seen=space_row.nudges_sent, now=now
                    )
                space = self._space(pair)
                if won and space is not None:
                    try:
                        await space.send(
                            "👋 It's been a little quiet here. No pressure: even a short "
                            "hello or a time that suits you this week keeps things going."
                        )
                    except discord.HTTPException as exc:
                        log.warning("nudge failed pair=%s code=%s", pair.id, exc.code)
            elif action == "alert":
                async with self.bot.database.session() as session:
                    won = await q.claim_silence_alert(session, pair_id=pair.id, now=now)
                if won:
                    days = (now - pair.last_activity_at).days
                    await self.alert_moderators(
                        pair.guild_id,
                        f"🔕 Pair **#{pair.id}** ({_mention(pair.mentee_id)} and "
                        f"{_mention(pair.mentor_id)}) has been quiet for {days} days after "
                        f"{space_row.nudges_sent} gentle nudges. A kind word from a moderator "
                        "may help.",
                    )

    # ------------------------------------------------------------ buttons

    async def on_pair_button(
        self, interaction: discord.Interaction[Any], action: str, pair_id: int
    ) -> None:
        """The opening message's buttons and the delete-now button."""
        if action == "end":
            await interaction.response.send_modal(
                EndReasonModal(owner_id=interaction.user.id, pair_id=pair_id)
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        if action == "checkin":
            async with self.bot.database.session() as session:
                pair = await q.get_pair(session, pair_id=pair_id)
            if pair is None or pair.status not in q.LIVE:
                raise UserFacingError("This mentorship isn't active anymore, so nothing changed.")
            await interaction.followup.send(
                "How is it going? Your answer helps Lantern look after you both.",
                view=self._ephemeral_checkin(interaction.user.id, pair_id),
                ephemeral=True,
            )
        elif action == "pause":
            async with self.bot.database.session() as session:
                space = await q.get_space(session, pair_id=pair_id)
                paused = not (space.reminders_paused if space else False)
                await q.set_reminders_paused(session, pair_id=pair_id, paused=paused)
            await interaction.followup.send(
                "Check-ins and reminders are paused. Press the button again to resume them."
                if paused
                else "Check-ins and reminders are back on.",
                ephemeral=True,
            )
        elif action == "delete":
            async with self.bot.database.session() as session:
                sooner = await q.delete_sooner(session, pair_id=pair_id, now=self.bot.now())
            if sooner:
                await interaction.followup.send(
                    "Deleting this space now. Take care! 🌱", ephemeral=True
                )
                await self.run_due_deletions(self.bot.now())
            else:
                await interaction.followup.send(
                    "This space can only be deleted after the mentorship has ended.",
                    ephemeral=True,
                )

    def _ephemeral_checkin(self, owner_id: int, pair_id: int) -> discord.ui.View:
        cog = self

        class AnytimeCheckin(OwnedView):
            pass

        view = AnytimeCheckin(owner_id, timeout=600)
        for key, label in CHECKIN_ANSWERS.items():
            button: discord.ui.Button[Any] = discord.ui.Button(label=label)

            async def callback(interaction: discord.Interaction[Any], answer: str = key) -> None:
                await interaction.response.defer(ephemeral=True)
                async with cog.bot.database.session() as session:
                    pair = await q.get_pair(session, pair_id=pair_id)
                assert pair is not None
                if answer == "help":
                    await cog.alert_moderators(
                        pair.guild_id,
                        f"🙋 Pair **#{pair_id}** ({_mention(pair.mentee_id)} and "
                        f"{_mention(pair.mentor_id)}) asked for help. Please reach out to "
                        f"{_mention(interaction.user.id)} privately.",
                    )
                await interaction.followup.send("Thank you for letting us know. 🌱", ephemeral=True)

            button.callback = callback  # type: ignore[method-assign]
            view.add_item(button)
        return view

    async def ask_end_confirmation(
        self, interaction: discord.Interaction[Any], pair_id: int, reason: str | None
    ) -> None:
        """Show the private "are you sure?" before ending."""
        await interaction.response.send_message(
            "Do you want to end this mentorship? The space becomes read-only for you both and "
            "is deleted later. Nobody else is told except the moderators"
            + (" (who will see your note)" if reason else "")
            + ".",
            view=EndConfirmView(owner_id=interaction.user.id, pair_id=pair_id, reason=reason),
            ephemeral=True,
        )

    # ------------------------------------------------------------ ending

    async def end_space(
        self,
        pair_id: int,
        *,
        actor_id: int | None,
        reason: str | None,
        cause: str,
        tell_other: str | None = None,
    ) -> bool:
        """End a pair once: revoke sending for both, schedule deletion, tell matching."""
        now = self.bot.now()
        async with self.bot.database.session() as session:
            before = await q.get_pair(session, pair_id=pair_id)
            if before is None:
                return False
            rhythm = await self._rhythm(before.guild_id)
            pair = await q.end_pair(
                session,
                pair_id=pair_id,
                ended_by_id=actor_id,
                reason_enc=self.bot.cipher.encrypt(reason) if reason else None,
                now=now,
                delete_at=now + timedelta(days=rhythm.retention_days),
                cause=cause,
            )
            space_row = await q.get_space(session, pair_id=pair_id)
        if pair is None:
            return False
        log.info("pair ended pair=%s cause=%s", pair_id, cause)
        space = self._space(pair)
        for space_id in (pair.channel_id, pair.thread_id):
            if space_id is not None:
                self.spaces.pop(space_id, None)
        if space is not None:
            paused = space_row.paused_member if space_row else None
            for role, user_id in (("mentee", pair.mentee_id), ("mentor", pair.mentor_id)):
                guild = self.bot.get_guild(pair.guild_id)
                present = guild is not None and guild.get_member(user_id) is not None
                access = _read_only() if present and paused != role else None
                try:
                    await self._set_member_access(space, user_id, access)
                except discord.HTTPException as exc:
                    log.warning("could not revoke access pair=%s code=%s", pair_id, exc.code)
            delete_day = (
                pair.delete_channel_at.strftime("%d %B %Y") if pair.delete_channel_at else "soon"
            )
            view = discord.ui.View(timeout=None)
            view.add_item(PairActionButton("delete", pair_id))
            try:
                await space.send(
                    "This mentorship has ended, so this space is now read-only. It stays here "
                    f"for you both to look back on until {delete_day}, then Lantern deletes it. "
                    "Either of you can delete it sooner. Thank you both. 🌱",
                    view=view,
                )
            except discord.HTTPException as exc:
                log.warning("closing note failed pair=%s code=%s", pair_id, exc.code)
        if reason or cause in ("moderator", "member_left", "channel_deleted"):
            note = f"Pair **#{pair_id}** ended ({cause})"
            if actor_id:
                note += f" by {_mention(actor_id)}"
            if reason:
                note += f". Their private note:\n>>> {safe_block(reason, limit=500)}"
            await self.alert_moderators(pair.guild_id, note)
        if tell_other is not None and actor_id is not None:
            other = pair.mentor_id if actor_id == pair.mentee_id else pair.mentee_id
            await self.dm(other, tell_other)
        self.bot.dispatch("lantern_pair_ended", pair_id)
        return True

    async def run_due_deletions(self, now: datetime) -> None:
        """Sweep: delete ended spaces whose retention period is over (each exactly once)."""
        async with self.bot.database.session() as session:
            due = await q.due_deletions(session, now=now)
        for pair in due:
            assert pair.id is not None
            space_id = pair.channel_id or pair.thread_id
            assert space_id is not None
            async with self.bot.database.session() as session:
                won = await q.forget_space(session, pair_id=pair.id, space_id=space_id)
            if not won:
                continue
            channel = self.bot.get_channel(space_id)
            try:
                if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
                    await channel.delete(reason=f"Lantern: pair #{pair.id} retention ended")
            except discord.NotFound:
                pass
            except discord.HTTPException as exc:
                log.warning("space deletion failed pair=%s code=%s", pair.id, exc.code)
            log.info("pair space deleted pair=%s", pair.id)

    @commands.Cog.listener()
    async def on_member_remove(self, member: discord.Member) -> None:
        """A member left: end their pairs cleanly and tell the other person kindly."""
        async with self.bot.database.session() as session:
            mine = await q.pairs_of_member(session, guild_id=member.guild.id, user_id=member.id)
        for pair in mine:
            assert pair.id is not None
            if await self.end_space(
                pair.id,
                actor_id=member.id,
                reason=None,
                cause="member_left",
                tell_other=d.kind_departure_text(left=True),
            ):
                log.info("pair ended by departure pair=%s", pair.id)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A pair space was deleted by hand: end the match and tell both people."""
        await self._space_vanished(channel.id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self._space_vanished(payload.thread_id)

    async def _space_vanished(self, space_id: int) -> None:
        async with self.bot.database.session() as session:
            pair = await q.pair_for_channel(session, channel_id=space_id)
            if pair is None or pair.id is None:
                return
            await q.forget_space(session, pair_id=pair.id, space_id=space_id)
        self.spaces.pop(space_id, None)
        if pair.status == PairStatus.ENDED:
            return
        if await self.end_space(pair.id, actor_id=None, reason=None, cause="channel_deleted"):
            for user_id in (pair.mentee_id, pair.mentor_id):
                await self.dm(user_id, d.kind_departure_text(left=False))

    # ------------------------------------------------------------ member commands

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
            f"🚩 **Private report** about pair **#{pair.id}** from {_mention(me)} "
            f"(about {_mention(other)}).\nContact paused: {'yes' if paused else 'no'} · "
            f"Block future pairing: {'yes' if block else 'no'}\n>>> {safe_block(reason)}\n"
            + (f"Use `/pairs resume pair:{pair.id}` or `/pairs end pair:{pair.id}`."),
        )
        parts = ["Thank you. Your report went privately to the moderators."]
        if paused:
            parts.append("The other person can't see your space until a moderator acts.")
        if block:
            parts.append("Lantern will never pair you with them again.")
        await interaction.followup.send(" ".join(parts), ephemeral=True)

    # ------------------------------------------------------------ moderator commands

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
            await self._set_member_access(space, user_id, _overwrite(d.Grant(d.MEMBER_ALLOW)))
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
