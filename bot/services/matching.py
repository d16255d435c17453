"""Matching: requests, introductions, accepts and declines, rounds.

``introduce`` is the one place an introduction is created and delivered, for a member's request
(and the waiting list), a moderator's round and a moderator's manual introduction alike; it
re-checks consent, pause, capacity, blocks and open pairs every time and says why it refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.db.models import ConsentStatus, Introduction, IntroStatus, RequestStatus
from bot.db.queries import matching as q
from bot.db.queries.cooldowns import claim_cooldown
from bot.db.queries.members import get_member_profile, save_answers
from bot.db.queries.setup import get_guild_settings
from bot.domain import introductions as say
from bot.domain.components import intro_buttons, request_button
from bot.domain.introductions import DEFAULT_EXPIRY, Skip, expected_wait, intro_card
from bot.domain.matching import (
    DEFAULT_WEIGHTS,
    Assignment,
    MentorPool,
    MentorSlot,
    RoundPhase,
    Weights,
    WeightsError,
    load_weights,
)
from bot.domain.matching.batch import PackedRound, RoundJob, pack, solve
from bot.domain.moderation import COOLDOWNS, cooldown_text
from bot.domain.profile import Profile
from bot.domain.text import Safe
from bot.errors import ExpiredComponentError, UserFacingError
from bot.services.context import Context, Service
from bot.services.events import PairEnded
from bot.services.mentor_pool import MentorPools
from bot.services.moderation import ModerationService
from bot.services.pairs import PairsService
from bot.services.ports import ComputeFailed, Posted

log = logging.getLogger("lantern.matching")

PROGRESS_EVERY = 10
ROUND_PROGRESS_EVERY_S = 2.0  # a round's progress message is edited at most this often
PREVIEW_NAMES = 15
QUEUE_NAMES = 25
SUGGESTIONS_TRIED = 3
ROUND_LOCK = "round"  # Context.server_lock purpose: one round published at a time per server
_RETRY_OTHER_MENTOR = frozenset(Skip) - say.MENTEE_SIDE

Progress = Callable[[str], Awaitable[None]]


class MatchingError(UserFacingError):
    """A matching action that cannot happen, with the reason for the person who tried."""


@dataclass(frozen=True)
class MatchSettings:
    """A server's matching choices (or the defaults)."""

    weights: Weights
    rounds_only: bool
    expiry: timedelta


@dataclass(frozen=True)
class Introduced:
    """An introduction that was made and sent."""

    intro_id: int
    guild_id: int
    mentee_id: int
    mentor_id: int
    score: float
    reasons: tuple[str, ...]
    expiry: timedelta
    delivered: bool
    expires_at: datetime


@dataclass(frozen=True)
class RoundPlan:
    """A previewed batch round: who would be introduced to whom; nothing is sent yet."""

    round: PackedRound
    text: str

    @property
    def assignments(self) -> Sequence[Assignment]:
        """The introductions the round would make (unpacked as they are read)."""
        return self.round.assignments


@dataclass(frozen=True)
class RoundPublished:
    """A published round: how many introductions went out, and which were skipped and why."""

    sent: int
    skipped: tuple[tuple[int, Skip], ...]
    text: str


class _RoundShown:
    """A round's phase and elapsed time for the moderator, edited at most once per ``every``
    seconds (Discord edits are rate-limited; a phase shorter than that is simply not shown)."""

    def __init__(self, progress: Progress | None, every: float) -> None:
        self.progress, self.every = progress, every
        self.started = time.monotonic()
        self.last = -float("inf")
        self.text = ""

    async def __call__(self, phase: int) -> None:
        now = time.monotonic()
        if self.progress is None or now - self.last < self.every:
            return
        text = say.round_working(RoundPhase(phase), now - self.started)
        if text != self.text:
            self.last, self.text = now, text
            await self.progress(text)


def _decrypted(rows: Sequence[tuple[Any, ...]], cipher: Cipher) -> bytes:
    """A piece of a round's rows with their answers decrypted, packed (run in a thread)."""
    return pack((user, cipher.decrypt(answers), *rest) for user, answers, *rest in rows)


