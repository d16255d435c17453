"""Matching: mentees ask for a mentor, mentors get an introduction with Accept/Decline, and
everyone always knows where they stand. Scoring and assignment live in bot.domain.matching."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.db.models import Introduction, IntroStatus, RequestStatus
from bot.db.queries import matching as q
from bot.db.queries.setup import get_guild_settings
from bot.domain.introductions import DEFAULT_EXPIRY, expected_wait, format_hours, intro_card
from bot.domain.matching import DEFAULT_WEIGHTS, MentorPool, MentorSlot, Weights, load_weights
from bot.domain.profile import Profile
from bot.domain.text import safe_inline
from bot.errors import ExpiredComponentError, UserFacingError
from bot.gateway.components import GuardedItem, custom_id
from bot.gateway.messenger import display_name, find_member

log = logging.getLogger("lantern.matching")

NOT_READY = (
    "Lantern can look for a mentor once you've finished onboarding and agreed to matching. "
    "Run `/onboard` to pick up where you left off."
)


class MatchingError(UserFacingError):
    """A matching action that cannot happen, with the reason for the person who tried."""


def _cog(interaction: discord.Interaction[Any]) -> MatchingCog:
    cog = interaction.client.get_cog("MatchingCog")
    assert isinstance(cog, MatchingCog)
    return cog


class _IntroButton(GuardedItem):
    """What the three buttons on an introduction card share: only its mentor may press them,
    and the card's state is read back from the database, so they work after a restart."""

    action: ClassVar[str]
    label: ClassVar[str]
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init__(self, intro_id: int) -> None:
        self.intro_id = intro_id
        # super() is DynamicItem in every concrete subclass; mypy only sees the mixin's object.
        super().__init__(  # type: ignore[call-arg]
            discord.ui.Button(
                label=self.label,
                style=self.style,
                custom_id=custom_id("match", self.action, intro_id),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["id"]))

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        async with interaction.client.database.session() as session:
            intro = await q.get_introduction(session, intro_id=self.intro_id)
        if intro is None:
            raise ExpiredComponentError()
        return intro.mentor_id == interaction.user.id


class AcceptButton(
    _IntroButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:match:accept:(?P<id>\d+)",
):
    action, label, style = "accept", "Accept", discord.ButtonStyle.success

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        await _cog(interaction).accept(interaction, self.intro_id)


class DeclineButton(
    _IntroButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:match:decline:(?P<id>\d+)",
):
    action, label = "decline", "Decline"

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        await _cog(interaction).decline(interaction, self.intro_id, pause=False)


class DeclinePauseButton(
    _IntroButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:match:decline-pause:(?P<id>\d+)",
):
    action, label = "decline-pause", "Decline and pause me"

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        await _cog(interaction).decline(interaction, self.intro_id, pause=True)


class RequestButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:match:request:(?P<guild>\d+)",
):
    """ "Find me a mentor", sent after onboarding or after a pair ends. Acts for whoever clicks."""

    def __init__(self, guild_id: int, label: str = "Find me a mentor") -> None:
        self.guild_id = guild_id
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=custom_id("match", "request", guild_id),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RequestButton:
        return cls(int(match["guild"]))

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(thinking=True)
        text = await _cog(interaction).request_for(self.guild_id, interaction.user.id)
        await interaction.followup.send(text)


def intro_view(intro_id: int) -> discord.ui.View:
    """The Accept / Decline / Decline-and-pause buttons for an introduction."""
    view = discord.ui.View(timeout=None)
    view.add_item(AcceptButton(intro_id))
    view.add_item(DeclineButton(intro_id))
    view.add_item(DeclinePauseButton(intro_id))
    return view


def request_view(guild_id: int, label: str = "Find me a mentor") -> discord.ui.View:
    """A single persistent "find me a mentor" button."""
    view = discord.ui.View(timeout=None)
    view.add_item(RequestButton(guild_id, label))
    return view


