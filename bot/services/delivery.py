"""Delivery: due prompt occurrences to the community channel (with a thread for answers), to
pair and circle spaces and, through a paced fan-out, to subscribed members by DM.

The database decides what is due; every occurrence and every recipient is claimed with a
unique row before anything is sent, so restarts and overlapping sweeps never send twice.
In-memory jobs (``arm``) only make a schedule fire on time; the sweep (``run_due``) is what
makes delivery correct.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.matching import Pair
from bot.db.models.prompts import (
    DeliveryKind,
    DeliveryStatus,
    OccurrenceStatus,
    PromptOccurrence,
    PromptSchedule,
)
from bot.db.queries import delivery as q
from bot.db.queries.circles import get_circle, open_circles
from bot.db.queries.members import list_subscribed, load_profile
from bot.db.queries.pairs import active_pairs, get_pair
from bot.db.queries.prompts import all_live_schedules, get_schedule
from bot.db.queries.setup import get_guild_settings
from bot.domain.areas import AREA_KEYS
from bot.domain.components import Button, reflect_button
from bot.domain.prompts import (
    CHANNEL_FOOTER,
    CIRCLE_FOOTER,
    DM_FOOTER,
    PAIR_FOOTER,
    Library,
    Prompt,
    next_prompt,
    no_prompt_alert,
    prompt_message,
    render_summary,
    shared_areas,
    thread_name,
)
from bot.domain.schedule import (
    ScheduleError,
    missed_runs,
    next_occurrence,
    parse_schedule,
    plan_catch_up,
)
from bot.errors import UserFacingError
from bot.services.context import Context, Service
from bot.services.fanout import DEFAULT_RATE_PER_S, FanoutResult, Pacer, fan_out_dms
from bot.services.moderation import ModerationService
from bot.services.ports import DmSender, Posted, SendFailure, Sent
from bot.services.prompts import PromptsService, UnknownScheduleError

log = logging.getLogger("lantern.prompts")

PAIR_BATCH = 20
# A community post that meets a 5xx or a timeout is tried again by the sweep after 30 s, 1, 2
# and 4 minutes (inside the window in which Discord honours its nonce, so it lands once).
CHANNEL_ATTEMPTS = 5
CHANNEL_BACKOFF = timedelta(seconds=30)
_TRANSIENT = frozenset({SendFailure.SERVER_ERROR, SendFailure.RATE_LIMITED})
# Told of a pair or circle space that a prompt post found missing (its id).
SpaceMissing = Callable[[int], Awaitable[None]]


def job_id(schedule_id: int | None) -> str:
    """The in-memory job that wakes delivery at a schedule's next run."""
    return f"prompts:schedule:{schedule_id}"


