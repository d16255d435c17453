"""Pair spaces: opening, check-ins, care, endings, retention.

Every state change is a compare-and-set in ``bot.db.queries.pairs``, so concurrent events,
clicks and sweeps give exactly one outcome; Discord is reached only through the ``Spaces`` and
``Messenger`` ports, whose refusals come back as values. A pair ending, for any cause, is
published once as ``PairEnded`` after its transaction committed.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GuildSettings, Pair, PairSettings, PairSpace, PairStatus
from bot.db.queries import pairs as q
from bot.db.queries.circles import open_circles
from bot.db.queries.cooldowns import claim_cooldown
from bot.db.queries.matching import take_mentor_slot
from bot.db.queries.members import load_profile
from bot.db.queries.moderation import add_block, add_help_call
from bot.db.queries.setup import get_guild_settings, save_guild_settings
from bot.domain import meeting
from bot.domain import moderation as m
from bot.domain import pairs as d
from bot.domain.circles import CIRCLE_MEMBERS
from bot.domain.components import checkin_buttons, opening_buttons, pair_button
from bot.domain.profile import Profile
from bot.domain.text import Safe, user_mention
from bot.errors import ExpiredComponentError, UserFacingError
from bot.services.context import Context, Service
from bot.services.events import PairEnded
from bot.services.moderation import ModerationService
from bot.services.ports import (
    Access,
    Category,
    Layout,
    Made,
    Overwrite,
    Posted,
    Seen,
    SendFailure,
    Sent,
    Spaces,
    Target,
)

log = logging.getLogger("lantern.pairs")


def _posted(sent: Sent, what: str, pair_id: int) -> Posted | None:
    """The post; or ``None``, once the reason ``what`` failed for the pair is logged."""
    if isinstance(sent, Posted):
        return sent
    log.warning("%s failed pair=%s reason=%s", what, pair_id, sent.value)
    return None


DATA_DIR = Path(__file__).resolve().parents[2] / "data"
REPORTS_PER_DAY = 3
ACTIVITY_THROTTLE = timedelta(minutes=1)
LIVE_REFRESH = timedelta(minutes=1)  # how often a message in an unknown channel re-reads the map
OPEN_GRACE = timedelta(minutes=2)
STALE_CLAIM = timedelta(minutes=10)
OPENED = "opened"
BUSY = "busy"
CREATE_ATTEMPTS = 3
ARCHIVED_THREADS_PER_SWEEP = 100  # one page of Discord's archived-thread listing per server
PROGRESS_EVERY = 10  # spaces between progress updates when moderator access changes
INACTIVE = "inactive"  # the ending cause of a quiet space that closed
# Server locks (``Context.server_lock``): private spaces are placed one at a time per server
# (any kind of space that shares the categories must use the same purpose); one visibility
# change at a time per server.
SPACES_LOCK = "spaces"
ACCESS_LOCK = "moderator-access"

Progress = Callable[[str], Awaitable[None]]


class SpacePendingError(Exception):
    """The space can't be made right now; ``error`` says why (a key of ``SPACE_ERRORS``)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def space_error(failure: SendFailure) -> str:
    """The pending reason stored (and shown to moderators) for a refused create."""
    if failure in (SendFailure.MISSING_PERMISSIONS, SendFailure.MISSING_ACCESS):
        return "missing_permissions"
    if failure == SendFailure.CHANNEL_LIMIT:
        return "guild_full"
    if failure == SendFailure.CATEGORY_LIMIT:
        return "category_full"
    return f"discord_{failure.value}"


@dataclass(frozen=True)
class SpaceRequest:
    """A private space to make: for whom (every one of them must be in the server), why (the
    audit-log reason) and its channel name from their escaped names and the names taken."""

    guild_id: int
    member_ids: tuple[int, ...]
    reason: str
    name: Callable[[Sequence[Safe], frozenset[str]], str]


@dataclass(frozen=True)
class MadeSpace:
    """A space made: its id, whether it is a thread, the members' escaped names (in the
    request's order), and who else sees it (for the "who can see this" notice)."""

    id: int
    is_thread: bool
    names: tuple[Safe, ...]
    moderators_see: bool
    moderator_role: str | None


class ActivityMap:
    """Which live private spaces are whose (space id -> owner id, a pair's or a circle's), so
    a message costs no database read: an unknown channel re-reads the map at most once a
    ``LIVE_REFRESH`` (another process may have opened a space since). Each owner's activity is
    written at most once an ``ACTIVITY_THROTTLE`` per process."""

    def __init__(
        self, ctx: Context, read: Callable[[AsyncSession], Awaitable[dict[int, int]]]
    ) -> None:
        self.ctx = ctx
        self._read = read
        self._live: dict[int, int] | None = None
        self._live_at: datetime | None = None  # when it was read from the database
        self._touched: dict[int, datetime] = {}

    async def owner(self, space_id: int, now: datetime) -> int | None:
        """Whose live space ``space_id`` is, if anyone's."""
        stale = self._live_at is None or now - self._live_at >= LIVE_REFRESH
        if self._live is None or (space_id not in self._live and stale):
            async with self.ctx.transaction() as session:
                self._live = await self._read(session)
            self._live_at = now
        return self._live.get(space_id)

    def due(self, owner: int, now: datetime) -> bool:
        """Whether ``owner``'s activity is to be written now (then not again for a while)."""
        last = self._touched.get(owner)
        if last is not None and now - last < ACTIVITY_THROTTLE:
            return False
        self._touched[owner] = now
        return True

    def opened(self, space_id: int, owner: int) -> None:
        """This process opened a space: its first message counts at once."""
        if self._live is not None:
            self._live[space_id] = owner

    def closed(self, *space_ids: int | None) -> None:
        """A space closed or vanished: its messages no longer count."""
        for space_id in space_ids:
            if space_id is not None and self._live is not None:
                self._live.pop(space_id, None)