class MatchingService(Service):
    """Matching: requests, introductions, accepts and declines, rounds."""

    def __init__(self, ctx: Context, *, pairs: PairsService, moderation: ModerationService) -> None:
        super().__init__(ctx)
        self.pairs = pairs
        self.moderation = moderation
        self._rounds: set[int] = set()  # servers whose round this process is computing
        self.round_progress_every = ROUND_PROGRESS_EVERY_S
        self.pools = MentorPools(ctx)

    # --- settings -----------------------------------------------------------------------------

    async def settings(self, guild_id: int) -> MatchSettings:
        """The server's weights, introduction mode and expiry (defaults until changed)."""
        async with self.ctx.transaction() as session:
            return await self._settings(session, guild_id)

    @staticmethod
    async def _settings(session: AsyncSession, guild_id: int) -> MatchSettings:
        row = await q.get_matching_settings(session, guild_id=guild_id)
        if row is None:
            return MatchSettings(DEFAULT_WEIGHTS, False, DEFAULT_EXPIRY)
        weights = load_weights(json.loads(row.weights_json)) if row.weights_json else None
        return MatchSettings(
            weights or DEFAULT_WEIGHTS, bool(row.rounds_only), timedelta(hours=row.expiry_hours)
        )

    async def _name(self, guild_id: int, user_id: int, fallback: str = "A member") -> Safe:
        return await self.ctx.messenger.name(guild_id, user_id, fallback)

    # --- the one way an introduction is made --------------------------------------------------

    async def introduce(
        self,
        guild_id: int,
        mentee_id: int,
        mentor_id: int,
        *,
        score: float | None = None,
        reasons: Sequence[str] | None = None,
        by_hand: bool = False,
        settings: MatchSettings | None = None,
    ) -> Introduced | Skip:
        """Introduce the mentee to the mentor and deliver the card, or say why not.

        Re-checks, in one transaction with the creation: both consented and finished their
        profiles, the mentee has no open pair and is waiting (``by_hand``: is not already being
        introduced), the mentor is not paused and has a free place, neither blocked the other,
        and they were never introduced before. ``by_hand`` (a moderator chose the pair) never
        puts the mentee on the waiting list. ``settings``: the server's, when the caller (a
        round, a suggestion) already read them.
        """
        if settings is None:
            settings = await self.settings(guild_id)
        now = self.ctx.now()
        messenger = self.ctx.messenger
        if mentee_id != mentor_id and not await messenger.present(guild_id, mentee_id):
            log.info("introduction refused guild=%s reason=mentee_left", guild_id)
            if not by_hand:
                await self.withdraw(guild_id, mentee_id)
            return Skip.MENTEE_LEFT
        if mentee_id != mentor_id and not await messenger.present(guild_id, mentor_id):
            log.info("introduction refused guild=%s reason=mentor_left", guild_id)
            return Skip.MENTOR_LEFT
        async with self.ctx.transaction() as session:
            checked = await self._check(session, guild_id, mentee_id, mentor_id, by_hand=by_hand)
            if isinstance(checked, Skip):
                log.info("introduction refused guild=%s reason=%s", guild_id, checked.value)
                return checked
            mentee, mentor = checked
            if score is None or reasons is None:
                found = MentorPool.build([MentorSlot(mentor, 1)], settings.weights).suggest(
                    mentee, k=1
                )
                score = found[0].score if found else 0.0
                reasons = found[0].reasons if found else ()
            offered = False
            if by_hand:
                request = await q.get_request(session, guild_id=guild_id, mentee_id=mentee_id)
                if request is None or request.status != RequestStatus.WAITING:
                    if not await q.offer_request(
                        session, guild_id=guild_id, mentee_id=mentee_id, now=now
                    ):
                        return Skip.MENTEE_NOT_WAITING
                    offered = True
            intro = await q.create_introduction(
                session,
                guild_id=guild_id,
                mentee_id=mentee_id,
                mentor_id=mentor_id,
                score=score,
                reasons=reasons,
                cipher=self.ctx.cipher,
                now=now,
                expires_at=now + settings.expiry,
                offered=offered,
            )
            if intro is None:
                return Skip.MENTEE_NOT_WAITING
        assert intro.id is not None
        log.info("introduced guild=%s intro=%s by_hand=%s", guild_id, intro.id, by_hand)
        delivered = await self._deliver(intro, mentee, tuple(reasons), settings.expiry)
        if not delivered:
            await self._undeliverable(intro, offered=offered)
            return Skip.MENTOR_UNREACHABLE
        return Introduced(
            intro.id,
            guild_id,
            mentee_id,
            mentor_id,
            float(score),
            tuple(reasons),
            settings.expiry,
            delivered,
            intro.expires_at,
        )

    async def _check(
        self,
        session: AsyncSession,
        guild_id: int,
        mentee_id: int,
        mentor_id: int,
        *,
        by_hand: bool,
    ) -> tuple[Profile, Profile] | Skip:
        """Every rule an introduction must meet, read in the creating transaction."""
        if mentee_id == mentor_id:
            return Skip.SELF
        # First, so that every read below is current: one introduction per mentor at a time.
        if not await q.hold_mentor(session, guild_id=guild_id, mentor_id=mentor_id):
            return Skip.MENTOR_NOT_READY
        cipher = self.ctx.cipher
        mentee = await q.load_matchable_profile(
            session, guild_id=guild_id, user_id=mentee_id, cipher=cipher
        )
        if mentee is None or not mentee[1].is_mentee:
            return Skip.MENTEE_NOT_READY
        mentor = await q.load_matchable_profile(
            session, guild_id=guild_id, user_id=mentor_id, cipher=cipher
        )
        checks = await q.pair_checks(
            session, guild_id=guild_id, mentee_id=mentee_id, mentor_id=mentor_id, cipher=cipher
        )
        if checks.mentee_paired:
            return Skip.MENTEE_PAIRED
        status = checks.request_status
        if by_hand:
            if status in (RequestStatus.INTRODUCED, RequestStatus.OFFERED):
                return Skip.MENTEE_NOT_WAITING
        elif status != RequestStatus.WAITING:
            return Skip.MENTEE_NOT_WAITING
        if mentor is None or not mentor[1].is_mentor:
            return Skip.MENTOR_NOT_READY
        if mentor[0].mentor_paused:
            return Skip.MENTOR_PAUSED
        # The mentor's row was read after ``hold_mentor``: current, no need to read it again.
        if q.places_left(mentor[0], checks.mentor_pending) <= 0:
            return Skip.MENTOR_FULL
        if checks.blocked:
            return Skip.BLOCKED
        if checks.introduced_before:
            return Skip.INTRODUCED_BEFORE
        return mentee[1], mentor[1]

    async def _deliver(
        self, intro: Introduction, mentee: Profile, reasons: tuple[str, ...], expiry: timedelta
    ) -> bool:
        """The card to the mentor (DM, else a private thread in the intro channel); the mentee
        is told. Whether the mentor got the card."""
        assert intro.id is not None
        messenger = self.ctx.messenger
        card = intro_card(
            await self._name(intro.guild_id, intro.mentee_id), mentee, reasons, expires_in=expiry
        )
        buttons = intro_buttons(intro.id)
        sent = await messenger.dm(intro.mentor_id, card, buttons=buttons)
        if not isinstance(sent, Posted):
            async with self.ctx.transaction() as session:
                guild = await get_guild_settings(session, guild_id=intro.guild_id)
            if guild is not None and guild.intro_channel_id:
                sent = await messenger.private_thread(
                    guild.intro_channel_id,
                    intro.mentor_id,
                    say.closed_dms_card(intro.mentor_id, card),
                    title="Mentor introduction",
                    buttons=buttons,
                )
        if not isinstance(sent, Posted):
            log.warning("introduction undeliverable intro=%s reason=%s", intro.id, sent.value)
            return False
        async with self.ctx.transaction() as session:
            await q.remember_intro_message(
                session,
                intro_id=intro.id,
                channel_id=sent.channel_id,
                message_id=sent.message_id,
            )
        await messenger.dm(intro.mentee_id, say.mentee_told_introduced(expiry))
        return True

    async def _undeliverable(self, intro: Introduction, *, offered: bool) -> None:
        """No card reached the mentor: the introduction is withdrawn at once (the mentee goes
        back to where they were, so the caller can try the next mentor), the mentor is paused
        so nobody else waits on them, and the moderators are told."""
        assert intro.id is not None
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            if not await q.decide_introduction(
                session, intro_id=intro.id, status=IntroStatus.CANCELLED, now=now
            ):
                return
            back, was = (
                (RequestStatus.CANCELLED, RequestStatus.OFFERED)
                if offered
                else (RequestStatus.WAITING, RequestStatus.INTRODUCED)
            )
            await q.set_request_status(
                session,
                guild_id=intro.guild_id,
                mentee_id=intro.mentee_id,
                status=back,
                now=now,
                expect=(was,),
            )
            await q.set_mentor_paused(
                session, guild_id=intro.guild_id, mentor_id=intro.mentor_id, paused=True, now=now
            )
        log.warning("mentor unreachable, paused guild=%s intro=%s", intro.guild_id, intro.id)
        name = await self._name(intro.guild_id, intro.mentor_id)
        await self.moderation.alert(intro.guild_id, say.mentor_unreachable(name))

    async def _introduce_best(
        self,
        guild_id: int,
        mentee_id: int,
        settings: MatchSettings,
        unavailable: set[int] | None = None,
        *,
        known: tuple[Profile, set[int]] | None = None,
    ) -> Introduced | None:
        """Introduce a waiting mentee to the best available mentor, if any fits.

        The server's cached pool proposes (``introduce`` re-checks everything). ``unavailable``
        collects mentors found to have left the server (which no pool knows), so a caller
        introducing several mentees does not try them again. ``known``: the mentee's profile
        and forbidden mentors, if the caller just read them (``_proposable``).
        """
        if known is None:
            async with self.ctx.transaction() as session:
                known = await self._proposable(session, guild_id, mentee_id)
            if known is None:
                return None
        mentee, forbidden = known
        left = unavailable if unavailable is not None else set()
        pool = await self.pools.current(guild_id, settings.weights)
        for best in pool.suggest(mentee, forbidden=forbidden | left, k=SUGGESTIONS_TRIED):
            outcome = await self.introduce(
                guild_id,
                mentee_id,
                best.mentor_id,
                score=best.score,
                reasons=best.reasons,
                settings=settings,
            )
            if isinstance(outcome, Introduced):
                return outcome
            if outcome not in _RETRY_OTHER_MENTOR:
                return None
            if outcome == Skip.MENTOR_LEFT:
                left.add(best.mentor_id)
        return None

    async def _proposable(
        self, session: AsyncSession, guild_id: int, mentee_id: int, mentee: Profile | None = None
    ) -> tuple[Profile, set[int]] | None:
        """What a suggestion needs: the mentee's profile (read unless given) and the mentors
        never to propose to them; None if they cannot be matched."""
        cipher = self.ctx.cipher
        if mentee is None:
            found = await q.load_matchable_profile(
                session, guild_id=guild_id, user_id=mentee_id, cipher=cipher
            )
            if found is None:
                return None
            mentee = found[1]
        forbidden = await q.forbidden_mentors(
            session, guild_id=guild_id, mentee_id=mentee_id, cipher=cipher
        )
        return mentee, forbidden

    # --- members ------------------------------------------------------------------------------

    async def request(self, guild_id: int, user_id: int) -> str:
        """Put a mentee on the waiting list (or introduce them); what to tell them. The same
        request twice (a double click) is one request: the second is told where they stand."""
        async with self.ctx.transaction() as session:
            found = await q.load_matchable_profile(
                session, guild_id=guild_id, user_id=user_id, cipher=self.ctx.cipher
            )
            if found is None:
                return say.NOT_READY
            if not found[1].is_mentee:
                return say.MENTOR_ONLY
            if await q.active_pair_for_mentee(session, guild_id=guild_id, mentee_id=user_id):
                return say.ALREADY_MATCHED
            # What introducing them needs, read here rather than in transactions of their own
            # (and not in the writing one below, which holds SQLite's write lock): bench/README.md.
            settings = await self._settings(session, guild_id)
            known = (
                None
                if settings.rounds_only
                else await self._proposable(session, guild_id, user_id, found[1])
            )
        if not await self.ctx.messenger.present(guild_id, user_id):
            return say.YOU_LEFT
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            _request, is_new = await q.open_request(
                session, guild_id=guild_id, mentee_id=user_id, now=now
            )
            if is_new:  # asking again while waiting only shows where they stand
                retry_at = await claim_cooldown(
                    session,
                    subject_id=user_id,
                    action="match_request",
                    now=now,
                    every=COOLDOWNS["match_request"],
                )
                if retry_at is not None:  # rolls the new request back
                    raise UserFacingError(cooldown_text("match_request", retry_at, now))
        if is_new:
            log.info("match requested guild=%s mentee=%s", guild_id, user_id)
            if known is not None:
                made = await self._introduce_best(guild_id, user_id, settings, known=known)
                if made is not None:  # what ``status`` would read back: spared its reads
                    return say.waiting_for_answer(made.expires_at - self.ctx.now())
            return await self.status(guild_id, user_id)
        return say.already_asked(await self.status(guild_id, user_id))

    async def status(self, guild_id: int, user_id: int) -> str:
        """Where the member stands, in a sentence or two."""
        async with self.ctx.transaction() as session:
            pair = await q.active_pair_for_mentee(session, guild_id=guild_id, mentee_id=user_id)
            intro = await q.pending_introduction_for(session, guild_id=guild_id, mentee_id=user_id)
            request = await q.get_request(session, guild_id=guild_id, mentee_id=user_id)
            waiting = request is not None and request.status == RequestStatus.WAITING
            ahead = waits = None
            if pair is None and intro is None and request is not None and waiting:
                ahead = await q.count_waiting_ahead(
                    session, guild_id=guild_id, requested_at=request.requested_at
                )
                waits = await q.recent_wait_times(session, guild_id=guild_id)
        if pair is not None:
            return say.matched_since(await self._name(guild_id, pair.mentor_id), pair.created_at)
        if intro is not None:
            by_hand = request is not None and request.status == RequestStatus.OFFERED
            return say.waiting_for_answer(intro.expires_at - self.ctx.now(), by_hand=by_hand)
        if ahead is None or waits is None:
            return say.NOT_ASKED
        rounds_only = (await self.settings(guild_id)).rounds_only
        return say.waiting_position(ahead + 1, expected_wait(ahead, waits), rounds_only=rounds_only)

    async def cancel(self, guild_id: int, user_id: int) -> str:
        """Off the waiting list."""
        async with self.ctx.transaction() as session:
            done = await q.set_request_status(
                session,
                guild_id=guild_id,
                mentee_id=user_id,
                status=RequestStatus.CANCELLED,
                now=self.ctx.now(),
                expect=(RequestStatus.WAITING,),
            )
        return say.CANCELLED if done else say.NOT_WAITING

    async def block(self, guild_id: int, user_id: int, other_id: int) -> str:
        """Never be matched with ``other_id`` (they are not told); pending introductions between
        the two are withdrawn and the mentee is introduced to someone else."""
        if other_id == user_id:
            raise MatchingError(say.CANT_BLOCK_SELF)
        new = await self.moderation.block(guild_id, user_id, other_id)
        async with self.ctx.transaction() as session:
            cancelled = await q.cancel_pending_introductions(
                session, guild_id=guild_id, member=user_id, other=other_id, now=self.ctx.now()
            )
            paired = await q.open_pair_between(session, guild_id=guild_id, a=user_id, b=other_id)
        log.info("block guild=%s new=%s cancelled=%d", guild_id, new, len(cancelled))
        for intro in cancelled:
            await self._close_card(intro, say.WITHDRAWN_CARD)
            await self.roll_on(intro, say.UNAVAILABLE_AFTER_ALL)
        return say.blocked(await self._name(guild_id, other_id), new=new, paired=paired)

    async def _is_mentor(self, session: AsyncSession, guild_id: int, user_id: int) -> bool:
        found = await q.load_matchable_profile(
            session, guild_id=guild_id, user_id=user_id, cipher=self.ctx.cipher
        )
        return found is not None and found[1].is_mentor

    async def _set_paused(self, guild_id: int, user_id: int, paused: bool) -> None:
        async with self.ctx.transaction() as session:
            if not await self._is_mentor(session, guild_id, user_id):
                raise MatchingError(say.NOT_A_MENTOR)
            await q.set_mentor_paused(
                session, guild_id=guild_id, mentor_id=user_id, paused=paused, now=self.ctx.now()
            )

    async def pause(self, guild_id: int, user_id: int) -> str:
        """A mentor pauses new introductions; their pairs carry on."""
        await self._set_paused(guild_id, user_id, True)
        return say.PAUSED

    async def resume(self, guild_id: int, user_id: int) -> str:
        """A mentor takes introductions again; waiting mentees are offered at once."""
        await self._set_paused(guild_id, user_id, False)
        await self.fill_waiting(guild_id)
        return say.RESUMED

    async def set_capacity(self, guild_id: int, user_id: int, mentees: int) -> str:
        """How many mentees a mentor supports at once; waiting mentees are offered at once."""
        async with self.ctx.transaction() as session:
            if not await self._is_mentor(session, guild_id, user_id):
                raise MatchingError(say.NOT_A_MENTOR_YET)
            row = await save_answers(
                session,
                guild_id=guild_id,
                user_id=user_id,
                answers={"capacity": mentees},
                cipher=self.ctx.cipher,
                now=self.ctx.now(),
            )
            active = row.active_mentees
        await self.fill_waiting(guild_id)
        return say.capacity_set(mentees, active)

    # --- the mentor's answer ------------------------------------------------------------------

    async def mentor_of(self, intro_id: int) -> int:
        """Who may answer an introduction (its mentor)."""
        async with self.ctx.transaction() as session:
            intro = await q.get_introduction(session, intro_id=intro_id)
        if intro is None:
            raise ExpiredComponentError()
        return intro.mentor_id

    async def _refuse_if_mentee_left(self, intro_id: int) -> None:
        """A mentee who left cannot be accepted (or declined on to someone else): their request
        and introductions are withdrawn and the mentor is told they are no longer here."""
        async with self.ctx.transaction() as session:
            intro = await q.get_introduction(session, intro_id=intro_id)
        if intro is None:
            raise ExpiredComponentError()
        if intro.status not in (IntroStatus.PENDING, IntroStatus.CANCELLED):
            return  # accepted, declined or expired: the usual answer says so
        if not await self.ctx.messenger.present(intro.guild_id, intro.mentee_id):
            log.info("answer refused, mentee left guild=%s intro=%s", intro.guild_id, intro_id)
            await self.withdraw(intro.guild_id, intro.mentee_id)
            raise MatchingError(say.MEMBER_LEFT)

    async def accept(self, intro_id: int) -> str:
        """The mentor accepts: exactly one pair, capacity never exceeded, the mentee told, the
        pair's space opened. What the mentor's card now says.

        Racing a decline, an expiry, a block or a withdrawal, exactly one wins: a pair (with one
        space) or none; a block already made withdraws the introduction instead.
        """
        await self._refuse_if_mentee_left(intro_id)
        async with self.ctx.transaction() as session:
            outcome, intro, pair = await q.accept_introduction(
                session, intro_id=intro_id, now=self.ctx.now(), cipher=self.ctx.cipher
            )
        if outcome == q.AcceptOutcome.MISSING or intro is None:
            raise ExpiredComponentError()
        if outcome == q.AcceptOutcome.EXPIRED:
            raise MatchingError(say.EXPIRED_ON_ACCEPT)
        if outcome == q.AcceptOutcome.DECIDED:
            raise MatchingError(say.already_decided(intro.status))
        if outcome == q.AcceptOutcome.FULL:
            raise MatchingError(say.FULL_ON_ACCEPT)
        if outcome == q.AcceptOutcome.BLOCKED:
            # The mentor is never told about a block: the introduction is simply withdrawn.
            log.info("accept found a block guild=%s intro=%s", intro.guild_id, intro_id)
            await self.roll_on(intro, say.UNAVAILABLE_AFTER_ALL)
            return say.WITHDRAWN_CARD
        assert pair is not None and pair.id is not None
        log.info("matched guild=%s intro=%s pair=%s", intro.guild_id, intro_id, pair.id)
        mentee_name = await self._name(intro.guild_id, intro.mentee_id)
        mentor_name = await self._name(intro.guild_id, intro.mentor_id)
        await self.ctx.messenger.dm(intro.mentee_id, say.accepted_dm(mentor_name))
        await self.pairs.open_space(pair.id)
        return say.accepted_card(mentee_name)

    async def decline(self, intro_id: int, *, pause: bool = False) -> str:
        """The mentor declines (and may pause); the mentee rolls on, kindly told. What the
        mentor's card now says."""
        await self._refuse_if_mentee_left(intro_id)
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            intro = await q.get_introduction(session, intro_id=intro_id)
            if intro is None:
                raise ExpiredComponentError()
            if not await q.decide_introduction(
                session, intro_id=intro_id, status=IntroStatus.DECLINED, now=now
            ):
                await session.refresh(intro)
                raise MatchingError(say.already_decided(intro.status))
            if pause:
                await q.set_mentor_paused(
                    session,
                    guild_id=intro.guild_id,
                    mentor_id=intro.mentor_id,
                    paused=True,
                    now=now,
                )
        log.info("declined guild=%s intro=%s pause=%s", intro.guild_id, intro_id, pause)
        await self.roll_on(intro, say.DECLINED_BY_MENTOR)
        return say.declined_card(pause)

    async def roll_on(self, intro: Introduction, why: str) -> None:
        """An introduction ended without a pair: the mentee goes back to the waiting list and to
        the next mentor; a moderator's introduction instead asks the mentee whether to go on."""
        guild_id, mentee_id = intro.guild_id, intro.mentee_id
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            waiting = await q.set_request_status(
                session,
                guild_id=guild_id,
                mentee_id=mentee_id,
                status=RequestStatus.WAITING,
                now=now,
                expect=(RequestStatus.INTRODUCED,),
            )
            offered = not waiting and await q.set_request_status(
                session,
                guild_id=guild_id,
                mentee_id=mentee_id,
                status=RequestStatus.CANCELLED,
                now=now,
                expect=(RequestStatus.OFFERED,),
            )
        messenger = self.ctx.messenger
        if offered:
            await messenger.dm(
                mentee_id,
                say.keep_looking(why),
                buttons=(request_button(guild_id, "Keep looking"),),
            )
            return
        if not waiting:
            return
        nxt = await self._introduce_best(guild_id, mentee_id, await self.settings(guild_id))
        if nxt is None:
            status = await self.status(guild_id, mentee_id)
            await messenger.dm(mentee_id, say.rolled_on(why, False, status))
        else:
            await messenger.dm(mentee_id, say.rolled_on(why, True))

    async def _close_card(self, intro: Introduction, outcome: str) -> None:
        """Add the outcome to the mentor's card and take its buttons away."""
        if intro.message_channel_id and intro.message_id:
            await self.ctx.messenger.edit(
                intro.message_channel_id, intro.message_id, append=outcome, buttons=()
            )

    # --- sweeps -------------------------------------------------------------------------------

    async def expire_due(self, now: datetime) -> None:
        """Expire unanswered introductions; each mentee rolls on to the next mentor."""
        async with self.ctx.transaction() as session:
            expired = await q.expired_introductions(session, now=now)
        for intro in expired:
            assert intro.id is not None
            async with self.ctx.transaction() as session:
                claimed = await q.decide_introduction(
                    session, intro_id=intro.id, status=IntroStatus.EXPIRED, now=now
                )
            if not claimed:
                continue
            log.info("introduction expired intro=%s", intro.id)
            await self._close_card(intro, say.EXPIRED_CARD)
            await self.roll_on(intro, say.NOT_ANSWERED)

    async def remind_due(self, now: datetime) -> None:
        """Remind mentors once, halfway through their time to answer."""
        async with self.ctx.transaction() as session:
            due = await q.reminders_due(session, now=now)
        for intro in due:
            assert intro.id is not None
            left = [
                user_id
                for user_id in (intro.mentee_id, intro.mentor_id)
                if not await self.ctx.messenger.present(intro.guild_id, user_id)
            ]
            if left:  # nobody is reminded about someone who left: it is withdrawn instead
                for user_id in left:
                    await self.withdraw(intro.guild_id, user_id)
                continue
            async with self.ctx.transaction() as session:
                if not await q.mark_reminded(session, intro_id=intro.id, now=now):
                    continue
            name = await self._name(intro.guild_id, intro.mentee_id)
            await self.ctx.messenger.dm(intro.mentor_id, say.reminder(name, intro.expires_at - now))

    # --- the waiting list ---------------------------------------------------------------------

    async def fill_waiting(self, guild_id: int) -> None:
        """A mentor may have become available: introduce waiting mentees, longest wait first
        (unless the server gathers requests for batch rounds)."""
        settings = await self.settings(guild_id)
        if settings.rounds_only:
            return
        async with self.ctx.transaction() as session:
            waiting = await q.waiting_requests(session, guild_id=guild_id)
        unavailable: set[int] = set()
        for request in waiting:
            if not (await self.pools.current(guild_id, settings.weights)).open_places:
                break
            await self._introduce_best(guild_id, request.mentee_id, settings, unavailable)

    async def withdraw(self, guild_id: int, user_id: int) -> None:
        """The member stops taking part: off the waiting list, introductions withdrawn (a
        mentee whose mentor withdrew rolls on)."""
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            # Introductions before the request, the order an Accept takes them: no deadlock.
            cancelled = await q.cancel_pending_introductions(
                session, guild_id=guild_id, member=user_id, now=now
            )
            await q.set_request_status(
                session,
                guild_id=guild_id,
                mentee_id=user_id,
                status=RequestStatus.CANCELLED,
                now=now,
                expect=(RequestStatus.WAITING, RequestStatus.INTRODUCED, RequestStatus.OFFERED),
            )
        for intro in cancelled:
            await self._close_card(intro, say.WITHDRAWN_CARD)
            if intro.mentor_id == user_id:
                await self.roll_on(intro, say.UNAVAILABLE)

    async def recount(self, guild_id: int, mentor_ids: set[int]) -> None:
        """Mentors whose pairs vanished get their places back; waiting mentees are offered."""
        async with self.ctx.transaction() as session:
            for mentor_id in sorted(mentor_ids):
                await q.recount_mentor_slots(session, guild_id=guild_id, mentor_id=mentor_id)
        await self.fill_waiting(guild_id)

    async def pair_ended(self, event: PairEnded) -> None:
        """A pair ended: the mentor's place comes back, the mentee is offered a new mentor."""
        async with self.ctx.transaction() as session:
            await q.recount_mentor_slots(
                session, guild_id=event.guild_id, mentor_id=event.mentor_id
            )
            request = await q.get_request(
                session, guild_id=event.guild_id, mentee_id=event.mentee_id
            )
            mentee = await get_member_profile(
                session, guild_id=event.guild_id, user_id=event.mentee_id
            )
        # A mentee who withdrew consent (or is erasing their data) is not offered a new mentor.
        consented = mentee is not None and mentee.consent_status == ConsentStatus.ACCEPTED
        if (
            request is not None
            and consented
            and await self.ctx.messenger.present(event.guild_id, event.mentee_id)
        ):
            await self.ctx.messenger.dm(
                event.mentee_id,
                say.NEW_MENTOR_OFFER,
                buttons=(request_button(event.guild_id, "Find me a new mentor"),),
            )
        await self.fill_waiting(event.guild_id)

    # --- moderators ---------------------------------------------------------------------------

    @asynccontextmanager
    async def _one_round(self, guild_id: int) -> AsyncIterator[None]:
        """One round computed at a time per server; a second is refused kindly (publishing is
        serialised across processes by ``ctx.server_lock``, which waits instead).

        This process only: a lock across processes for the computation (``ctx.server_lock``
        with ``try_server_lock``) belongs here, after this check, held as long.
        """
        if guild_id in self._rounds:
            log.info("round refused guild=%s reason=already_running", guild_id)
            raise MatchingError(say.ROUND_ALREADY_RUNNING)
        self._rounds.add(guild_id)
        try:
            yield
        finally:
            self._rounds.discard(guild_id)

    async def _round_job(self, guild_id: int, watch: _RoundShown) -> RoundJob:
        """Everyone waiting and every free mentor, as they stream in a few hundred rows at a
        time, decrypted in a thread (decryption is ~0.1 ms a member: in a thread the event loop
        still gets the GIL every few milliseconds) and packed; profiles are built in the worker.
        """
        settings = await self.settings(guild_id)
        cipher = self.ctx.cipher
        pieces: dict[str, list[bytes]] = {"mentees": [], "mentors": []}
        async with self.ctx.transaction() as session:
            for side, rows in (
                ("mentees", q.round_mentee_rows(session, guild_id=guild_id)),
                ("mentors", q.round_mentor_rows(session, guild_id=guild_id)),
            ):
                async for part in rows:
                    pieces[side].append(await asyncio.to_thread(_decrypted, part, cipher))
                    await watch(RoundPhase.READING)
            forbidden = await q.forbidden_pairs(session, guild_id=guild_id, cipher=cipher)
        return RoundJob(
            tuple(pieces["mentees"]),
            tuple(pieces["mentors"]),
            RoundJob.forbid(forbidden),
            settings.weights,
        )

    async def preview_round(self, guild_id: int, *, progress: Progress | None = None) -> RoundPlan:
        """Solve a batch round for everyone waiting, without sending anything.

        The solver runs in ``ctx.compute`` (a worker process in the bot), never on the event
        loop; ``progress`` hears its phase and elapsed time at most every
        ``round_progress_every`` seconds. One round per server at a time.
        """
        async with self._one_round(guild_id):
            watch = _RoundShown(progress, self.round_progress_every)
            await watch(RoundPhase.READING)
            job = await self._round_job(guild_id, watch)
            try:
                packed = await self.ctx.compute.run(solve, job, on_phase=watch)
            except ComputeFailed:
                log.error("round failed guild=%s reason=worker_stopped", guild_id)
                raise MatchingError(say.ROUND_FAILED) from None
        log.info(
            "round computed guild=%s matched=%d waiting=%d proven=%s seconds=%.1f",
            guild_id,
            len(packed.assignments),
            len(packed.unmatched),
            packed.proven_optimal,
            time.monotonic() - watch.started,
        )
        if not packed.assignments and not packed.unmatched:
            return RoundPlan(packed, say.NOBODY_WAITING)
        shown = [
            (await self._name(guild_id, mentee_id, f"member {mentee_id}"), why)
            for mentee_id, why in packed.unmatched[:PREVIEW_NAMES]
        ]
        text = say.round_preview(
            len(packed.assignments),
            packed.scores.tolist(),
            shown,
            len(packed.unmatched) - len(shown),
        )
        return RoundPlan(packed, text)

    async def publish_round(
        self,
        guild_id: int,
        actor_id: int,
        assignments: Sequence[Assignment],
        *,
        progress: Progress | None = None,
    ) -> RoundPublished:
        """Make a previewed round's introductions, one ``introduce`` each; what was skipped
        (things changed since the preview) is reported, never silently re-solved."""
        sent = 0
        skipped: list[tuple[int, Skip]] = []

        async def waiting() -> None:
            if progress is not None:
                await progress(say.ROUND_WAITING)

        # One round at a time per server, in every process: a second one (another moderator,
        # another process) waits, then reports what the first already did as skipped.
        async with self.ctx.server_lock(ROUND_LOCK, guild_id, waiting=waiting):
            settings = await self.settings(guild_id)
            for index, assignment in enumerate(assignments, start=1):
                outcome = await self.introduce(
                    guild_id,
                    assignment.mentee_id,
                    assignment.mentor_id,
                    score=assignment.score,
                    reasons=assignment.reasons,
                    settings=settings,
                )
                if isinstance(outcome, Introduced):
                    sent += 1
                else:
                    skipped.append((assignment.mentee_id, outcome))
                total = len(assignments)
                if progress is not None and index % PROGRESS_EVERY == 0 and index < total:
                    await progress(say.round_progress(index, total))
        await self.moderation.audit(guild_id, actor_id, "matching_round")
        log.info("round published guild=%s sent=%d skipped=%d", guild_id, sent, len(skipped))
        named = [
            (await self._name(guild_id, mentee_id, f"member {mentee_id}"), say.skip_reason(why))
            for mentee_id, why in skipped
        ]
        return RoundPublished(sent, tuple(skipped), say.round_sent(sent, named))

    async def introduce_by_hand(
        self, guild_id: int, actor_id: int, mentee_id: int, mentor_id: int
    ) -> str:
        """A moderator introduces a mentee to a mentor they chose; every rule still applies."""
        outcome = await self.introduce(guild_id, mentee_id, mentor_id, by_hand=True)
        mentee_name = await self._name(guild_id, mentee_id, f"member {mentee_id}")
        mentor_name = await self._name(guild_id, mentor_id, f"member {mentor_id}")
        if isinstance(outcome, Skip):
            raise MatchingError(say.manual_refusal(outcome, mentee_name, mentor_name))
        await self.moderation.audit(guild_id, actor_id, "matching_manual", target_user_id=mentee_id)
        return say.manual_done(mentee_name, mentor_name, outcome.score, outcome.expiry)

    async def queue(self, guild_id: int) -> str:
        """Who is waiting for a mentor, and for how long (names and waits only)."""
        async with self.ctx.transaction() as session:
            waiting = await q.waiting_requests(session, guild_id=guild_id)
        now = self.ctx.now()
        shown = [
            (
                await self._name(guild_id, r.mentee_id, f"member {r.mentee_id}"),
                now - r.requested_at,
            )
            for r in waiting[:QUEUE_NAMES]
        ]
        return say.queue_list(shown, len(waiting))

    async def set_mode(self, guild_id: int, actor_id: int, *, rounds: bool) -> str:
        """Introduce requests at once, or gather them for moderators' batch rounds."""
        async with self.ctx.transaction() as session:
            await q.save_matching_settings(
                session, guild_id=guild_id, now=self.ctx.now(), rounds_only=rounds
            )
        await self.moderation.audit(guild_id, actor_id, "matching_mode")
        if not rounds:
            await self.fill_waiting(guild_id)
        return say.ROUNDS_MODE if rounds else say.INSTANT_MODE

    async def tune(
        self,
        guild_id: int,
        actor_id: int,
        changes: Mapping[str, float],
        *,
        expiry_hours: int | None = None,
    ) -> str:
        """Show, or change, how matching weighs each criterion and how long mentors have."""
        current = asdict((await self.settings(guild_id)).weights)
        updated = bool(changes)
        if changes or expiry_hours is not None:
            try:
                new = load_weights({**current, **changes})
            except WeightsError as exc:
                raise MatchingError(say.bad_weights(exc.problems)) from None
            async with self.ctx.transaction() as session:
                await q.save_matching_settings(
                    session,
                    guild_id=guild_id,
                    now=self.ctx.now(),
                    weights=asdict(new) if changes else None,
                    expiry_hours=expiry_hours,
                )
            await self.moderation.audit(guild_id, actor_id, "matching_weights")
            current = asdict(new)
        expiry = (await self.settings(guild_id)).expiry
        return say.weights_table(current, expiry, updated=updated)
