"""Peer circles: the waiting list, moderators' rounds, each circle's space, leaving.

A round is previewed, then confirmed: each planned circle is formed in one transaction that
takes its people off the waiting list (compare-and-set), so two moderators confirming at once
give one set of circles, and whoever left, withdrew or was blocked since the preview is
reported, never silently re-grouped. A circle's space is made by the pairs service's
``make_space`` (the same placement, overwrites, lock and refusals as a pair space).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Circle, CircleMember, CircleRole, CircleStatus
from bot.db.queries import circles as q
from bot.db.queries.matching import load_matchable_profile, server_blocks
from bot.db.queries.members import load_profile
from bot.db.queries.pairs import add_leftover_spaces, get_rhythm
from bot.domain import circles as d
from bot.domain import meeting
from bot.domain.areas import AREA_KEYS
from bot.domain.pairs import (
    QUIET_BEFORE_WARNING,
    Rhythm,
    closing_date,
    inactivity_action,
    pick_starters,
    visibility_notice,
)
from bot.domain.profile import Profile
from bot.domain.text import Safe
from bot.errors import UserFacingError
from bot.services.context import Context, Service
from bot.services.meeting import MeetingSpace
from bot.services.moderation import ModerationService
from bot.services.pairs import (
    ActivityMap,
    MadeSpace,
    PairsService,
    SpacePendingError,
    SpaceRequest,
)
from bot.services.ports import Access, ComputeFailed, Posted, SendFailure, Spaces

log = logging.getLogger("lantern.circles")

OPEN_GRACE = timedelta(minutes=2)
STALE_CLAIM = timedelta(minutes=10)
PROGRESS_EVERY = 5  # circles between progress updates while a round opens spaces

Progress = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class CircleRound:
    """A previewed round: the circles it would form; nothing is sent yet."""

    grouping: d.Grouping
    text: str

    @property
    def circles(self) -> tuple[d.PlannedCircle, ...]:
        return self.grouping.circles


async def circle_space(
    session: AsyncSession, *, guild_id: int, channel_id: int
) -> MeetingSpace | None:
    """A circle's space, for ``/meet``: the people in it now."""
    circle = await q.circle_for_space(session, space_id=channel_id)
    if circle is None or circle.id is None or circle.guild_id != guild_id:
        return None
    people = await q.members_of(session, circle_id=circle.id)
    return MeetingSpace(
        "circle",
        tuple(m.user_id for m in people),
        ended=circle.status == CircleStatus.CLOSED,
        everyone="all of you",
    )


async def _keep_space(
    session: AsyncSession, guild_id: int, space_id: int, now: datetime, *, readers: bool
) -> datetime:
    """A closed circle's space is left to retention: deleted once the server's retention
    period is over while someone may still read it (``readers``), else at once; when."""
    rhythm = await get_rhythm(session, guild_id=guild_id)
    delete_at = now + timedelta(days=rhythm.retention_days) if readers else now
    row = {"space_id": space_id, "guild_id": guild_id, "delete_at": delete_at, "recorded_at": now}
    await add_leftover_spaces(session, rows=[row])
    return delete_at


async def _open_spaces(session: AsyncSession) -> dict[int, int]:
    """space id -> circle id for every open circle (the activity map)."""
    return {space_id: circle_id for circle_id, space_id in await q.open_circle_spaces(session)}


class _TooFew(Exception):
    """A planned circle fell below the minimum at confirmation: its transaction rolls back."""