class MatchingCog(commands.Cog):
    """Member and mentor commands, the introduction flow and its expiry sweep."""

    match = app_commands.Group(
        name="match", description="Find a mentor and see where you stand", guild_only=True
    )
    mentor = app_commands.Group(
        name="mentor", description="Your availability as a mentor", guild_only=True
    )

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.register_components(AcceptButton, DeclineButton, DeclinePauseButton, RequestButton)
        self.bot.register_sweep("introductions", self.run_due_introductions, every_seconds=300)
        # BRIDGE: the matching service forwards here until matching moves into bot/services.
        legacy = self.bot.services.ctx.legacy
        legacy["matching.request"] = self.request_for
        legacy["matching.status"] = self.status_text
        legacy["matching.fill_waiting"] = self.try_waiting
        legacy["matching.withdraw"] = self.on_consent_withdrawn
        legacy["matching.recount"] = self.recount_after_erase
        legacy["matching.pair_ended"] = self.on_pair_ended

    # --- helpers ------------------------------------------------------------------------------

    async def weights_for(self, guild_id: int) -> Weights:
        """The server's tuned weights, or the shipped defaults."""
        async with self.bot.database.session() as session:
            settings = await q.get_matching_settings(session, guild_id=guild_id)
        if settings is None or not settings.weights_json:
            return DEFAULT_WEIGHTS
        return load_weights(json.loads(settings.weights_json))

    async def rounds_only(self, guild_id: int) -> bool:
        """Whether this server introduces people only in moderators' batch rounds."""
        async with self.bot.database.session() as session:
            settings = await q.get_matching_settings(session, guild_id=guild_id)
        return bool(settings and settings.rounds_only)

    async def expiry_for(self, guild_id: int) -> timedelta:
        async with self.bot.database.session() as session:
            settings = await q.get_matching_settings(session, guild_id=guild_id)
        return timedelta(hours=settings.expiry_hours) if settings else DEFAULT_EXPIRY

    async def _name(self, guild_id: int, user_id: int) -> str:
        return await display_name(self.bot.get_guild(guild_id), user_id)

    async def _dm(self, user_id: int, content: str, **kwargs: Any) -> discord.Message | None:
        """DM a member; ``None`` when their DMs are closed or they are unknown."""
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            return await user.send(content, **kwargs)
        except discord.Forbidden:
            log.info("dm closed user=%s", user_id)
            return None
        except discord.HTTPException:
            log.warning("dm failed user=%s", user_id)
            return None

    # --- the flow -----------------------------------------------------------------------------

    async def request_for(self, guild_id: int, user_id: int) -> str:
        """Put a mentee on the list, introduce them if a mentor is free; say where they stand."""
        now = self.bot.now()
        async with self.bot.database.session() as session:
            found = await q.load_matchable_profile(
                session, guild_id=guild_id, user_id=user_id, cipher=self.bot.cipher
            )
            if found is None or not found[1].is_mentee:
                if found is not None:
                    return (
                        "Your profile says you're here to mentor, so there's nothing to request. "
                        "If you'd also like a mentor, change your role with `/profile`."
                    )
                return NOT_READY
            if await q.active_pair_for_mentee(session, guild_id=guild_id, mentee_id=user_id):
                return "You already have a mentor. `/match status` shows your pair."
            _request, is_new = await q.open_request(
                session, guild_id=guild_id, mentee_id=user_id, now=now
            )
        if is_new:
            log.info("match requested guild=%s mentee=%s", guild_id, user_id)
            if not await self.rounds_only(guild_id):
                await self.introduce_next(guild_id, user_id)
        return await self.status_text(guild_id, user_id)

    async def request_from_dm(self, user: discord.abc.User) -> str:
        """The plain-words "find me a mentor" from a DM: request in the member's server."""
        guilds = [g for g in self.bot.guilds if g.get_member(user.id) is not None]
        if not guilds:
            return "I couldn't find a server we share. Please use `/match request` there."
        if len(guilds) > 1:
            return "You're in several servers with Lantern — please use `/match request` there."
        return await self.request_for(guilds[0].id, user.id)

    async def introduce_next(
        self,
        guild_id: int,
        mentee_id: int,
        *,
        available: dict[int, tuple[Profile, int]] | None = None,
    ) -> Introduction | None:
        """Pick the best available mentor for a waiting mentee and send the introduction.

        ``available`` (mentor id -> profile, free slots) lets a caller introducing several
        mentees load the mentors once; the chosen mentor's free slots are lowered in it.
        """
        now = self.bot.now()
        weights = await self.weights_for(guild_id)
        expiry = await self.expiry_for(guild_id)
        async with self.bot.database.session() as session:
            found = await q.load_matchable_profile(
                session, guild_id=guild_id, user_id=mentee_id, cipher=self.bot.cipher
            )
            if found is None:
                return None
            mentee = found[1]
            if available is None:
                mentors = await q.list_available_mentors(
                    session, guild_id=guild_id, cipher=self.bot.cipher
                )
                available = {p.user_id: (p, free) for p, free in mentors}
            forbidden = await q.forbidden_mentors(session, guild_id=guild_id, mentee_id=mentee_id)
            slots = [MentorSlot(p, free) for p, free in available.values() if free > 0]
            pool = MentorPool.build(slots, weights)
            suggestions = pool.suggest(mentee, forbidden=frozenset(forbidden), k=1)
            if not suggestions:
                return None
            best = suggestions[0]
            intro = await q.create_introduction(
                session,
                guild_id=guild_id,
                mentee_id=mentee_id,
                mentor_id=best.mentor_id,
                score=best.score,
                reasons=best.reasons,
                cipher=self.bot.cipher,
                now=now,
                expires_at=now + expiry,
            )
        if intro is None:
            return None
        chosen, free = available[best.mentor_id]
        available[best.mentor_id] = (chosen, free - 1)
        log.info("introduced guild=%s intro=%s", guild_id, intro.id)
        await self.deliver_introduction(intro, mentee_reasons=best.reasons, expiry=expiry)
        return intro

    async def deliver_introduction(
        self, intro: Introduction, *, mentee_reasons: tuple[str, ...] | list[str], expiry: timedelta
    ) -> None:
        """Send the card to the mentor (DM, or a private thread in the intro channel)."""
        assert intro.id is not None
        async with self.bot.database.session() as session:
            found = await q.load_matchable_profile(
                session, guild_id=intro.guild_id, user_id=intro.mentee_id, cipher=self.bot.cipher
            )
        if found is None:
            return
        card = intro_card(
            await self._name(intro.guild_id, intro.mentee_id),
            found[1],
            mentee_reasons,
            expires_in=expiry,
        )
        message = await self._dm(intro.mentor_id, card, view=intro_view(intro.id))
        if message is None:
            message = await self._post_intro_fallback(intro, card)
        if message is not None:
            async with self.bot.database.session() as session:
                await q.remember_intro_message(
                    session, intro_id=intro.id, channel_id=message.channel.id, message_id=message.id
                )
        await self._dm(
            intro.mentee_id,
            "Good news: Lantern has introduced you to a mentor who offers what you're looking "
            f"for. They have {format_hours(expiry)} to answer, and I'll tell you as soon as "
            "they do. `/match status` shows where things stand.",
        )

    async def _post_intro_fallback(self, intro: Introduction, card: str) -> discord.Message | None:
        """The mentor's DMs are closed: a private thread in the intro channel, with only them."""
        assert intro.id is not None
        guild = self.bot.get_guild(intro.guild_id)
        async with self.bot.database.session() as session:
            settings = await get_guild_settings(session, guild_id=intro.guild_id)
        channel = (
            guild.get_channel(settings.intro_channel_id)
            if guild and settings and settings.intro_channel_id
            else None
        )
        mentor = await find_member(guild, intro.mentor_id) if guild else None
        if not isinstance(channel, discord.TextChannel) or mentor is None:
            log.warning("introduction undeliverable intro=%s", intro.id)
            return None
        try:
            # A private thread is only reachable by someone who can view its parent channel;
            # the parent holds nothing but private threads, so this reveals nothing else.
            if not channel.permissions_for(mentor).view_channel:
                await channel.set_permissions(
                    mentor,
                    view_channel=True,
                    send_messages=False,
                    send_messages_in_threads=True,
                    read_message_history=True,
                    reason="Lantern: mentor introduction (DMs closed)",
                )
            thread = await channel.create_thread(
                name="Mentor introduction",
                type=discord.ChannelType.private_thread,
                invitable=False,
            )
            await thread.add_user(mentor)
            return await thread.send(
                f"{mentor.mention} — your DMs are closed, so here is your introduction. "
                "Only you and the moderators can see this thread.\n\n" + card,
                view=intro_view(intro.id),
                allowed_mentions=discord.AllowedMentions(users=[mentor]),
            )
        except discord.HTTPException:
            log.warning("introduction fallback failed intro=%s", intro.id)
            return None

    async def accept(self, interaction: discord.Interaction[Any], intro_id: int) -> None:
        """Mentor accepted: exactly one pair, capacity never exceeded, both told."""
        async with self.bot.database.session() as session:
            outcome, intro, pair = await q.accept_introduction(
                session, intro_id=intro_id, now=self.bot.now()
            )
        if outcome == q.AcceptOutcome.MISSING or intro is None:
            raise ExpiredComponentError()
        if outcome == q.AcceptOutcome.EXPIRED:
            raise MatchingError(
                "This introduction has expired, so the mentee is being introduced to someone "
                "else. Thank you for looking!"
            )
        if outcome == q.AcceptOutcome.DECIDED:
            raise MatchingError(_already(intro.status))
        if outcome == q.AcceptOutcome.FULL:
            raise MatchingError(
                "You're already mentoring as many people as your capacity allows, so nothing "
                "changed. Raise it with `/mentor capacity`, or decline this one."
            )
        assert pair is not None
        log.info("matched guild=%s intro=%s pair=%s", intro.guild_id, intro_id, pair.id)
        mentee_name = await self._name(intro.guild_id, intro.mentee_id)
        await _close_card(
            interaction,
            f"✅ You accepted. Lantern is opening a private space for you and {mentee_name}.",
        )
        mentor_name = await self._name(intro.guild_id, intro.mentor_id)
        await self._dm(
            intro.mentee_id,
            f"🎉 {mentor_name} accepted! Lantern is opening a "
            "private space just for the two of you; you'll get a link in a moment.",
        )
        self.bot.dispatch("lantern_pair_accepted", pair.id)

    async def decline(
        self, interaction: discord.Interaction[Any], intro_id: int, *, pause: bool
    ) -> None:
        """Mentor declined: the mentee rolls on to the next mentor, kindly told."""
        now = self.bot.now()
        async with self.bot.database.session() as session:
            intro = await q.get_introduction(session, intro_id=intro_id)
            if intro is None:
                raise ExpiredComponentError()
            if not await q.decide_introduction(
                session, intro_id=intro_id, status=IntroStatus.DECLINED, now=now
            ):
                await session.refresh(intro)
                raise MatchingError(_already(intro.status))
            if pause:
                await q.set_mentor_paused(
                    session,
                    guild_id=intro.guild_id,
                    mentor_id=intro.mentor_id,
                    paused=True,
                    now=now,
                )
        log.info("declined guild=%s intro=%s pause=%s", intro.guild_id, intro_id, pause)
        note = (
            "Thanks for letting us know. You're paused, so Lantern won't send you new "
            "introductions until you run `/mentor resume`."
            if pause
            else "Thanks for letting us know — they'll be introduced to someone else."
        )
        await _close_card(interaction, "You declined. " + note)
        await self._roll_on(intro, "The mentor we introduced you to can't take anyone on right now")

    async def _roll_on(self, intro: Introduction, why: str) -> None:
        now = self.bot.now()
        async with self.bot.database.session() as session:
            await q.set_request_status(
                session,
                guild_id=intro.guild_id,
                mentee_id=intro.mentee_id,
                status=RequestStatus.WAITING,
                now=now,
                expect=(RequestStatus.INTRODUCED,),
            )
        nxt = await self.introduce_next(intro.guild_id, intro.mentee_id)
        if nxt is None:
            status = await self.status_text(intro.guild_id, intro.mentee_id)
            await self._dm(intro.mentee_id, f"{why}, so you're back on the waiting list. {status}")
        else:
            await self._dm(
                intro.mentee_id, f"{why}, so Lantern has introduced you to another mentor."
            )

    async def run_due_introductions(self, now: datetime) -> None:
        """Expire unanswered introductions (rolling on to the next mentor) and send reminders."""
        async with self.bot.database.session() as session:
            expired, reminders = await q.due_introductions(session, now=now)
        for intro in expired:
            assert intro.id is not None
            async with self.bot.database.session() as session:
                claimed = await q.decide_introduction(
                    session, intro_id=intro.id, status=IntroStatus.EXPIRED, now=now
                )
            if not claimed:
                continue
            log.info("introduction expired intro=%s", intro.id)
            await self._edit_card(
                intro, "⌛ This introduction expired and was passed on. No worries."
            )
            await self._roll_on(intro, "Your mentor introduction wasn't answered in time")
        for intro in reminders:
            assert intro.id is not None
            async with self.bot.database.session() as session:
                if not await q.mark_reminded(session, intro_id=intro.id, now=now):
                    continue
            left = format_hours(intro.expires_at - now)
            mentee_name = await self._name(intro.guild_id, intro.mentee_id)
            await self._dm(
                intro.mentor_id,
                f"A gentle reminder: {mentee_name} is waiting to "
                f"hear from you. The introduction expires in {left}.",
            )

    async def _edit_card(self, intro: Introduction, outcome: str) -> None:
        if not intro.message_channel_id or not intro.message_id:
            return
        channel = self.bot.get_channel(intro.message_channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(intro.message_channel_id)
            except discord.HTTPException:
                return
        if not isinstance(channel, discord.abc.Messageable):
            return
        try:
            message = await channel.fetch_message(intro.message_id)
            await message.edit(content=f"{message.content}\n\n{outcome}"[:2000], view=None)
        except discord.HTTPException:
            log.info("could not update intro card intro=%s", intro.id)

    async def status_text(self, guild_id: int, user_id: int) -> str:
        """Where the member stands, in one or two sentences."""
        async with self.bot.database.session() as session:
            pair = await q.active_pair_for_mentee(session, guild_id=guild_id, mentee_id=user_id)
            if pair is not None:
                mentor_name = await self._name(guild_id, pair.mentor_id)
                return (
                    f"You're matched with {mentor_name} since "
                    f"{discord.utils.format_dt(pair.created_at, 'D')}."
                )
            intro = await q.pending_introduction_for(session, guild_id=guild_id, mentee_id=user_id)
            if intro is not None:
                left = format_hours(intro.expires_at - self.bot.now())
                return (
                    "You've been introduced to a mentor and are waiting for their answer "
                    f"(they have {left} left). If they can't, you'll be introduced to someone else."
                )
            request = await q.get_request(session, guild_id=guild_id, mentee_id=user_id)
            if request is None or request.status != RequestStatus.WAITING:
                return "You haven't asked for a mentor yet. Use `/match request` when you're ready."
            ahead = await q.count_waiting_ahead(
                session, guild_id=guild_id, requested_at=request.requested_at
            )
            waits = await q.recent_wait_times(session, guild_id=guild_id)
        position = ahead + 1
        if await self.rounds_only(guild_id):
            return (
                f"You're on the waiting list, number {position}. This server's moderators "
                "introduce people in rounds, so that everyone gets the best possible fit; "
                "I'll message you as soon as you're introduced."
            )
        return (
            f"You're on the waiting list, number {position}. No mentor with free time matches "
            f"what you're looking for right now; {expected_wait(ahead, waits)}. "
            "I'll message you the moment that changes."
        )

    # --- commands -----------------------------------------------------------------------------

    @match.command(name="request")
    async def match_request(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Ask Lantern to find you a mentor."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.request_for(interaction.guild_id, interaction.user.id)
        await interaction.followup.send(text, ephemeral=True)

    @match.command(name="block")
    @app_commands.describe(member="Someone you never want to be matched with")
    async def match_block(
        self, interaction: discord.Interaction[LanternBot], member: discord.Member
    ) -> None:
        """Never be matched with this member. Private: they are not told."""
        assert interaction.guild_id is not None
        guild_id, user_id = interaction.guild_id, interaction.user.id
        if member.id == user_id:
            raise MatchingError("You can't block yourself, so nothing changed.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.now()
        async with self.bot.database.session() as session:
            new = await q.block_member(
                session, guild_id=guild_id, blocker_id=user_id, blocked_id=member.id, now=now
            )
            cancelled = await q.cancel_pending_introductions(
                session, guild_id=guild_id, member=user_id, other=member.id, now=now
            )
            paired = await q.open_pair_between(session, guild_id=guild_id, a=user_id, b=member.id)
        log.info("blocked guild=%s new=%s cancelled=%d", guild_id, new, len(cancelled))
        for intro in cancelled:
            await self._edit_card(intro, "This introduction was withdrawn. Nothing else to do.")
            await self._roll_on(intro, "The mentor we introduced you to isn't available after all")
        name = safe_inline(member.display_name, limit=80)
        text = (
            f"Done. Lantern will never match you with {name}, and they are not told."
            if new
            else f"You had already blocked {name}, so nothing changed."
        )
        if paired:
            text += (
                " You're paired with them right now: `/pair end` ends it privately, and "
                "`/pair report` reaches the moderators."
            )
        await interaction.followup.send(text, ephemeral=True)

    @match.command(name="status")
    async def match_status(self, interaction: discord.Interaction[LanternBot]) -> None:
        """See where your mentor request stands."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.status_text(interaction.guild_id, interaction.user.id)
        await interaction.followup.send(text, ephemeral=True)

    @match.command(name="cancel")
    async def match_cancel(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Stop looking for a mentor for now."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.database.session() as session:
            done = await q.set_request_status(
                session,
                guild_id=interaction.guild_id,
                mentee_id=interaction.user.id,
                status=RequestStatus.CANCELLED,
                now=self.bot.now(),
                expect=(RequestStatus.WAITING,),
            )
        text = (
            "You're off the waiting list. Use `/match request` whenever you'd like to look again."
            if done
            else "You're not on the waiting list, so nothing changed."
        )
        await interaction.followup.send(text, ephemeral=True)

    async def _set_paused(self, interaction: discord.Interaction[LanternBot], paused: bool) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.database.session() as session:
            found = await q.load_matchable_profile(
                session,
                guild_id=interaction.guild_id,
                user_id=interaction.user.id,
                cipher=self.bot.cipher,
            )
            if found is None or not found[1].is_mentor:
                raise MatchingError(
                    "You're not set up as a mentor yet. Run `/onboard` and choose "
                    "“offering mentorship” to become one."
                )
            await q.set_mentor_paused(
                session,
                guild_id=interaction.guild_id,
                mentor_id=interaction.user.id,
                paused=paused,
                now=self.bot.now(),
            )
        text = (
            "You're paused: no new introductions until you run `/mentor resume`. Your current "
            "pairs carry on as before."
            if paused
            else "Welcome back! You'll get introductions again when someone fits."
        )
        await interaction.followup.send(text, ephemeral=True)
        if not paused:
            await self.try_waiting(interaction.guild_id)

    @mentor.command(name="pause")
    async def mentor_pause(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Pause new introductions for a while."""
        await self._set_paused(interaction, True)

    @mentor.command(name="resume")
    async def mentor_resume(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Start receiving introductions again."""
        await self._set_paused(interaction, False)

    @mentor.command(name="capacity")
    @app_commands.describe(mentees="How many mentees you can support at once (1–5)")
    async def mentor_capacity(
        self, interaction: discord.Interaction[LanternBot], mentees: app_commands.Range[int, 1, 5]
    ) -> None:
        """Change how many mentees you can support at once."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        from bot.db.queries.members import save_answers

        async with self.bot.database.session() as session:
            found = await q.load_matchable_profile(
                session,
                guild_id=interaction.guild_id,
                user_id=interaction.user.id,
                cipher=self.bot.cipher,
            )
            if found is None or not found[1].is_mentor:
                raise MatchingError("You're not set up as a mentor yet. Run `/onboard` first.")
            row = await save_answers(
                session,
                guild_id=interaction.guild_id,
                user_id=interaction.user.id,
                answers={"capacity": mentees},
                cipher=self.bot.cipher,
                now=self.bot.now(),
            )
        extra = (
            f" You currently have {row.active_mentees}, so no new introductions until one ends."
            if row.active_mentees >= mentees
            else ""
        )
        await interaction.followup.send(
            f"Your capacity is now {mentees} mentee{'s' if mentees != 1 else ''}.{extra}",
            ephemeral=True,
        )
        await self.try_waiting(interaction.guild_id)

    async def try_waiting(self, guild_id: int) -> None:
        """A mentor became available: introduce waiting mentees, longest wait first (unless the
        server gathers requests for batch rounds)."""
        if await self.rounds_only(guild_id):
            return
        async with self.bot.database.session() as session:
            waiting = await q.waiting_requests(session, guild_id=guild_id)
            if not waiting:
                return
            mentors = await q.list_available_mentors(
                session, guild_id=guild_id, cipher=self.bot.cipher
            )
        available = {p.user_id: (p, free) for p, free in mentors}
        for request in waiting:
            if not any(free > 0 for _, free in available.values()):
                break
            await self.introduce_next(guild_id, request.mentee_id, available=available)

    # --- events from other features -----------------------------------------------------------

    async def on_pair_ended(self, pair_id: int) -> None:
        """Free the mentor's slot and offer the mentee a new match."""
        from bot.db.models import Pair

        async with self.bot.database.session() as session:
            pair = await session.get(Pair, pair_id)
            if pair is None:
                return
            await q.recount_mentor_slots(session, guild_id=pair.guild_id, mentor_id=pair.mentor_id)
            mentee = await q.get_request(session, guild_id=pair.guild_id, mentee_id=pair.mentee_id)
        guild = self.bot.get_guild(pair.guild_id)
        still_here = guild is not None and await find_member(guild, pair.mentee_id) is not None
        if still_here and mentee is not None:
            await self._dm(
                pair.mentee_id,
                "Whenever you're ready, Lantern can introduce you to a new mentor — just press "
                "the button below. There's no rush.",
                view=request_view(pair.guild_id, "Find me a new mentor"),
            )
        await self.try_waiting(pair.guild_id)

    async def withdraw_member(self, guild_id: int, user_id: int) -> None:
        """The member is leaving Lantern: withdraw their pending introductions kindly."""
        async with self.bot.database.session() as session:
            cancelled = await q.cancel_pending_introductions(
                session, guild_id=guild_id, member=user_id, now=self.bot.now()
            )
        for intro in cancelled:
            await self._edit_card(intro, "This introduction was withdrawn. Nothing else to do.")
            if intro.mentor_id == user_id:
                await self._roll_on(intro, "The mentor we introduced you to isn't available")

    async def recount_after_erase(self, guild_id: int, mentor_ids: set[int]) -> None:
        """Mentors whose pairs with an erased member vanished get their slots back."""
        async with self.bot.database.session() as session:
            for mentor_id in mentor_ids:
                await q.recount_mentor_slots(session, guild_id=guild_id, mentor_id=mentor_id)
        await self.try_waiting(guild_id)

    @commands.Cog.listener()
    async def on_member_remove(self, member: discord.Member) -> None:
        """Someone left the server: off the waiting list, their introductions withdrawn."""
        await self.on_consent_withdrawn(member.guild.id, member.id)

    @commands.Cog.listener("on_lantern_consent_withdrawn")
    async def on_consent_withdrawn(self, guild_id: int, user_id: int) -> None:
        """Someone withdrew consent: off the waiting list, pending introductions withdrawn."""
        async with self.bot.database.session() as session:
            await q.set_request_status(
                session,
                guild_id=guild_id,
                mentee_id=user_id,
                status=RequestStatus.CANCELLED,
                now=self.bot.now(),
                expect=(RequestStatus.WAITING, RequestStatus.INTRODUCED),
            )
        await self.withdraw_member(guild_id, user_id)

    @commands.Cog.listener("on_lantern_onboarding_completed")
    async def on_onboarding_completed(self, guild_id: int, user_id: int) -> None:
        """A new mentor may unblock the waiting list."""
        await self.try_waiting(guild_id)


def _already(status: str) -> str:
    return {
        IntroStatus.ACCEPTED: "This introduction was already accepted, so nothing changed.",
        IntroStatus.DECLINED: "This introduction was already declined, so nothing changed.",
        IntroStatus.EXPIRED: "This introduction expired and was passed on, so nothing changed.",
    }.get(status, "This introduction is no longer open, so nothing changed.")


async def _close_card(interaction: discord.Interaction[Any], outcome: str) -> None:
    """Replace the card's buttons with the outcome (after a deferred update)."""
    message = interaction.message
    content = f"{message.content}\n\n{outcome}" if message else outcome
    try:
        await interaction.edit_original_response(content=content[:2000], view=None)
    except discord.HTTPException:
        await interaction.followup.send(outcome, ephemeral=True)


async def setup(bot: LanternBot) -> None:
    await bot.add_cog(MatchingCog(bot))