class DeliveryService(Service):
    """Delivery: due prompt occurrences to channels, pair spaces and DMs."""

    def __init__(
        self,
        ctx: Context,
        prompts: PromptsService,
        moderation: ModerationService,
        sender: DmSender,
        *,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(ctx)
        self.prompts = prompts
        self.moderation = moderation
        self.sender = sender
        self.pacer = pacer or Pacer(DEFAULT_RATE_PER_S)
        # Moderator alerts decided inside a transaction, sent once it has committed.
        self._alerts: list[tuple[int, str]] = []
        self._space_missing: list[SpaceMissing] = []

    def on_space_missing(self, handler: SpaceMissing) -> None:
        """Call ``handler`` with each pair or circle space that a prompt found missing."""
        self._space_missing.append(handler)

    # -------------------------------------------------------------------------- jobs

    def arm(self, schedule: PromptSchedule) -> None:
        """An in-memory job at the schedule's next run (or none when paused or deleted)."""
        if schedule.paused or schedule.deleted or schedule.next_run_at is None:
            self.ctx.jobs.cancel(job_id(schedule.id))
            return
        self.ctx.jobs.run_at(job_id(schedule.id), self.run_due, schedule.next_run_at)

    async def arm_all(self) -> int:
        """Rebuild every live schedule's job at start-up; how many were armed."""
        try:
            async with self.ctx.transaction() as session:
                schedules = await all_live_schedules(session)
        except Exception:
            log.warning("could not rebuild prompt jobs at start-up; the sweep will catch up")
            return 0
        for schedule in schedules:
            self.arm(schedule)
        return len(schedules)

    # ------------------------------------------------------------------------ claiming

    async def claim(
        self,
        session: AsyncSession,
        schedule: PromptSchedule,
        due_at: datetime,
        now: datetime,
        *,
        manual: bool = False,
    ) -> PromptOccurrence | None:
        """Claim an occurrence and write its recipients, in the caller's transaction.

        ``None`` when it was already claimed (another run) or there is no prompt to send.
        """
        library = await self.prompts.library(schedule.guild_id, session=session)
        areas = [a for a in schedule.areas.split(",") if a] or list(AREA_KEYS)
        if schedule.prompt_key:
            fixed = library.get(schedule.prompt_key)
            key = fixed.key if fixed and not fixed.retired else None
        else:
            history = await q.schedule_history(session, schedule_id=schedule.id or 0)
            key = next_prompt(
                [p.key for p in library.active(areas)], history, salt=str(schedule.id)
            )
        if key is None:
            log.warning("schedule has no prompt to send schedule=%s", schedule.id)
            if not manual:
                flagged = await q.claim_unsent_occurrence(
                    session,
                    schedule=schedule,
                    due_at=due_at,
                    status=OccurrenceStatus.NO_PROMPT,
                    now=now,
                )
                if flagged is not None:
                    self._alerts.append((schedule.guild_id, no_prompt_alert(schedule.id or 0)))
            return None
        occurrence = await q.claim_occurrence(
            session, schedule=schedule, due_at=due_at, prompt_key=key, now=now, manual=manual
        )
        if occurrence is None:
            return None
        rows: list[dict[str, Any]] = []

        def row(kind: str, recipient: int, user: int | None, prompt_key: str) -> dict[str, Any]:
            return {
                "occurrence_id": occurrence.id,
                "guild_id": schedule.guild_id,
                "kind": kind,
                "recipient_id": recipient,
                "user_id": user,
                "prompt_key": prompt_key,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "updated_at": now,
            }

        if schedule.to_channel:
            settings = await get_guild_settings(session, guild_id=schedule.guild_id)
            # No reflections channel set: a row all the same, reported as "channel missing".
            channel_id = settings.reflections_channel_id if settings else None
            rows.append(row(DeliveryKind.CHANNEL, channel_id or 0, None, key))
        if schedule.to_dm:
            for sub in await list_subscribed(session, guild_id=schedule.guild_id):
                rows.append(row(DeliveryKind.DM, sub.user_id, sub.user_id, key))
        if schedule.to_pairs:
            for pair in await active_pairs(session, guild_id=schedule.guild_id):
                pair_key = await self._pair_prompt(session, library, schedule, pair, key)
                if pair_key is not None:
                    rows.append(row(DeliveryKind.PAIR, pair.id or 0, None, pair_key))
        if schedule.to_circles:  # one row per circle and occurrence (the unique key)
            for circle in await open_circles(session, guild_id=schedule.guild_id):
                circle_key: str | None = key
                if not schedule.prompt_key:
                    history = await q.space_history(
                        session, kind=DeliveryKind.CIRCLE, recipient_id=circle.id or 0
                    )
                    active = [p.key for p in library.active([circle.area])]
                    circle_key = next_prompt(active, history, salt=f"circle{circle.id}")
                if circle_key is not None:
                    rows.append(row(DeliveryKind.CIRCLE, circle.id or 0, None, circle_key))
        await q.add_deliveries(session, rows=rows)
        log.info(
            "occurrence claimed id=%s schedule=%s due=%s recipients=%d",
            occurrence.id,
            schedule.id,
            due_at.isoformat(),
            len(rows),
        )
        return occurrence

    async def _pair_prompt(
        self,
        session: AsyncSession,
        library: Library,
        schedule: PromptSchedule,
        pair: Pair,
        key: str,
    ) -> str | None:
        """A prompt from the pair's shared areas (mentee wants ∩ mentor offers), or none."""
        if schedule.prompt_key:
            return key
        cipher = self.ctx.cipher
        mentee = await load_profile(
            session, guild_id=pair.guild_id, user_id=pair.mentee_id, cipher=cipher
        )
        mentor = await load_profile(
            session, guild_id=pair.guild_id, user_id=pair.mentor_id, cipher=cipher
        )
        if mentee is None or mentor is None:
            return None
        areas = shared_areas(mentee.areas_wanted, mentor.areas_offered)
        if not areas:
            return None
        history = await q.pair_history(session, pair_id=pair.id or 0)
        return next_prompt([p.key for p in library.active(areas)], history, salt=f"pair{pair.id}")

    # ------------------------------------------------------------------------- the sweep

    async def run_due(self, now: datetime) -> None:
        """The sweep: claim due occurrences (catch-up rule), then deliver unfinished ones."""
        window = timedelta(minutes=self.ctx.config.scheduler.catch_up_minutes)
        async with self.ctx.transaction() as session:
            due = await q.due_schedules(session, now=now)
        for schedule in due:
            await self._process_schedule(schedule, now, window)
            await self._send_alerts()
            await asyncio.sleep(0)  # let interactions in between schedules
        async with self.ctx.transaction() as session:
            unfinished = await q.unfinished_occurrences(session)
        for occurrence in unfinished:
            if not await self.ctx.messenger.in_guild(occurrence.guild_id):
                continue
            await self.deliver(occurrence.id or 0, now)

    async def _process_schedule(
        self, schedule: PromptSchedule, now: datetime, window: timedelta
    ) -> None:
        """Move the schedule on (compare-and-set), record skipped runs, claim the one to send."""
        assert schedule.next_run_at is not None
        try:
            recurrence = parse_schedule(schedule.expression)
            due = missed_runs(recurrence, schedule.timezone, schedule.next_run_at, now)
            following = next_occurrence(recurrence, schedule.timezone, now)
        except ScheduleError:
            log.warning("schedule cannot be read; pausing schedule=%s", schedule.id)
            following, due = None, []
        plan = plan_catch_up(due, now, window)
        async with self.ctx.transaction() as session:
            moved = await q.advance_schedule(
                session,
                schedule_id=schedule.id or 0,
                expected=schedule.next_run_at,
                next_run_at=following,
                now=now,
            )
            if not moved:
                return  # another run handled it
            if len(plan.skipped) > 1:
                log.warning(
                    "prompt schedule missed runs while offline schedule=%s since=%s",
                    schedule.id,
                    schedule.next_run_at.isoformat(),
                )
            for skipped in plan.skipped:
                await q.claim_unsent_occurrence(
                    session,
                    schedule=schedule,
                    due_at=skipped,
                    status=OccurrenceStatus.SKIPPED,
                    now=now,
                )
                log.warning(
                    "prompt occurrence skipped (too late) schedule=%s due=%s",
                    schedule.id,
                    skipped.isoformat(),
                )
            if plan.send is not None:
                await self.claim(session, schedule, plan.send, now)
        schedule.next_run_at = following
        self.arm(schedule)

    async def send_now(self, guild_id: int, actor_id: int, schedule_id: int) -> str:
        """A moderator sends a schedule's next prompt right now (audited); the numbers."""
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            row = await get_schedule(session, schedule_id=schedule_id)
            if row is None or row.guild_id != guild_id or row.deleted:
                raise UnknownScheduleError(schedule_id)
            occurrence = await self.claim(session, row, now, now, manual=True)
        await self._send_alerts()
        if occurrence is None:
            raise UserFacingError("That schedule has no prompt to send (all retired?).")
        await self.moderation.audit(guild_id, actor_id, "prompts.send_now", target_id=schedule_id)
        counts = await self.deliver(occurrence.id or 0, now)
        return f"Sent schedule #{schedule_id}: {render_summary(counts)}."

    # ------------------------------------------------------------------------ delivering

    async def deliver(self, occurrence_id: int, now: datetime) -> dict[str, int]:
        """Send what waits for this occurrence: channel post, pair spaces, DMs; the counts."""
        async with self.ctx.transaction() as session:
            occurrence = await q.get_occurrence(session, occurrence_id=occurrence_id)
            assert occurrence is not None
            library = await self.prompts.library(occurrence.guild_id, session=session)
            # A prompt retired since its recipients were written is never sent, retries included.
            retired = [p.key for p in library.prompts.values() if p.retired]
            skipped = await q.skip_retired(
                session, occurrence_id=occurrence_id, retired_keys=retired, now=now
            )
        if skipped:
            log.info(
                "deliveries skipped (prompt retired) occurrence=%s n=%d", occurrence_id, skipped
            )
        await self._deliver_channel(occurrence, library, now)
        await self._deliver_spaces(occurrence, library, now, DeliveryKind.PAIR)
        await self._deliver_spaces(occurrence, library, now, DeliveryKind.CIRCLE)
        prompt = library.get(occurrence.prompt_key or "")
        if prompt is not None and not prompt.retired:
            result = await self._deliver_dms(occurrence, prompt, now)
            if result.sent or result.dm_closed or result.failed:
                log.info(
                    "dm fan-out occurrence=%s sent=%d dm_closed=%d left=%d failed=%d retry=%d",
                    occurrence_id,
                    result.sent,
                    result.dm_closed,
                    result.left,
                    result.failed,
                    result.retry,
                )
        async with self.ctx.transaction() as session:
            if not await q.has_open_deliveries(session, occurrence_id=occurrence_id):
                await q.finish_occurrence(session, occurrence_id=occurrence_id, now=now)
            return await q.delivery_counts(session, occurrence_id=occurrence_id)

    async def _deliver_dms(
        self, occurrence: PromptOccurrence, prompt: Prompt, now: datetime
    ) -> FanoutResult:
        text = prompt_message(prompt, DM_FOOTER)
        guild_id = occurrence.guild_id

        def message_for(delivery: Any) -> tuple[str, tuple[Button, ...]]:
            return text, (reflect_button(delivery.id or 0),)

        async def present(user_id: int) -> bool:
            return await self.ctx.messenger.present(guild_id, user_id)

        return await fan_out_dms(
            self.ctx.database,
            self.sender,
            occurrence_id=occurrence.id or 0,
            guild_id=guild_id,
            message_for=message_for,
            now=now,
            pacer=self.pacer,
            present=present,
        )

    async def _deliver_channel(
        self, occurrence: PromptOccurrence, library: Library, now: datetime
    ) -> None:
        """The community post, with a thread for answers (at most one, claimed first)."""
        for delivery in await self._claim(occurrence, DeliveryKind.CHANNEL, now, limit=1):
            prompt = library.get(delivery.prompt_key or "")
            sent = await self._post_prompt(
                delivery.recipient_id, delivery.id, prompt, CHANNEL_FOOTER, nonce=True
            )
            if isinstance(sent, Posted) and prompt is not None:
                await self._open_thread(occurrence.id or 0, sent, prompt)
            else:
                log.warning(
                    "prompt channel post failed occurrence=%s attempt=%s reason=%s",
                    occurrence.id,
                    delivery.attempts,
                    sent,
                )
            outcome = _outcome(delivery.id, sent, now)
            if sent in _TRANSIENT and delivery.attempts < CHANNEL_ATTEMPTS:
                backoff = CHANNEL_BACKOFF * 2 ** (delivery.attempts - 1)
                outcome.update(status=DeliveryStatus.RETRY, next_attempt_at=now + backoff)
            async with self.ctx.transaction() as session:
                await q.record_outcomes(session, outcomes=[outcome])

    async def _claim(
        self, occurrence: PromptOccurrence, kind: str, now: datetime, *, limit: int
    ) -> list[Any]:
        """Claim up to ``limit`` waiting deliveries of one kind (no other run will send them)."""
        async with self.ctx.transaction() as session:
            return await q.claim_deliveries(
                session, occurrence_id=occurrence.id or 0, kind=kind, now=now, limit=limit
            )

    async def _open_thread(self, occurrence_id: int, post: Posted, prompt: Prompt) -> None:
        """A thread for answers on the community post; both are remembered."""
        thread = await self.ctx.messenger.open_thread(
            post.channel_id, post.message_id, thread_name(prompt)
        )
        thread_id = thread if isinstance(thread, int) else None
        if thread_id is None:
            log.warning("could not open a prompt thread occurrence=%s", occurrence_id)
        async with self.ctx.transaction() as session:
            await q.set_occurrence_post(
                session,
                occurrence_id=occurrence_id,
                message_id=post.message_id,
                thread_id=thread_id,
            )

    async def _post_prompt(
        self,
        channel_id: int | None,
        delivery_id: int,
        prompt: Prompt | None,
        footer: str,
        *,
        nonce: bool = False,
    ) -> Sent | None:
        """Post a prompt with its Reflect button (a failure when there is nothing to post;
        ``None`` when the prompt is retired). With ``nonce``, a retry never posts twice."""
        if prompt is not None and prompt.retired:
            return None
        if prompt is None or not channel_id:
            return SendFailure.NOT_FOUND
        return await self.ctx.messenger.post(
            channel_id,
            prompt_message(prompt, footer),
            buttons=(reflect_button(delivery_id),),
            nonce=f"lantern-d{delivery_id}" if nonce else None,
        )

    async def _send_alerts(self) -> None:
        """Tell moderators what the last transaction found (after it committed)."""
        alerts, self._alerts = self._alerts, []
        for guild_id, text in alerts:
            await self.moderation.alert(guild_id, text)

    async def _space_of(self, session: AsyncSession, kind: str, recipient_id: int) -> int | None:
        """The space a pair or circle delivery goes to (``None``: it has none any more)."""
        found = (
            await get_pair(session, pair_id=recipient_id)
            if kind == DeliveryKind.PAIR
            else await get_circle(session, circle_id=recipient_id)
        )
        return (found.channel_id or found.thread_id) if found else None

    async def _deliver_spaces(
        self, occurrence: PromptOccurrence, library: Library, now: datetime, kind: str
    ) -> None:
        """A prompt in each pair space (from the pair's shared areas) or circle space (from
        the circle's area), each claimed before it is sent."""
        footer = PAIR_FOOTER if kind == DeliveryKind.PAIR else CIRCLE_FOOTER
        while claimed := await self._claim(occurrence, kind, now, limit=PAIR_BATCH):
            async with self.ctx.transaction() as session:
                spaces = {
                    d.recipient_id: await self._space_of(session, kind, d.recipient_id)
                    for d in claimed
                }
            outcomes = []
            missing = []
            for delivery in claimed:
                prompt = library.get(delivery.prompt_key or "")
                space = spaces.get(delivery.recipient_id)
                sent = await self._post_prompt(space, delivery.id, prompt, footer)
                if not isinstance(sent, Posted):
                    log.info(
                        "%s prompt not delivered id=%s reason=%s",
                        kind,
                        delivery.recipient_id,
                        sent,
                    )
                if space and sent in (SendFailure.UNKNOWN_CHANNEL, SendFailure.NOT_FOUND):
                    missing.append(space)
                outcomes.append(_outcome(delivery.id, sent, now))
            async with self.ctx.transaction() as session:
                await q.record_outcomes(session, outcomes=outcomes)
            for space_id in missing:  # after the outcomes are safe: the space is looked into
                for handler in self._space_missing:
                    try:
                        await handler(space_id)
                    except Exception:
                        log.exception("space-missing handler failed space=%s", space_id)


_FAILED_AS = {
    SendFailure.UNKNOWN_CHANNEL: DeliveryStatus.NO_CHANNEL,
    SendFailure.NOT_FOUND: DeliveryStatus.NO_CHANNEL,
    SendFailure.MISSING_ACCESS: DeliveryStatus.NO_ACCESS,
    SendFailure.MISSING_PERMISSIONS: DeliveryStatus.NO_ACCESS,
}


def _outcome(delivery_id: int, sent: Sent | None, now: datetime) -> dict[str, Any]:
    """What to record for a channel or pair delivery (``None``: the prompt was retired)."""
    if sent is None:
        return {"id": delivery_id, "updated_at": now, "status": DeliveryStatus.RETIRED}
    if isinstance(sent, SendFailure) and sent in _FAILED_AS:
        return {"id": delivery_id, "updated_at": now, "status": _FAILED_AS[sent]}
    if isinstance(sent, Posted):
        return {
            "id": delivery_id,
            "updated_at": now,
            "status": DeliveryStatus.SENT,
            "channel_id": sent.channel_id,
            "message_id": sent.message_id,
        }
    return {"id": delivery_id, "updated_at": now, "status": DeliveryStatus.FAILED}