class PairsService(Service):
    """Pair spaces: opening, check-ins, care, endings, retention."""

    def __init__(self, ctx: Context, *, moderation: ModerationService, spaces: Spaces) -> None:
        super().__init__(ctx)
        self.moderation = moderation
        self.spaces = spaces
        self.starters = d.load_starter_library(DATA_DIR)
        self._full_categories: set[int] = set()  # categories Discord called full
        self._activity = ActivityMap(ctx, q.live_spaces)
        self._active_elsewhere: builtins.list[Callable[[int], Awaitable[None]]] = []
        self._archived_from: dict[int, int | None] = {}  # thread channel -> listing resumes at
        self._refused: dict[tuple[str, int], SendFailure] = {}  # (sweep step, guild): logged
        self._vanished: builtins.list[Callable[[int], Awaitable[None]]] = []

    def on_space_vanished(self, handler: Callable[[int], Awaitable[None]]) -> None:
        """Call ``handler`` with every vanished space that is no pair's (a circle's, say)."""
        self._vanished.append(handler)

    def on_other_activity(self, handler: Callable[[int], Awaitable[None]]) -> None:
        """Call ``handler`` with every channel a member wrote in that is no pair's space (a
        circle's, say)."""
        self._active_elsewhere.append(handler)

    # ------------------------------------------------------------ reading

    async def _settings(
        self, guild_id: int
    ) -> tuple[GuildSettings | None, PairSettings | None, builtins.list[int]]:
        async with self.ctx.transaction() as session:
            return (
                await get_guild_settings(session, guild_id=guild_id),
                await q.get_pair_settings(session, guild_id=guild_id),
                [c.category_id for c in await q.overflow_categories(session, guild_id=guild_id)],
            )

    async def _rhythm(self, guild_id: int) -> d.Rhythm:
        async with self.ctx.transaction() as session:
            return await q.get_rhythm(session, guild_id=guild_id)

    async def _get(self, pair_id: int) -> Pair | None:
        async with self.ctx.transaction() as session:
            return await q.get_pair(session, pair_id=pair_id)

    async def _pair_here(self, guild_id: int, channel_id: int, user_id: int) -> Pair:
        async with self.ctx.transaction() as session:
            pair = await q.pair_for_channel(session, channel_id=channel_id)
            if pair is None:
                mine = await q.pairs_of_member(
                    session, guild_id=guild_id, user_id=user_id, statuses=q.LIVE
                )
                if len(mine) == 1:
                    pair = mine[0]
        if pair is None or user_id not in (pair.mentee_id, pair.mentor_id):
            raise UserFacingError(d.NOT_HERE)
        return pair

    async def pair_here(
        self, guild_id: int, channel_id: int, user_id: int, *, refuse_ended: bool = False
    ) -> int:
        """The caller's pair for a /pair command: this space, or their only live pair."""
        pair = await self._pair_here(guild_id, channel_id, user_id)
        if refuse_ended and pair.status == PairStatus.ENDED:
            raise UserFacingError(d.ALREADY_ENDED)
        assert pair.id is not None
        return pair.id

    async def for_moderator(self, guild_id: int, pair_id: int) -> Pair:
        """A pair of this server, for a moderator command (else a kind refusal)."""
        pair = await self._get(pair_id)
        if pair is None or pair.guild_id != guild_id:
            raise UserFacingError(f"There is no pair #{pair_id} in this server.")
        return pair

    async def is_member(self, pair_id: int, user_id: int) -> bool:
        """Whether ``user_id`` is one of the pair's two members."""
        pair = await self._get(pair_id)
        if pair is None:
            raise ExpiredComponentError()
        return user_id in (pair.mentee_id, pair.mentor_id)

    async def may_answer_checkin(self, checkin_id: int, user_id: int) -> bool:
        """Only the pair's two members answer its check-ins."""
        async with self.ctx.transaction() as session:
            checkin = await q.get_checkin(session, checkin_id=checkin_id)
            pair = await q.get_pair(session, pair_id=checkin.pair_id) if checkin else None
        if pair is None:
            raise ExpiredComponentError()
        return user_id in (pair.mentee_id, pair.mentor_id)

    # ------------------------------------------------------------ opening

    async def open_space(self, pair_id: int) -> None:
        """Open the private space of a newly accepted pair (or leave it pending, told)."""
        await self._open(pair_id)

    async def open_pending(self, now: datetime) -> None:
        """Sweep: retry spaces that failed, were never started, or were interrupted."""
        async with self.ctx.transaction() as session:
            waiting = await q.pairs_to_open(session, now=now, grace=OPEN_GRACE, stale=STALE_CLAIM)
        for pair_id in waiting:
            await self._open(pair_id)

    async def _open(self, pair_id: int) -> str:
        """Open the space if nobody else is: ``opened``, ``busy`` or the pending reason."""
        async with self.ctx.transaction() as session:
            if not await q.claim_space(session, pair_id=pair_id, now=self.ctx.now()):
                return BUSY
            pair = await q.get_pair(session, pair_id=pair_id)
        assert pair is not None
        try:
            return await self._create(pair)
        except SpacePendingError as pending:
            return await self._space_failed(pair, pending.error)
        except Exception:
            log.exception("pair space creation failed pair=%s", pair_id)
            await self._space_failed(pair, "unexpected")
            raise

    async def _space_failed(self, pair: Pair, error: str) -> str:
        assert pair.id is not None
        async with self.ctx.transaction() as session:
            await q.fail_space(session, pair_id=pair.id, error=error)
            first = await q.claim_error_alert(session, pair_id=pair.id, error=error)
        log.warning("pair space pending pair=%s error=%s", pair.id, error)
        if first:
            await self.moderation.alert(pair.guild_id, d.space_error_help(error, pair.id))
            for user_id in (pair.mentee_id, pair.mentor_id):
                await self.ctx.messenger.dm(user_id, d.PENDING_TEXT)
        return error

    def _overwrites(
        self,
        grants: Mapping[str, d.Grant],
        guild_id: int,
        member_ids: Sequence[int],
        role_id: int | None,
    ) -> builtins.list[Overwrite]:
        targets = {
            "everyone": [Target("everyone", guild_id)],
            "bot": [Target("bot")],
            "members": [Target("member", user_id) for user_id in member_ids],
            "moderators": [Target("role", role_id or 0)],
        }
        return [
            Overwrite(target, grant) for kind, grant in grants.items() for target in targets[kind]
        ]

    async def make_space(self, request: SpaceRequest) -> MadeSpace:
        """Place and create a private space for ``request``'s members with the server's
        settings (one creation per server at a time); ``SpacePendingError`` says why not."""
        # One placement at a time per server, in every process: the overflow categories, a
        # category's count and the channel names taken are read, then used (so read them inside).
        async with self.ctx.server_lock(SPACES_LOCK, request.guild_id):
            settings, pset, overflow = await self._settings(request.guild_id)
            return await self._make(request, settings, pset, overflow)

    async def _create(self, pair: Pair) -> str:
        assert pair.id is not None
        mentee_id, mentor_id = pair.mentee_id, pair.mentor_id
        made = await self.make_space(
            SpaceRequest(
                pair.guild_id,
                (mentee_id, mentor_id),
                f"Lantern pair space #{pair.id}",
                lambda names, taken: d.pair_channel_name(names[0], names[1], taken),
            )
        )
        space_id, is_thread = made.id, made.is_thread
        rhythm = await self._rhythm(pair.guild_id)
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            done = await q.complete_space(
                session,
                pair_id=pair.id,
                channel_id=None if is_thread else space_id,
                thread_id=space_id if is_thread else None,
                now=now,
                next_checkin_at=d.first_checkin(now, rhythm),
            )
        if not done:  # a moderator ended it meanwhile: leave nothing behind
            await self.spaces.delete(space_id, reason=f"Lantern: pair #{pair.id} ended")
            return BUSY
        self._activity.opened(space_id, pair.id)
        log.info("pair space created pair=%s space=%s", pair.id, space_id)
        await self._send_opening(pair, made, rhythm)
        return OPENED

    async def _make(
        self,
        request: SpaceRequest,
        settings: GuildSettings | None,
        pset: PairSettings | None,
        overflow: builtins.list[int],
    ) -> MadeSpace:
        """Place and create the space."""
        guild_id = request.guild_id
        primary = settings.pair_category_id if settings else None
        role_id = settings.moderator_role_id if settings else None
        moderators_see = bool(settings and settings.moderators_see_pairs)
        thread_parent_id = pset.thread_channel_id if pset else None
        use_threads = bool(pset and pset.use_threads)
        categories = [c for c in (primary, *overflow) if c]

        async def survey() -> Layout:
            layout = await self.spaces.layout(
                guild_id,
                category_ids=categories,
                thread_parent_id=thread_parent_id,
                moderator_role_id=role_id,
            )
            if layout is None:
                raise SpacePendingError("guild_unavailable")
            return layout

        layout = await survey()
        for user_id in request.member_ids:
            if not await self.ctx.messenger.present(guild_id, user_id):
                raise SpacePendingError("member_missing")
        gone = [c for c in overflow if c not in layout.categories]
        if gone:
            async with self.ctx.transaction() as session:
                for category_id in gone:
                    await q.forget_overflow_category(session, category_id=category_id)
        categories = [c for c in categories if c in layout.categories]
        if primary not in layout.categories and not (use_threads and layout.thread_parent):
            raise SpacePendingError("no_category")
        names = tuple([await self.ctx.messenger.name(guild_id, u) for u in request.member_ids])
        has_role = layout.moderator_role is not None
        overwrites = self._overwrites(
            d.space_grants(moderators_see=moderators_see, has_moderator_role=has_role),
            guild_id,
            request.member_ids,
            role_id,
        )
        made: dict[int, Category] = {}  # categories made here, before the cache knows them
        reason = request.reason

        def space(made_id: int, is_thread: bool) -> MadeSpace:
            role = layout.moderator_role
            return MadeSpace(made_id, is_thread, names, moderators_see, role)

        for attempt in range(CREATE_ATTEMPTS):
            if attempt:
                layout = await survey()
            sizes = {**made, **layout.categories}
            counts = [
                (c, d.CATEGORY_CAP if c in self._full_categories else sizes[c].channels)
                for c in categories
                if c in sizes
            ]
            placement = d.place_space(
                counts,
                guild_channels=layout.channels,
                prefer_threads=use_threads,
                thread_parent=layout.thread_parent,
            )
            if placement.warn_moderators:
                await self._warn_cap(guild_id, layout.channels)
            name = request.name(names, layout.names)
            if placement.kind == "full":
                raise SpacePendingError("guild_full")
            if placement.kind == "thread":
                assert thread_parent_id is not None
                thread = await self.spaces.create_thread(
                    thread_parent_id, name, request.member_ids, reason=reason
                )
                if isinstance(thread, SendFailure):
                    raise SpacePendingError(space_error(thread))
                return space(thread.id, True)
            if placement.kind == "new_category":
                base = sizes[categories[0]].name if categories else "Mentorship"
                category = await self._add_category(
                    guild_id, base, placement.number, moderators_see, has_role, role_id
                )
                made[category.id] = Category(base, 0)
                categories.append(category.id)
                target = category.id
            else:
                assert placement.category_id is not None
                target = placement.category_id
            channel = await self.spaces.create_channel(
                guild_id, target, name, overwrites, reason=reason
            )
            if channel == SendFailure.CATEGORY_LIMIT:
                self._full_categories.add(target)  # Discord knows better: roll over
                continue
            if isinstance(channel, SendFailure):
                raise SpacePendingError(space_error(channel))
            return space(channel.id, False)
        raise SpacePendingError("category_full")

    async def _add_category(
        self,
        guild_id: int,
        base: str,
        number: int,
        moderators_see: bool,
        has_role: bool,
        role_id: int | None,
    ) -> Made:
        grants = d.category_grants(moderators_see=moderators_see, has_moderator_role=has_role)
        category = await self.spaces.create_category(
            guild_id,
            d.overflow_category_name(base, number),
            self._overwrites(grants, guild_id, (), role_id),
            reason="Lantern: the pair category is full",
        )
        if isinstance(category, SendFailure):
            raise SpacePendingError(space_error(category))
        async with self.ctx.transaction() as session:
            await q.add_overflow_category(
                session,
                guild_id=guild_id,
                category_id=category.id,
                number=number,
                now=self.ctx.now(),
            )
        log.info("pair category added guild=%s number=%s", guild_id, number)
        return category

    async def _warn_cap(self, guild_id: int, channels: int) -> None:
        async with self.ctx.transaction() as session:
            first = await q.claim_cap_warning(session, guild_id=guild_id, now=self.ctx.now())
        if first:
            await self.moderation.alert(guild_id, d.cap_warning(channels))

    async def _send_opening(self, pair: Pair, made: MadeSpace, rhythm: d.Rhythm) -> None:
        assert pair.id is not None
        space_id, names = made.id, made.names
        cipher = self.ctx.cipher
        async with self.ctx.transaction() as session:
            mentee_profile = await load_profile(
                session, guild_id=pair.guild_id, user_id=pair.mentee_id, cipher=cipher
            )
            mentor_profile = await load_profile(
                session, guild_id=pair.guild_id, user_id=pair.mentor_id, cipher=cipher
            )
            reasons_enc = await q.get_reasons_enc(session, introduction_id=pair.introduction_id)
        mentee = mentee_profile or Profile(user_id=pair.mentee_id)
        mentor = mentor_profile or Profile(user_id=pair.mentor_id)
        try:
            reasons = json.loads(cipher.decrypt(reasons_enc) or "[]")
        except ValueError:
            reasons = []
        areas = d.shared_areas(mentee, mentor) or mentee.areas_wanted
        opening = d.render_opening(
            mentee=mentee,
            mentor=mentor,
            mentee_name=names[0],
            mentor_name=names[1],
            mentee_mention=user_mention(pair.mentee_id),
            mentor_mention=user_mention(pair.mentor_id),
            reasons=[str(r) for r in reasons if isinstance(r, str)],
            starters=d.pick_starters(areas, self.starters, seed=pair.id),
            notice=d.visibility_notice(
                moderators_see=made.moderators_see,
                moderator_role=made.moderator_role,
                thread=made.is_thread,
            ),
            first_checkin_days=rhythm.first_checkin_days,
            meet=meeting.best_overlap(meeting.plan_for((mentee, mentor), self.ctx.now())),
        )
        sent = await self.spaces.post_opening(
            space_id,
            opening.content,
            opening.cards,
            buttons=opening_buttons(pair.id),
            ping=(pair.mentee_id, pair.mentor_id),
        )
        posted = _posted(sent, "opening message", pair.id)
        if posted is None:
            return
        async with self.ctx.transaction() as session:
            await q.set_opening_message(session, pair_id=pair.id, message_id=posted.message_id)

    # ------------------------------------------------------------ activity and care

    async def touch(self, channel_id: int) -> None:
        """A member wrote in ``channel_id``: if it is a pair space, note that it was active;
        any other channel goes to the ``on_other_activity`` handlers (circles)."""
        now = self.ctx.now()
        pair_id = await self._activity.owner(channel_id, now)
        if pair_id is None:
            for handler in self._active_elsewhere:
                await handler(channel_id)
            return
        if not self._activity.due(pair_id, now):
            return
        async with self.ctx.transaction() as session:
            await q.touch_activity(session, pair_id=pair_id, now=now)

    async def checkins_due(self, now: datetime) -> None:
        """Sweep: post each due check-in once (claimed in the database before sending)."""
        async with self.ctx.transaction() as session:
            due = await q.due_checkins(session, now=now)
        for pair in due:
            assert pair.id is not None and pair.next_checkin_at is not None
            rhythm = await self._rhythm(pair.guild_id)
            async with self.ctx.transaction() as session:
                checkin = await q.claim_checkin(
                    session,
                    pair_id=pair.id,
                    due_at=pair.next_checkin_at,
                    next_at=d.following_checkin(pair.next_checkin_at, now, rhythm),
                    now=now,
                )
            if checkin is None or checkin.id is None:
                continue
            space_id = pair.channel_id or pair.thread_id
            found = await self.spaces.exists(space_id) if space_id else None
            if found is False and space_id is not None:
                await self.space_vanished(space_id)
            if not found or space_id is None:
                log.warning("check-in skipped, no space pair=%s", pair.id)
                continue
            sent = await self.ctx.messenger.post(
                space_id,
                d.checkin_text(pair.mentee_id, pair.mentor_id),
                buttons=checkin_buttons(checkin.id),
                ping=(pair.mentee_id, pair.mentor_id),
            )
            posted = _posted(sent, "check-in send", pair.id)
            if posted is None:
                continue
            async with self.ctx.transaction() as session:
                await q.mark_checkin_sent(
                    session, checkin_id=checkin.id, message_id=posted.message_id, now=now
                )
            log.info("check-in sent pair=%s checkin=%s", pair.id, checkin.id)

    async def answer_checkin(self, checkin_id: int, user_id: int, answer: str) -> str:
        """Record a check-in answer; "help" tells moderators once (the pair, never content)."""
        async with self.ctx.transaction() as session:
            checkin = await q.get_checkin(session, checkin_id=checkin_id)
            if checkin is None:
                raise ExpiredComponentError()
            now = self.ctx.now()
            _first, previous = await q.record_checkin_answer(
                session, checkin_id=checkin_id, user_id=user_id, answer=answer, now=now
            )
            # Answering a check-in is a sign of life: a pair that meets elsewhere and answers
            # check-ins is not nudged, warned or closed as silent.
            await q.touch_activity(session, pair_id=checkin.pair_id, now=now)
            pair = await q.get_pair(session, pair_id=checkin.pair_id)
        assert pair is not None and pair.id is not None
        if answer == "help" and previous != "help":
            return await self._call_for_help(pair, user_id, at_checkin=True)
        return d.CHECKIN_REPLIES[answer]

    async def _call_for_help(self, pair: Pair, user_id: int, *, at_checkin: bool) -> str:
        """Store a call for help (at most one per member per cooldown), then deliver it."""
        assert pair.id is not None
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            retry_at = await claim_cooldown(
                session, subject_id=user_id, action="help", now=now, every=m.COOLDOWNS["help"]
            )
            if retry_at is not None:
                return m.cooldown_text("help", retry_at, now)
            call = await add_help_call(
                session,
                guild_id=pair.guild_id,
                pair_id=pair.id,
                user_id=user_id,
                at_checkin=at_checkin,
                now=now,
            )
        assert call.id is not None
        log.info("help asked pair=%s call=%s", pair.id, call.id)
        return m.help_thanks(delivered=await self.moderation.deliver("help", call.id))

    async def offer_checkin(self, pair_id: int) -> str:
        """The "How it's going" button: the question, if the mentorship is still live."""
        pair = await self._get(pair_id)
        if pair is None or pair.status not in q.LIVE:
            raise UserFacingError(d.NOT_ACTIVE)
        return d.ANYTIME_CHECKIN

    async def ask_help(self, pair_id: int, user_id: int, answer: str) -> str:
        """An answer to "How it's going" any time; "help" tells moderators who to reach."""
        pair = await self._get(pair_id)
        if pair is None:
            raise ExpiredComponentError()
        if answer == "help":
            return await self._call_for_help(pair, user_id, at_checkin=False)
        return d.ANYTIME_THANKS

    async def nudge_quiet(self, now: datetime) -> None:
        """Sweep: nudge quiet pairs gently; after repeated silence, tell moderators (once)."""
        async with self.ctx.transaction() as session:
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
                async with self.ctx.transaction() as session:
                    won = await q.claim_nudge(
                        session, pair_id=pair.id, nudges_seen=space_row.nudges_sent, now=now
                    )
                space_id = pair.channel_id or pair.thread_id
                if won and space_id is not None:
                    sent = await self.ctx.messenger.post(space_id, d.NUDGE_TEXT)
                    _posted(sent, "nudge", pair.id)
            elif action == "alert":
                async with self.ctx.transaction() as session:
                    won = await q.claim_silence_alert(session, pair_id=pair.id, now=now)
                if won:
                    days = (now - pair.last_activity_at).days
                    await self.moderation.alert(
                        pair.guild_id,
                        d.silence_alert(
                            pair.id, pair.mentee_id, pair.mentor_id, days, space_row.nudges_sent
                        ),
                    )

    async def close_quiet(self, now: datetime) -> None:
        """Sweep: a pair space quiet for the server's ``close_after_quiet_days`` is warned
        once, in the space, a week ahead; then, if nobody wrote, the pair ends through ``end``
        (cause ``inactive``). Pairs whose members paused reminders are warned and closed too
        (the warning says it is not a reminder); a pair paused after a report is left to the
        moderators. Every step is a compare-and-set, so two sweeps warn and end once."""
        async with self.ctx.transaction() as session:
            quiet = await q.quiet_pairs(
                session, before=now - d.QUIET_BEFORE_WARNING, paused_reminders_too=True
            )
        rhythms: dict[int, d.Rhythm] = {}
        for pair, space_row in quiet:
            assert pair.id is not None and pair.last_activity_at is not None
            if pair.guild_id not in rhythms:
                rhythms[pair.guild_id] = await self._rhythm(pair.guild_id)
            rhythm = rhythms[pair.guild_id]
            action = d.inactivity_action(
                last_activity=pair.last_activity_at,
                warned_for=space_row.quiet_warned_for,
                closes_at=space_row.quiet_closes_at,
                now=now,
                rhythm=rhythm,
            )
            if action == "warn":
                await self._warn_quiet(pair, space_row, now, rhythm)
            elif action == "end":
                await self.end(
                    pair.id,
                    actor_id=None,
                    reason=None,
                    cause=INACTIVE,
                    notify="both",
                    quiet_since=pair.last_activity_at,
                )

    async def _warn_quiet(
        self, pair: Pair, space_row: PairSpace, now: datetime, rhythm: d.Rhythm
    ) -> None:
        """Claim, then post, the one closing warning of a quiet pair; a post that fails gives
        the claim back (the next sweep tries again), a space that is gone ends the match."""
        assert pair.id is not None and pair.last_activity_at is not None
        space_id = pair.channel_id or pair.thread_id
        if space_id is None:
            return
        closes_at = d.closing_date(pair.last_activity_at, now, rhythm)
        async with self.ctx.transaction() as session:
            won = await q.claim_quiet_warning(
                session,
                pair_id=pair.id,
                quiet_since=pair.last_activity_at,
                seen=space_row.quiet_closes_at,
                closes_at=closes_at,
            )
        if not won:
            return
        text = d.quiet_warning(
            pair.mentee_id,
            pair.mentor_id,
            quiet_since=pair.last_activity_at,
            closes_at=closes_at,
            reminders_paused=space_row.reminders_paused,
        )
        sent = await self.ctx.messenger.post(space_id, text, ping=(pair.mentee_id, pair.mentor_id))
        if _posted(sent, "closing warning", pair.id) is not None:
            log.info("quiet space warned pair=%s", pair.id)
            return
        async with self.ctx.transaction() as session:
            await q.release_quiet_warning(session, pair_id=pair.id, closes_at=closes_at)
        if await self.spaces.exists(space_id) is False:
            await self.space_vanished(space_id)

    async def toggle_reminders(self, pair_id: int) -> str:
        """Pause or resume the pair's check-ins and nudges; what happened."""
        async with self.ctx.transaction() as session:
            space = await q.get_space(session, pair_id=pair_id)
            paused = not (space.reminders_paused if space else False)
            await q.set_reminders_paused(session, pair_id=pair_id, paused=paused)
        return d.REMINDERS_PAUSED if paused else d.REMINDERS_ON

    async def report(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        reason: str,
        *,
        pause_contact: bool,
        block: bool,
    ) -> str:
        """A private report to moderators; may pause contact and block future pairing.

        Stored first, then delivered (the sweep retries what could not be); the reporter is told
        only what really happened."""
        pair = await self._pair_here(guild_id, channel_id, user_id)
        assert pair.id is not None
        other = pair.mentor_id if user_id == pair.mentee_id else pair.mentee_id
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            since = now - timedelta(days=1)
            recent = await q.recent_reports(session, reporter_id=user_id, since=since)
            if len(recent) >= REPORTS_PER_DAY:
                raise UserFacingError(m.reports_held(recent[0] + timedelta(days=1), now))
            if await q.has_reported(session, pair_id=pair.id, reporter_id=user_id):
                return d.ALREADY_REPORTED
            # Claimed before anything is written: a held report stores nothing.
            retry_at = await claim_cooldown(
                session, subject_id=user_id, action="report", now=now, every=m.COOLDOWNS["report"]
            )
            if retry_at is not None:
                raise UserFacingError(m.cooldown_text("report", retry_at, now))
            report = await q.file_report(
                session,
                guild_id=pair.guild_id,
                pair_id=pair.id,
                reporter_id=user_id,
                reported_id=other,
                reason_enc=self.ctx.cipher.encrypt(reason),
                pause_contact=pause_contact,
                block=block,
                now=now,
            )
            if report is None:
                return d.ALREADY_REPORTED
            paused = False
            if pause_contact:
                role = "mentor" if other == pair.mentor_id else "mentee"
                paused = await q.pause_contact(session, pair_id=pair.id, paused_member=role)
            if block:
                await add_block(
                    session, guild_id=pair.guild_id, blocker_id=user_id, blocked_id=other, now=now
                )
        assert report.id is not None
        space_id = pair.channel_id or pair.thread_id
        pause_failed = False
        if paused and space_id is not None:
            failed = await self.spaces.set_access(space_id, other, Access.HIDDEN)
            if failed is not None:  # the space did not change: neither does the pair
                log.warning("contact pause failed pair=%s reason=%s", pair.id, failed.value)
                async with self.ctx.transaction() as session:
                    await q.resume_contact(session, pair_id=pair.id)
                paused, pause_failed = False, True
        log.info("pair reported pair=%s report=%s", pair.id, report.id)
        delivered = await self.moderation.deliver("report", report.id)
        return m.report_thanks(
            delivered=delivered, paused=paused, pause_failed=pause_failed, block=block
        )

    # ------------------------------------------------------------ endings

    async def end(
        self,
        pair_id: int,
        *,
        actor_id: int | None,
        reason: str | None,
        cause: str,
        tell_other: str | None = None,
        notify: str | None = None,
        quiet_since: datetime | None = None,
    ) -> bool:
        """End a pair once: revoke sending for both, schedule deletion, publish ``PairEnded``.

        ``notify``: ``partner`` tells the one who did not end it, ``both`` tells both (a
        moderator ended it, or its quiet space closed), kindly and privately; ``tell_other``
        sends a given text instead. ``quiet_since``: end only if nobody wrote since then and
        the space was warned about that silence (a quiet space closing).
        """
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            before = await q.get_pair(session, pair_id=pair_id)
            if before is None:
                return False
            rhythm = await q.get_rhythm(session, guild_id=before.guild_id)
            pair = await q.end_pair(
                session,
                pair_id=pair_id,
                ended_by_id=actor_id,
                reason_enc=self.ctx.cipher.encrypt(reason) if reason else None,
                now=now,
                delete_at=now + timedelta(days=rhythm.retention_days),
                cause=cause,
                quiet_since=quiet_since,
            )
            space_row = await q.get_space(session, pair_id=pair_id)
        if pair is None:
            return False
        log.info("pair ended pair=%s cause=%s", pair_id, cause)
        space_id = pair.channel_id or pair.thread_id
        self._activity.closed(pair.channel_id, pair.thread_id)
        if space_id is not None:
            paused = space_row.paused_member if space_row else None
            for role, user_id in (("mentee", pair.mentee_id), ("mentor", pair.mentor_id)):
                present = await self.ctx.messenger.present(pair.guild_id, user_id)
                access = Access.READ_ONLY if present and paused != role else Access.REMOVED
                failed = await self.spaces.set_access(space_id, user_id, access)
                if failed is not None:
                    log.warning("could not revoke access pair=%s reason=%s", pair_id, failed)
            sent = await self.ctx.messenger.post(
                space_id,
                d.closing_note(pair.delete_channel_at, quiet=cause == INACTIVE),
                buttons=(pair_button("delete", pair_id),),
            )
            _posted(sent, "closing note", pair_id)
        if notify is not None:
            await self._tell_ended(pair, actor_id if notify == "partner" else None, cause)
        if reason or cause in ("moderator", "member_left", "channel_deleted", INACTIVE):
            await self.moderation.alert(
                pair.guild_id, d.ended_note(pair_id, cause, actor_id, reason)
            )
        if tell_other is not None and actor_id is not None:
            other = pair.mentor_id if actor_id == pair.mentee_id else pair.mentee_id
            await self.ctx.messenger.dm(other, tell_other)
        await self.ctx.events.pair_ended(
            PairEnded(pair_id, pair.guild_id, pair.mentee_id, pair.mentor_id, cause, actor_id)
        )
        return True

    async def _tell_ended(self, pair: Pair, by_member: int | None, cause: str) -> None:
        """Tell whoever did not end the pair, privately: ``by_member``'s partner, or both
        members when a moderator ended it or its quiet space closed. Never the private note
        (that is for moderators)."""
        messenger = self.ctx.messenger
        server = await messenger.guild_name(pair.guild_id)
        name = await messenger.name(pair.guild_id, by_member) if by_member else None
        for user_id in (pair.mentee_id, pair.mentor_id):
            if user_id == by_member or not await messenger.present(pair.guild_id, user_id):
                continue
            mentor = user_id == pair.mentor_id
            text = (
                d.quiet_ended_text(
                    server=server,
                    mentor=mentor,
                    quiet_since=pair.last_activity_at,
                    delete_on=pair.delete_channel_at,
                )
                if cause == INACTIVE
                else d.partner_ended_text(
                    ended_by=name, server=server, mentor=mentor, delete_on=pair.delete_channel_at
                )
            )
            sent = await messenger.dm(user_id, text)
            if isinstance(sent, SendFailure):
                log.warning("ending not told pair=%s reason=%s", pair.id, sent.value)

    async def still_open(self, pair_id: int, user_id: int) -> bool:
        """Whether one of the pair's two members may still end it (an expired "are you sure?")."""
        pair = await self._get(pair_id)
        if pair is None or user_id not in (pair.mentee_id, pair.mentor_id):
            raise UserFacingError(d.NOT_HERE)
        return pair.status != PairStatus.ENDED

    async def member_end(self, pair_id: int, actor_id: int, reason: str | None) -> str:
        """One of the two ends their mentorship: the other is told kindly; what to answer."""
        ended = await self.end(
            pair_id, actor_id=actor_id, reason=reason, cause="ended", notify="partner"
        )
        return d.ENDED_BY_YOU if ended else d.HAD_ENDED

    async def end_all_of(
        self, guild_id: int, user_id: int, *, cause: str, tell_other: str
    ) -> builtins.list[Pair]:
        """End every open pair of a member who is leaving; the pairs ended."""
        async with self.ctx.transaction() as session:
            mine = await q.pairs_of_member(session, guild_id=guild_id, user_id=user_id)
        ended = []
        for pair in mine:
            assert pair.id is not None
            if await self.end(
                pair.id, actor_id=user_id, reason=None, cause=cause, tell_other=tell_other
            ):
                ended.append(pair)
        return ended

    async def moderator_end(
        self, guild_id: int, actor_id: int, pair_id: int, reason: str | None
    ) -> str:
        """/pairs end: end a pair of this server, with one audit entry."""
        await self.for_moderator(guild_id, pair_id)
        ended = await self.end(
            pair_id, actor_id=actor_id, reason=reason, cause="moderator", notify="both"
        )
        if ended:
            await self.moderation.audit(guild_id, actor_id, "pair_end", target_id=pair_id)
        return f"Pair #{pair_id} has ended." if ended else f"Pair #{pair_id} had already ended."

    async def space_vanished(self, space_id: int) -> None:
        """A private space was deleted (by hand, or while Lantern was away): a pair's ends the
        match; any other is passed to the ``on_space_vanished`` handlers (circles)."""
        async with self.ctx.transaction() as session:
            await q.claim_leftover_space(session, space_id=space_id)  # gone: nothing to delete
            pair = await q.pair_for_channel(session, channel_id=space_id)
            if pair is not None and pair.id is not None:
                await q.forget_space(session, pair_id=pair.id, space_id=space_id)
        if pair is None or pair.id is None:
            for handler in self._vanished:
                await handler(space_id)
            return
        self._activity.closed(space_id)
        if pair.status == PairStatus.ENDED:
            return
        if await self.end(pair.id, actor_id=None, reason=None, cause="channel_deleted"):
            for user_id in (pair.mentee_id, pair.mentor_id):
                await self.ctx.messenger.dm(user_id, d.kind_departure_text(left=False))

    async def space_missing(self, space_id: int) -> None:
        """A post to a private space found no channel: if Discord confirms it is gone, it
        vanished (``space_vanished``); a passing fault changes nothing."""
        if await self.spaces.exists(space_id) is False:
            await self.space_vanished(space_id)

    # ------------------------------------------------------------ retention

    async def delete_due(self, now: datetime) -> int:
        """Sweep: delete ended spaces whose retention period is over (each exactly once)."""
        async with self.ctx.transaction() as session:
            due = await q.due_deletions(session, now=now)
        deleted = 0
        for pair in due:
            if await self._delete(pair):
                deleted += 1
        deleted += await self._delete_leftovers(now)
        return deleted + await self._delete_orphans(now)

    async def keep_leftover_spaces(self, user_id: int) -> int:
        """Before a member's pairs are erased: record each space they still hold, so retention
        deletes it on the pair's date (the partner may read it until then); how many."""
        async with self.ctx.transaction() as session:
            return await q.record_leftover_spaces(session, user_id=user_id, now=self.ctx.now())

    async def _delete_leftovers(self, now: datetime) -> int:
        """Spaces whose pair was erased with a member's data (channels and threads alike), once
        their retention period is over: each deleted once (one already gone counts)."""
        async with self.ctx.transaction() as session:
            due = await q.due_leftover_spaces(session, now=now)
        deleted = 0
        for space in due:
            async with self.ctx.transaction() as session:
                won = await q.claim_leftover_space(session, space_id=space.space_id)
            if not won:
                continue
            failed = await self.spaces.delete(
                space.space_id, reason="Lantern: a pair space without its pair, retention ended"
            )
            if failed in (SendFailure.RATE_LIMITED, SendFailure.SERVER_ERROR):
                async with self.ctx.transaction() as session:
                    await q.put_back_leftover_space(session, space=space)
                log.warning(
                    "leftover deletion postponed space=%s reason=%s", space.space_id, failed
                )
                continue
            if failed is not None:
                log.warning("leftover deletion failed space=%s reason=%s", space.space_id, failed)
                continue
            log.info(
                "leftover pair space deleted guild=%s space=%s", space.guild_id, space.space_id
            )
            deleted += 1
        return deleted

    async def _delete_orphans(self, now: datetime) -> int:
        """Pair channels no pair holds any more (a member erased their data, a creation was
        interrupted) are deleted like any ended space: once quiet for the retention period."""
        async with self.ctx.transaction() as session:
            guilds = await q.guilds_with_pair_categories(session)
        deleted = 0
        for guild_id, category_ids in guilds.items():
            seen = await self.spaces.pair_channels(guild_id, category_ids)
            if seen:
                deleted += await self._delete_unknown(guild_id, "channel", seen, now)
        return deleted + await self._delete_orphan_threads(now)

    async def _delete_orphan_threads(self, now: datetime) -> int:
        """The same for the private pair threads in each thread-mode server's thread channel:
        the active ones every sweep, and ``ARCHIVED_THREADS_PER_SWEEP`` archived ones, the next
        sweep going on where this one stopped (a listing costs Discord requests)."""
        async with self.ctx.transaction() as session:
            parents = await q.guilds_with_pair_threads(session)
        deleted = 0
        for guild_id, parent_id in parents.items():
            found = await self.spaces.pair_threads(
                guild_id,
                parent_id,
                archived_before=self._archived_from.get(parent_id),
                archived_limit=ARCHIVED_THREADS_PER_SWEEP,
            )
            if isinstance(found, SendFailure):
                self._refused_once("orphan thread listing", guild_id, found)
                continue
            if found is None:
                continue
            self._refused.pop(("orphan thread listing", guild_id), None)
            self._archived_from[parent_id] = found.archived_before
            if found.threads:
                deleted += await self._delete_unknown(guild_id, "thread", found.threads, now)
        return deleted

    async def _delete_unknown(
        self, guild_id: int, kind: str, seen: builtins.list[Seen], now: datetime
    ) -> int:
        """Delete the spaces (of ``kind``) in ``seen`` that no pair or leftover row knows, once
        quiet for the server's retention period; how many. Without the permission to delete
        them, the server is skipped until the next sweep."""
        async with self.ctx.transaction() as session:
            known = await q.known_space_ids(session, guild_id=guild_id)
            rhythm = await q.get_rhythm(session, guild_id=guild_id)
        keep = timedelta(days=rhythm.retention_days)
        deleted = 0
        for space in seen:
            if space.id in known or space.last_active + keep > now:
                continue
            failed = await self.spaces.delete(
                space.id, reason="Lantern: a pair space without its pair, retention ended"
            )
            if failed == SendFailure.MISSING_PERMISSIONS:
                self._refused_once(f"orphan {kind} deletion", guild_id, failed)
                break
            if failed is not None:
                log.warning("orphan deletion failed space=%s reason=%s", space.id, failed)
                continue
            self._refused.pop((f"orphan {kind} deletion", guild_id), None)
            log.info("orphaned pair space deleted guild=%s space=%s", guild_id, space.id)
            deleted += 1
        return deleted

    def _refused_once(self, what: str, guild_id: int, failure: SendFailure) -> None:
        """Log a sweep's refusal in a server once (it comes back every sweep until an admin
        grants the permission), and again only for another reason or after a success."""
        if self._refused.get((what, guild_id)) != failure:
            self._refused[(what, guild_id)] = failure
            log.warning("%s refused guild=%s reason=%s", what, guild_id, failure.value)

    async def _delete(self, pair: Pair) -> bool:
        assert pair.id is not None
        space_id = pair.channel_id or pair.thread_id
        if space_id is None:
            return False
        async with self.ctx.transaction() as session:
            won = await q.forget_space(session, pair_id=pair.id, space_id=space_id)
        if not won:
            return False
        failed = await self.spaces.delete(
            space_id, reason=f"Lantern: pair #{pair.id} retention ended"
        )
        if failed is not None:
            log.warning("space deletion failed pair=%s reason=%s", pair.id, failed.value)
        log.info("pair space deleted pair=%s", pair.id)
        return True

    async def delete_now(self, pair_id: int, *, notify: Callable[[str], Awaitable[None]]) -> None:
        """An ended pair's member deletes the space now; ``notify`` tells them before it goes
        (the reply must leave before the channel it answers in disappears)."""
        async with self.ctx.transaction() as session:
            sooner = await q.delete_sooner(session, pair_id=pair_id, now=self.ctx.now())
            pair = await q.get_pair(session, pair_id=pair_id) if sooner else None
        if pair is None:
            raise UserFacingError(d.DELETE_ONLY_ENDED)
        await notify(d.DELETING_NOW)
        await self._delete(pair)

    # ------------------------------------------------------------ moderators

    async def recreate(self, guild_id: int, actor_id: int, pair_id: int) -> str:
        """Retry a pending space, or restore one deleted by hand (taking the slot again)."""
        row = await self.for_moderator(guild_id, pair_id)
        space_id = row.channel_id or row.thread_id
        gone = row.status in q.LIVE and (
            space_id is None or await self.spaces.exists(space_id) is False
        )
        async with self.ctx.transaction() as session:
            if row.status == PairStatus.ENDED:
                if not await q.reopen_pair(session, pair_id=pair_id):
                    raise UserFacingError(
                        f"Pair #{pair_id} was ended by its members or a moderator, so it can't "
                        "be reopened. Nothing changed."
                    )
                # Ending gave the mentor's slot back; a reopened pair takes it again.
                if not await take_mentor_slot(
                    session, guild_id=row.guild_id, mentor_id=row.mentor_id
                ):
                    raise UserFacingError(
                        f"Pair #{pair_id}'s mentor has since taken on as many mentees as their "
                        "capacity allows, so it can't be reopened. Nothing changed."
                    )
            elif gone:
                await q.release_active_space(session, pair_id=pair_id)
        outcome = await self._open(pair_id)
        await self.moderation.audit(guild_id, actor_id, "pair_recreate", target_id=pair_id)
        texts = {
            OPENED: f"Pair #{pair_id}'s space is open again.",
            BUSY: f"Pair #{pair_id} already has a space (or it is being created right now).",
        }
        return texts.get(outcome) or d.space_error_help(outcome, pair_id)

    async def resume_contact(self, guild_id: int, actor_id: int, pair_id: int) -> str:
        """Lift a contact pause after a report: both members see the space again."""
        row = await self.for_moderator(guild_id, pair_id)
        async with self.ctx.transaction() as session:
            paused = await q.resume_contact(session, pair_id=pair_id)
        if paused is None:
            raise UserFacingError(f"Pair #{pair_id} isn't paused, so nothing changed.")
        space_id = row.channel_id or row.thread_id
        user_id = row.mentor_id if paused == "mentor" else row.mentee_id
        if space_id is not None and paused:
            await self.spaces.set_access(space_id, user_id, Access.MEMBER)
        await self.moderation.audit(guild_id, actor_id, "pair_resume", target_id=pair_id)
        return f"Pair #{pair_id} can talk again."

    async def save_settings(
        self,
        guild_id: int,
        actor_id: int,
        changes: dict[str, Any],
        *,
        progress: Progress | None = None,
    ) -> str:
        """Save the server's pair-space settings (audited); the result in a sentence. Whether
        moderators see pair spaces (``moderators_see_pairs``) applies to the existing ones too."""
        changes = dict(changes)
        close_after = changes.get("close_after_quiet_days")
        problem = d.close_after_problem(close_after) if close_after is not None else None
        if problem:
            raise UserFacingError(problem)
        see = changes.pop("moderators_see_pairs", None)
        toggled = False
        async with self.ctx.transaction() as session:
            saved = await q.save_pair_settings(
                session, guild_id=guild_id, now=self.ctx.now(), changes=changes
            )
            if see is not None:
                current = await get_guild_settings(session, guild_id=guild_id)
                toggled = bool(current and current.moderators_see_pairs) != see
                if toggled:
                    await save_guild_settings(
                        session,
                        guild_id=guild_id,
                        now=self.ctx.now(),
                        changes={"moderators_see_pairs": see},
                    )
        await self.moderation.audit(guild_id, actor_id, "pair_settings")
        text = d.settings_summary(
            d.rhythm_from(saved.model_dump()),
            thread_channel_id=saved.thread_channel_id if saved.use_threads else None,
        )
        problem = await self._thread_permission_problem(saved)
        if problem:
            text += "\n" + problem
        if toggled:
            text += "\n" + await self.apply_moderator_access(guild_id, progress=progress)
        elif see is not None:
            text += "\n" + d.moderator_access_unchanged(see=see)
        return text

    async def thread_permission_problem(self, guild_id: int) -> str | None:
        """In thread mode, what to tell moderators when Lantern could not delete pair threads
        at retention (Discord asks Manage Threads for that); ``None`` when all is well."""
        async with self.ctx.transaction() as session:
            pset = await q.get_pair_settings(session, guild_id=guild_id)
        return await self._thread_permission_problem(pset)

    async def _thread_permission_problem(self, pset: PairSettings | None) -> str | None:
        channel_id = pset.thread_channel_id if pset and pset.use_threads else None
        if channel_id and await self.spaces.can_manage_threads(channel_id) is False:
            return d.threads_need_manage_threads(channel_id)
        return None

    async def apply_moderator_access(
        self,
        guild_id: int,
        *,
        previous_role_id: int | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Apply the saved "moderators see pair spaces" choice (and moderator role) to every
        existing pair space and pair category; each live pair is told in its space. What was
        changed, in sentences; ``progress`` hears every ``PROGRESS_EVERY`` spaces of many."""
        async with self.ctx.server_lock(ACCESS_LOCK, guild_id):
            settings, _pset, overflow = await self._settings(guild_id)
            see = bool(settings and settings.moderators_see_pairs)
            role_id = settings.moderator_role_id if settings else None
            async with self.ctx.transaction() as session:
                spaces = await q.spaces_of_guild(session, guild_id=guild_id)
                circles = await open_circles(session, guild_id=guild_id)
            layout = await self.spaces.layout(
                guild_id, category_ids=(), thread_parent_id=None, moderator_role_id=role_id
            )
            role = layout.moderator_role if layout else None
            grant = d.Grant(allow=d.MODERATOR_ALLOW) if see else None
            old = previous_role_id if previous_role_id not in (None, role_id) else None
            primary = settings.pair_category_id if settings else None
            for category_id in (c for c in (primary, *overflow) if c):
                await self._moderator_access(category_id, role_id if role else None, grant, old)
            # Circle spaces follow the same choice as pair spaces (and are told the same way).
            pair_members = "the two of you"
            channels = [
                (p.channel_id, p.status in q.LIVE, p.id or 0, pair_members) for p in spaces
            ] + [(c.channel_id, True, 0, CIRCLE_MEMBERS) for c in circles]
            channels = [entry for entry in channels if entry[0] is not None]
            changed = failed = 0
            for index, (channel_id, live, pair_id, members) in enumerate(channels, 1):
                assert channel_id is not None
                ok = await self._moderator_access(channel_id, role_id if role else None, grant, old)
                if not ok:
                    failed += 1
                elif role is not None:
                    changed += 1
                    if live:
                        note = d.moderator_access_note(see=see, role=role, members=members)
                        sent = await self.ctx.messenger.post(channel_id, note)
                        _posted(sent, "visibility note", pair_id)
                total = len(channels)
                if progress and total > PROGRESS_EVERY and index % PROGRESS_EVERY == 0:
                    if index < total:
                        await progress(d.moderator_access_progress(index, total))
        log.info(
            "moderator access applied guild=%s see=%s changed=%s failed=%s",
            guild_id,
            see,
            changed,
            failed,
        )
        return d.moderator_access_summary(
            see=see,
            role=role,
            changed=changed,
            failed=failed,
            threads=len(spaces) + len(circles) - len(channels),
            old_role_removed=old is not None and bool(channels) and not failed,
        )

    async def _moderator_access(
        self, channel_id: int, role_id: int | None, grant: d.Grant | None, old: int | None
    ) -> bool:
        """The moderator role's overwrite on one channel or category; whether it all went."""
        failures = []
        if role_id is not None:
            failures.append(await self.spaces.set_role_access(channel_id, role_id, grant))
        if old is not None:
            failures.append(await self.spaces.set_role_access(channel_id, old, None))
        return not any(f is not None for f in failures)

    async def list(self, guild_id: int) -> str:
        """Pairs with names, start date and last activity (never messages)."""
        async with self.ctx.transaction() as session:
            rows = await q.list_pairs(session, guild_id=guild_id)
        listed: builtins.list[d.Listed] = []
        name = self.ctx.messenger.name
        for pair in rows:
            assert pair.id is not None
            state = str(pair.status)
            if pair.status == PairStatus.OPENING and pair.space_error:
                state = f"pending ({pair.space_error})"
            listed.append(
                d.Listed(
                    pair.id,
                    await name(guild_id, pair.mentee_id, ""),
                    await name(guild_id, pair.mentor_id, ""),
                    pair.created_at,
                    pair.last_activity_at,
                    state,
                )
            )
        return d.pairs_list_text(listed)