class CirclesService(Service):
    """Peer circles: joining, leaving, rounds, spaces."""

    def __init__(
        self,
        ctx: Context,
        *,
        pairs: PairsService,
        moderation: ModerationService,
        spaces: Spaces,
    ) -> None:
        super().__init__(ctx)
        self.pairs = pairs
        self.moderation = moderation
        self.spaces = spaces
        self._activity = ActivityMap(ctx, _open_spaces)

    # ------------------------------------------------------------ members

    async def join(self, guild_id: int, user_id: int, area: str, *, facilitate: bool) -> str:
        """Wait for a circle in ``area`` (a mentor offering it may facilitate)."""
        if area not in AREA_KEYS:
            raise UserFacingError("Please choose one of the listed areas. Nothing changed.")
        async with self.ctx.transaction() as session:
            found = await load_matchable_profile(
                session, guild_id=guild_id, user_id=user_id, cipher=self.ctx.cipher
            )
            if found is None:
                raise UserFacingError(d.NOT_READY)
            profile = found[1]
            if facilitate and not (profile.is_mentor and area in profile.areas_offered):
                raise UserFacingError(d.NOT_A_FACILITATOR)
            if await q.live_circle_of(session, guild_id=guild_id, user_id=user_id):
                raise UserFacingError(d.ALREADY_IN_CIRCLE)
            before = await q.set_waiting(
                session,
                guild_id=guild_id,
                user_id=user_id,
                area=area,
                facilitate=facilitate,
                now=self.ctx.now(),
            )
        log.info("circle waiting guild=%s user=%s", guild_id, user_id)
        return d.joined_text(area, facilitate=facilitate, moved_from=before)

    async def status(self, guild_id: int, user_id: int) -> str:
        """Where the member stands: waiting, in a circle, or neither (and why their last circle
        closed, if one did)."""
        async with self.ctx.transaction() as session:
            waiting = await q.get_waiting(session, guild_id=guild_id, user_id=user_id)
            live = await q.live_circle_of(session, guild_id=guild_id, user_id=user_id)
            people = await q.count_members(session, circle_id=live[0].id or 0) if live else 0
            last = await q.last_closed_circle_of(session, guild_id=guild_id, user_id=user_id)
        if live is not None:
            circle = live[0]
            return d.status_in_circle(circle.area, circle.space_id, people)
        if waiting is not None:
            return d.status_waiting(waiting.area, waiting.since, facilitate=waiting.facilitate)
        if last is not None and last.closed_at is not None:
            return d.status_closed(last.area, last.closed_at, last.close_reason)
        return d.STATUS_NONE

    async def leave(self, guild_id: int, user_id: int) -> str:
        """Leave the waiting list, or step away from a circle (the others are told kindly that
        someone left, never who or why; the member loses access to the space)."""
        async with self.ctx.transaction() as session:
            was_waiting = await q.remove_waiting(session, guild_id=guild_id, user_id=user_id)
            live = await q.live_circle_of(session, guild_id=guild_id, user_id=user_id)
        if live is not None and await self._step_away(live[0], user_id):
            return d.LEFT_CIRCLE
        if was_waiting:
            log.info("circle waiting left guild=%s user=%s", guild_id, user_id)
            return d.LEFT_WAITING
        raise UserFacingError(d.NOTHING_TO_LEAVE)

    async def member_gone(self, guild_id: int, user_id: int) -> None:
        """The member left the server, withdrew consent or is erasing their data: off the
        waiting list and out of their circle (the others told kindly)."""
        async with self.ctx.transaction() as session:
            await q.remove_waiting(session, guild_id=guild_id, user_id=user_id)
            live = await q.live_circle_of(session, guild_id=guild_id, user_id=user_id)
        if live is not None:
            await self._step_away(live[0], user_id)

    async def _step_away(self, circle: Circle, user_id: int) -> bool:
        """Take someone out of a circle; whether this call did. Fewer than two left: the
        circle closes (the last one is told kindly and keeps reading until retention ends)."""
        assert circle.id is not None
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            await q.lock_circle(session, circle_id=circle.id)  # two leaving at once: one closes
            if not await q.remove_member(session, circle_id=circle.id, user_id=user_id):
                return False
            remaining = [m.user_id for m in await q.members_of(session, circle_id=circle.id)]
            closed = len(remaining) < 2 and await q.close_circle(
                session, circle_id=circle.id, now=now, reason=d.TOO_FEW
            )
            found = await q.get_circle(session, circle_id=circle.id)
            space_id = found.space_id if found else None
            if closed and space_id is not None:
                await _keep_space(session, circle.guild_id, space_id, now, readers=bool(remaining))
        log.info("circle member left circle=%s remaining=%d", circle.id, len(remaining))
        if space_id is None:
            if closed:  # it never opened: whoever is left waits again
                await self._fall_through(circle, remaining)
            return True
        await self.spaces.set_access(space_id, user_id, Access.REMOVED)
        if closed:
            self._activity.closed(space_id)
            for other in remaining:
                await self.spaces.set_access(space_id, other, Access.READ_ONLY)
                await self.ctx.messenger.dm(other, d.CIRCLE_CLOSED_TEXT)
        else:
            sent = await self.ctx.messenger.post(space_id, d.someone_left_text(len(remaining)))
            if not isinstance(sent, Posted):
                log.warning("circle leave note failed circle=%s reason=%s", circle.id, sent)
                await self._post_failed(space_id, sent)
        return True

    # ------------------------------------------------------------ a space that vanished

    async def space_vanished(self, space_id: int) -> None:
        """A circle's space was deleted (by hand, or while Lantern was away).

        What a member would hope for: the circle closes at once (``space_deleted``) rather
        than lingering "open" with nowhere to meet, where prompts would fail unseen. Everyone
        in it who is still in the server is told once by DM, kindly: what happened, that only
        that space is gone, and that ``/circle join`` finds them a new circle. Nobody is put
        back on the waiting list by Lantern: a moderator may have removed the space on
        purpose, and joining again is each member's choice. Moderators get one line in their
        alerts (who deleted it is in Discord's audit log, not guessed here). Lantern forgets
        the space, so nothing posts to it, and a ``/circle status`` says the circle closed and
        why. A circle already closed (its space kept for reading) is only forgotten: its
        members were told when it closed. The delete event, a failing post and the sweep may
        all report one space at once: the circle is locked and closed by compare-and-set, so
        exactly one of them tells anyone.
        """
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            found = await q.circle_for_space(session, space_id=space_id)
            if found is None or found.id is None:
                return
            circle_id = found.id
            await q.lock_circle(session, circle_id=circle_id)
            closed = await q.close_circle(
                session, circle_id=circle_id, now=now, reason=d.SPACE_DELETED
            )
            await q.forget_circle_space(session, circle_id=circle_id)
            people = [m.user_id for m in await q.members_of(session, circle_id=circle_id)]
        if not closed:
            return
        log.info("circle closed, space deleted circle=%s space=%s", circle_id, space_id)
        self._activity.closed(space_id)
        told = await self._tell(
            found, people, lambda server: d.space_deleted_text(found.area, server)
        )
        alert = d.space_deleted_alert(circle_id, found.area, told, len(people))
        await self.moderation.alert(found.guild_id, alert)

    async def _tell(self, circle: Circle, people: Sequence[int], text: Callable[[str], str]) -> int:
        """DM each of ``people`` still in the server ``text(server name)`` about their closed
        circle; how many were told."""
        messenger, guild_id = self.ctx.messenger, circle.guild_id
        server = await messenger.guild_name(guild_id)
        told = 0
        for user_id in people:
            if not await messenger.present(guild_id, user_id):
                continue
            sent = await messenger.dm(user_id, text(server))
            if isinstance(sent, Posted):
                told += 1
            else:
                log.warning("circle closing not told circle=%s reason=%s", circle.id, sent.value)
        return told

    async def _post_failed(self, space_id: int, failure: SendFailure) -> None:
        """A post to a circle's space was refused: if Discord no longer knows the space, it
        vanished (Discord is asked, so a passing fault never closes a circle)."""
        if failure in (SendFailure.UNKNOWN_CHANNEL, SendFailure.NOT_FOUND):
            await self.pairs.space_missing(space_id)

    async def find_vanished(self, now: datetime) -> int:
        """Sweep (and at start-up): open circles whose space Discord no longer has, deleted
        while Lantern was away or without an event, are closed as ``space_vanished`` does;
        how many. A space Discord can't vouch for either way is left alone."""
        async with self.ctx.transaction() as session:
            spaces = await q.open_circle_spaces(session)
        gone = 0
        for circle_id, space_id in spaces:
            if await self.spaces.exists(space_id) is False:
                log.info("circle space missing circle=%s space=%s", circle_id, space_id)
                await self.space_vanished(space_id)
                gone += 1
        return gone

    # ------------------------------------------------------------ activity and quiet circles

    async def touch(self, channel_id: int) -> None:
        """A member wrote in ``channel_id``: if it is an open circle's space, note that the
        circle was active (never what was said)."""
        now = self.ctx.now()
        circle_id = await self._activity.owner(channel_id, now)
        if circle_id is None or not self._activity.due(circle_id, now):
            return
        async with self.ctx.transaction() as session:
            await q.touch_circle(session, circle_id=circle_id, now=now)

    async def close_quiet(self, now: datetime) -> None:
        """Sweep: a circle quiet for the server's ``close_after_quiet_days`` (the pair-space
        setting) is warned once, in its space, a week ahead; then, if nobody wrote, it closes
        (``inactive``) and its members are told kindly. Every step is a compare-and-set, so
        two sweeps, in one process or two, warn and close once."""
        async with self.ctx.transaction() as session:
            quiet = await q.quiet_circles(session, before=now - QUIET_BEFORE_WARNING)
        rhythms: dict[int, Rhythm] = {}
        for circle in quiet:
            assert circle.id is not None and circle.last_activity_at is not None
            if circle.guild_id not in rhythms:
                async with self.ctx.transaction() as session:
                    rhythms[circle.guild_id] = await get_rhythm(session, guild_id=circle.guild_id)
            rhythm = rhythms[circle.guild_id]
            action = inactivity_action(
                last_activity=circle.last_activity_at,
                warned_for=circle.quiet_warned_for,
                closes_at=circle.quiet_closes_at,
                now=now,
                rhythm=rhythm,
            )
            if action == "warn":
                await self._warn_quiet(circle, now, rhythm)
            elif action == "end":
                await self._close_quiet(circle)

    async def _warn_quiet(self, circle: Circle, now: datetime, rhythm: Rhythm) -> None:
        """Claim, then post, the one closing warning of a quiet circle; a post that fails gives
        the claim back (the next sweep tries again), a space that is gone closes the circle."""
        assert circle.id is not None and circle.last_activity_at is not None
        space_id = circle.space_id
        if space_id is None:
            return
        closes_at = closing_date(circle.last_activity_at, now, rhythm)
        async with self.ctx.transaction() as session:
            won = await q.claim_quiet_warning(
                session,
                circle_id=circle.id,
                quiet_since=circle.last_activity_at,
                seen=circle.quiet_closes_at,
                closes_at=closes_at,
            )
            people = [m.user_id for m in await q.members_of(session, circle_id=circle.id)]
        if not won:
            return
        text = d.quiet_warning(people, quiet_since=circle.last_activity_at, closes_at=closes_at)
        sent = await self.ctx.messenger.post(space_id, text, ping=tuple(people))
        if isinstance(sent, Posted):
            log.info("quiet circle warned circle=%s", circle.id)
            return
        log.warning("circle closing warning failed circle=%s reason=%s", circle.id, sent.value)
        async with self.ctx.transaction() as session:
            await q.release_quiet_warning(session, circle_id=circle.id, closes_at=closes_at)
        await self._post_failed(space_id, sent)

    async def _close_quiet(self, circle: Circle) -> None:
        """Close a warned circle nobody wrote in since (once), telling its members kindly."""
        assert circle.id is not None and circle.last_activity_at is not None
        quiet_since = circle.last_activity_at
        closed = await self._close(circle.id, reason=d.INACTIVE, quiet_since=quiet_since)
        if closed is None:
            return
        people, delete_at = closed
        await self._tell(
            circle,
            people,
            lambda server: d.quiet_closed_text(
                circle.area, server, quiet_since=quiet_since, delete_on=delete_at
            ),
        )
        alert = d.closed_alert(circle.id, circle.area, actor_id=None, note=None)
        await self.moderation.alert(circle.guild_id, alert)

    async def _close(
        self, circle_id: int, *, reason: str, quiet_since: datetime | None = None
    ) -> tuple[list[int], datetime] | None:
        """Close a circle for ``reason`` (with ``quiet_since``: only if still that quiet and
        warned): its space stays read-only for everyone in it until the server's retention
        ends, as when the last ones step away. Who was in it and when its space goes, for the
        one caller who closed it; ``None`` if it had already closed."""
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            await q.lock_circle(session, circle_id=circle_id)
            if not await q.close_circle(
                session, circle_id=circle_id, now=now, reason=reason, quiet_since=quiet_since
            ):
                return None
            circle = await q.get_circle(session, circle_id=circle_id)
            assert circle is not None
            people = [m.user_id for m in await q.members_of(session, circle_id=circle_id)]
            space_id = circle.space_id
            delete_at = now
            if space_id is not None:
                delete_at = await _keep_space(session, circle.guild_id, space_id, now, readers=True)
        log.info("circle closed circle=%s reason=%s", circle_id, reason)
        if space_id is not None:
            self._activity.closed(space_id)
            for user_id in people:
                await self.spaces.set_access(space_id, user_id, Access.READ_ONLY)
        return people, delete_at

    # ------------------------------------------------------------ moderators

    async def list_open(self, guild_id: int) -> str:
        """/circles list: the server's open circles, with sizes and dates (never names or
        messages)."""
        async with self.ctx.transaction() as session:
            rows = [
                d.ListedCircle(
                    circle.id or 0,
                    circle.area,
                    await q.count_members(session, circle_id=circle.id or 0),
                    circle.opened_at,
                    circle.last_activity_at,
                )
                for circle in await q.open_circles(session, guild_id=guild_id)
            ]
        return d.circles_list_text(rows)

    async def moderator_end(
        self, guild_id: int, actor_id: int, circle_id: int, note: str | None
    ) -> str:
        """/circles end: close a circle of this server (once, with one audit entry); its
        members are told kindly, never the note (moderators read it in their alerts)."""
        async with self.ctx.transaction() as session:
            circle = await q.get_circle(session, circle_id=circle_id)
        if circle is None or circle.guild_id != guild_id:
            raise UserFacingError(d.NO_SUCH_CIRCLE)
        closed = await self._close(circle_id, reason=d.MODERATOR)
        if closed is None:
            return d.circle_had_ended(circle_id)
        people, delete_at = closed
        await self.moderation.audit(guild_id, actor_id, "circle_end", target_id=circle_id)
        readable = delete_at if circle.channel_id or circle.thread_id else None
        await self._tell(
            circle,
            people,
            lambda server: d.moderator_closed_text(circle.area, server, delete_on=readable),
        )
        alert = d.closed_alert(circle_id, circle.area, actor_id=actor_id, note=note)
        await self.moderation.alert(guild_id, alert)
        return d.circle_ended(circle_id)

    # ------------------------------------------------------------ rounds

    async def preview_round(self, guild_id: int) -> CircleRound:
        """Group everyone waiting, without telling anyone."""
        cipher = self.ctx.cipher
        candidates: list[d.Candidate] = []
        async with self.ctx.transaction() as session:
            waiting = await q.waiting_list(session, guild_id=guild_id)
            for entry in waiting:
                found = await load_matchable_profile(
                    session, guild_id=guild_id, user_id=entry.user_id, cipher=cipher
                )
                if found is not None:
                    candidates.append(
                        d.Candidate(found[1], entry.area, entry.since, entry.facilitate)
                    )
            blocks = await server_blocks(session, guild_id=guild_id, cipher=cipher)
        present = [c for c in candidates if await self.ctx.messenger.present(guild_id, c.user_id)]
        try:
            grouping = await self.ctx.compute.run(d.group_in_worker, present, list(blocks))
        except ComputeFailed:
            log.error("circles round failed guild=%s reason=worker_stopped", guild_id)
            raise UserFacingError(d.ROUND_FAILED) from None
        shown = []
        for plan in grouping.circles[: d.PREVIEW_CIRCLES]:
            names = [await self._name(guild_id, u) for u in plan.members]
            lead = await self._name(guild_id, plan.facilitator) if plan.facilitator else None
            shown.append((plan, names, lead))
        shown.extend((plan, [], None) for plan in grouping.circles[d.PREVIEW_CIRCLES :])
        still = [await self._name(guild_id, u) for u in grouping.waiting[: d.PREVIEW_NAMES]]
        more = len(grouping.waiting) - len(still)
        return CircleRound(grouping, d.round_preview(shown, still, more))

    async def _name(self, guild_id: int, user_id: int) -> Safe:
        return await self.ctx.messenger.name(guild_id, user_id, f"member {user_id}")

    async def confirm_round(
        self,
        guild_id: int,
        actor_id: int,
        planned: Sequence[d.PlannedCircle],
        *,
        waiting: Sequence[int] = (),
        progress: Progress | None = None,
    ) -> str:
        """Form a previewed round's circles, each re-checked (who left, who withdrew, new
        blocks, who another round placed first); open their spaces; tell who still waits that
        nothing changed. What changed since the preview is reported."""
        formed: list[tuple[int, str, int]] = []
        dropped: list[tuple[int, str]] = []
        unformed: list[str] = []
        for plan in planned:
            outcome = await self._form(guild_id, plan)
            dropped.extend(outcome[1])
            if outcome[0] is None:
                unformed.append(plan.area)
            else:
                formed.append((outcome[0], plan.area, outcome[2]))
        await self.moderation.audit(guild_id, actor_id, "circles_round")
        log.info(
            "circles round guild=%s formed=%d unformed=%d", guild_id, len(formed), len(unformed)
        )
        for index, (circle_id, _area, _size) in enumerate(formed, 1):
            await self.open_space(circle_id)
            if progress is not None and index % PROGRESS_EVERY == 0 and index < len(formed):
                await progress(f"Opening circle spaces… {index} of {len(formed)} done.")
        async with self.ctx.transaction() as session:
            still = {w.user_id for w in await q.waiting_list(session, guild_id=guild_id)}
        for user_id in waiting:
            if user_id in still:
                await self.ctx.messenger.dm(user_id, d.STILL_WAITING)
        named = [(await self._name(guild_id, u), why) for u, why in dropped]
        return d.round_result([(a, n) for _, a, n in formed], named, unformed)

    async def _form(
        self, guild_id: int, plan: d.PlannedCircle
    ) -> tuple[int | None, list[tuple[int, str]], int]:
        """Form one planned circle: (its id or ``None``, who was dropped and why, its size)."""
        dropped: list[tuple[int, str]] = []
        here = [u for u in plan.everyone if await self.ctx.messenger.present(guild_id, u)]
        dropped.extend((u, "left") for u in plan.everyone if u not in here)
        cipher = self.ctx.cipher
        try:
            async with self.ctx.transaction() as session:
                walls = {
                    frozenset(b)
                    for b in await server_blocks(session, guild_id=guild_id, cipher=cipher)
                }
                kept: list[tuple[Profile, str]] = []
                for user_id in sorted(here, key=plan.everyone.index):
                    found = await load_matchable_profile(
                        session, guild_id=guild_id, user_id=user_id, cipher=cipher
                    )
                    if found is None:
                        dropped.append((user_id, "left"))
                        continue
                    if any(frozenset((user_id, p.user_id)) in walls for p, _ in kept):
                        dropped.append((user_id, "blocked"))
                        continue
                    if not await q.take_waiting(
                        session, guild_id=guild_id, user_id=user_id, area=plan.area
                    ):
                        live = await q.live_circle_of(session, guild_id=guild_id, user_id=user_id)
                        dropped.append((user_id, "taken" if live else "left"))
                        continue
                    role = (
                        CircleRole.FACILITATOR if user_id == plan.facilitator else CircleRole.MEMBER
                    )
                    kept.append((found[1], role))
                if sum(1 for _, role in kept if role == CircleRole.MEMBER) < d.MIN_SIZE:
                    raise _TooFew()
                reasons = d.explain_circle(plan.area, [p for p, _ in kept])
                circle = await q.create_circle(
                    session,
                    guild_id=guild_id,
                    area=plan.area,
                    reasons_enc=cipher.encrypt(json.dumps(list(reasons))),
                    people=[(p.user_id, role) for p, role in kept],
                    now=self.ctx.now(),
                )
        except _TooFew:
            return None, dropped, 0
        log.info("circle formed guild=%s circle=%s size=%d", guild_id, circle.id, len(kept))
        return circle.id, dropped, len(kept)

    # ------------------------------------------------------------ spaces

    async def open_pending(self, now: datetime) -> None:
        """Sweep: retry circle spaces that failed, were never started, or were interrupted."""
        async with self.ctx.transaction() as session:
            waiting = await q.circles_to_open(session, now=now, grace=OPEN_GRACE, stale=STALE_CLAIM)
        for circle_id in waiting:
            await self.open_space(circle_id)

    async def open_space(self, circle_id: int) -> bool:
        """Make the circle's private space (members who left the server since are skipped)
        and post its opening; whether it opened."""
        async with self.ctx.transaction() as session:
            if not await q.claim_circle_space(session, circle_id=circle_id, now=self.ctx.now()):
                return False
            circle = await q.get_circle(session, circle_id=circle_id)
            people = await q.members_of(session, circle_id=circle_id)
        assert circle is not None
        guild_id = circle.guild_id
        gone = [
            m.user_id for m in people if not await self.ctx.messenger.present(guild_id, m.user_id)
        ]
        for user_id in gone:  # left before the space opened: skipped, nobody is told
            async with self.ctx.transaction() as session:
                await q.remove_member(session, circle_id=circle_id, user_id=user_id)
        here = [m for m in people if m.user_id not in gone]
        if len(here) < 2:
            return await self._fall_through(circle, [m.user_id for m in here])
        request = SpaceRequest(
            guild_id,
            tuple(m.user_id for m in here),
            f"Lantern circle space #{circle_id}",
            lambda _names, taken: d.circle_channel_name(circle.area, circle_id, taken),
        )
        try:
            made = await self.pairs.make_space(request)
        except SpacePendingError as pending:
            async with self.ctx.transaction() as session:
                first = await q.fail_circle_space(session, circle_id=circle_id, error=pending.error)
            log.warning("circle space pending circle=%s error=%s", circle_id, pending.error)
            if first:
                await self.moderation.alert(
                    guild_id, d.space_pending_alert(circle_id, pending.error)
                )
            return False
        async with self.ctx.transaction() as session:
            done = await q.complete_circle_space(
                session,
                circle_id=circle_id,
                channel_id=None if made.is_thread else made.id,
                thread_id=made.id if made.is_thread else None,
                now=self.ctx.now(),
            )
            now_in = {m.user_id for m in await q.members_of(session, circle_id=circle_id)}
        if not done:  # closed meanwhile: leave nothing behind
            await self.spaces.delete(made.id, reason=f"Lantern: circle #{circle_id} closed")
            return False
        for member in here:
            if member.user_id not in now_in:  # stepped away while the space was being made
                await self.spaces.set_access(made.id, member.user_id, Access.REMOVED)
        self._activity.opened(made.id, circle_id)
        log.info("circle space created circle=%s space=%s", circle_id, made.id)
        names = dict(zip(request.member_ids, made.names, strict=True))
        staying = [m for m in here if m.user_id in now_in]
        await self._send_opening(circle, made.id, staying, names, made)
        return True

    async def _fall_through(self, circle: Circle, here: Sequence[int]) -> bool:
        """Too few people are left to open the circle: it closes and whoever is left waits
        again for the same area (told kindly)."""
        assert circle.id is not None
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            await q.close_circle(session, circle_id=circle.id, now=now, reason=d.NEVER_OPENED)
            for user_id in here:
                await q.remove_member(session, circle_id=circle.id, user_id=user_id)
                await q.set_waiting(
                    session,
                    guild_id=circle.guild_id,
                    user_id=user_id,
                    area=circle.area,
                    facilitate=False,
                    now=now,
                )
        for user_id in here:
            await self.ctx.messenger.dm(user_id, d.FELL_THROUGH)
        log.info("circle closed before opening circle=%s", circle.id)
        return False

    async def _send_opening(
        self,
        circle: Circle,
        space_id: int,
        people: Sequence[CircleMember],
        names: dict[int, Safe],
        made: MadeSpace,
    ) -> None:
        assert circle.id is not None
        cipher = self.ctx.cipher
        members: list[tuple[Profile, Safe]] = []
        facilitator: tuple[Profile, Safe] | None = None
        async with self.ctx.transaction() as session:
            for person in people:
                user_id = person.user_id
                profile = await load_profile(
                    session, guild_id=circle.guild_id, user_id=user_id, cipher=cipher
                ) or Profile(user_id=user_id)
                if person.role == CircleRole.FACILITATOR:
                    facilitator = (profile, names[user_id])
                else:
                    members.append((profile, names[user_id]))
        try:
            reasons = json.loads(cipher.decrypt(circle.reasons_enc) or "[]")
        except ValueError:
            reasons = []
        profiles = [p for p, _ in members] + ([facilitator[0]] if facilitator else [])
        opening = d.render_circle_opening(
            area=circle.area,
            members=members,
            facilitator=facilitator,
            reasons=[str(r) for r in reasons if isinstance(r, str)],
            starters=pick_starters([circle.area], self.pairs.starters, seed=circle.id),
            notice=visibility_notice(
                moderators_see=made.moderators_see,
                moderator_role=made.moderator_role,
                thread=made.is_thread,
                members=d.CIRCLE_MEMBERS,
                checks_in=False,  # circles have no check-ins: nothing about them is noted
            ),
            meet=meeting.best_overlap(meeting.plan_for(profiles, self.ctx.now())),
        )
        everyone = [p.user_id for p, _ in members] + (
            [facilitator[0].user_id] if facilitator else []
        )
        sent = await self.spaces.post_opening(
            space_id, opening.content, opening.cards, buttons=(), ping=everyone
        )
        if not isinstance(sent, Posted):
            log.warning("circle opening failed circle=%s reason=%s", circle.id, sent)
            await self._post_failed(space_id, sent)
            return
        async with self.ctx.transaction() as session:
            await q.set_circle_opening(session, circle_id=circle.id, message_id=sent.message_id)
