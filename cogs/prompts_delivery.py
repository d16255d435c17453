"""Delivering reflection prompts: claiming due occurrences and sending them to the community
channel (with a thread for answers), to subscribed members by DM (a paced fan-out) and into
pair spaces.

The database decides what is due; every occurrence and every recipient is claimed with a
unique row before anything is sent, so restarts and overlapping sweeps never send twice.
Commands and components live in ``cogs.prompts``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import discord
from apscheduler.triggers.date import DateTrigger

from bot.client import LanternBot
from bot.db.models.prompts import (
    DeliveryKind,
    DeliveryStatus,
    OccurrenceStatus,
    PromptDelivery,
    PromptOccurrence,
    PromptSchedule,
)
from bot.db.queries import prompts as q
from bot.db.queries.members import (
    list_subscribed,
    load_profile,
)
from bot.db.queries.setup import get_guild_settings
from bot.domain.areas import AREA_KEYS, area_label
from bot.domain.prompts import (
    Library,
    Prompt,
    next_prompt,
    render_prompt,
    shared_areas,
)
from bot.domain.schedule import (
    ScheduleError,
    next_occurrence,
    occurrences_between,
    parse_schedule,
    plan_catch_up,
)
from bot.domain.text import defuse_mentions, safe_inline, strip_controls
from bot.fanout import DEFAULT_RATE_PER_S, FanoutResult, HttpDmSender, Pacer, fan_out_dms
from bot.gateway.components import custom_id

log = logging.getLogger("lantern.prompts")

DM_FOOTER = (
    "Reply to this message (or press **Reflect**) to write a private reflection. "
    "Only you can read it unless you choose to share it. Say `pause prompts` to pause."
)
NO_MENTIONS: dict[str, list[str]] = {"parse": []}


def moderator_text(text: str) -> str:
    """Moderator-written prompt text made inert: no mass or role pings, no bidi tricks."""
    return defuse_mentions(strip_controls(text))


def reflect_components(delivery_id: int) -> list[dict[str, Any]]:
    """The persistent Reflect button as a raw component (cheap to build for 10,000 DMs)."""
    return [
        {
            "type": 1,
            "components": [
                {
                    "type": 2,
                    "style": 1,
                    "label": "Reflect",
                    "custom_id": custom_id("prompts", "reflect", delivery_id),
                }
            ],
        }
    ]


def reflect_button(delivery_id: int) -> discord.ui.Button[Any]:
    """The persistent Reflect button (``ReflectButton`` in ``cogs.prompts`` answers it)."""
    return discord.ui.Button(
        label="Reflect",
        style=discord.ButtonStyle.primary,
        custom_id=custom_id("prompts", "reflect", delivery_id),
    )


class PromptDeliverer:
    """The prompts feature's delivery engine."""

    def __init__(self, bot: LanternBot, shipped: Library) -> None:
        self.bot = bot
        self.shipped = shipped
        self.pacer = Pacer(DEFAULT_RATE_PER_S)
        self.sender = HttpDmSender(bot.http)

    async def library(self, session: Any, guild_id: int) -> Library:
        """This guild's library (shipped prompts with its edits)."""
        return await q.load_guild_library(session, guild_id=guild_id, shipped=self.shipped)

    def arm(self, schedule: PromptSchedule) -> None:
        """An in-memory job at the schedule's next run; the sweep is what makes it correct."""
        job_id = f"prompts:schedule:{schedule.id}"
        if schedule.paused or schedule.deleted or schedule.next_run_at is None:
            self.bot.scheduler.remove_job(job_id)
            return
        self.bot.scheduler.add_job(
            job_id, self.run_due_prompts, DateTrigger(run_date=schedule.next_run_at)
        )

    # -------------------------------------------------------------------- delivery

    async def claim(
        self,
        session: Any,
        schedule: PromptSchedule,
        due_at: datetime,
        now: datetime,
        *,
        manual: bool = False,
    ) -> PromptOccurrence | None:
        """Claim an occurrence and write its recipients, in the caller's transaction."""
        library = await self.library(session, schedule.guild_id)
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
            if settings and settings.reflections_channel_id:
                rows.append(row(DeliveryKind.CHANNEL, settings.reflections_channel_id, None, key))
        if schedule.to_dm:
            for sub in await list_subscribed(session, guild_id=schedule.guild_id):
                rows.append(row(DeliveryKind.DM, sub.user_id, sub.user_id, key))
        if schedule.to_pairs:
            for pair in await q.active_pairs(session, guild_id=schedule.guild_id):
                pair_key = await self._pair_prompt(session, library, schedule, pair, key)
                if pair_key is not None:
                    rows.append(row(DeliveryKind.PAIR, pair.id or 0, None, pair_key))
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
        self, session: Any, library: Library, schedule: PromptSchedule, pair: Any, key: str
    ) -> str | None:
        """A prompt from the pair's shared areas (mentee wants ∩ mentor offers), or none."""
        if schedule.prompt_key:
            return key
        mentee = await load_profile(
            session, guild_id=pair.guild_id, user_id=pair.mentee_id, cipher=self.bot.cipher
        )
        mentor = await load_profile(
            session, guild_id=pair.guild_id, user_id=pair.mentor_id, cipher=self.bot.cipher
        )
        if mentee is None or mentor is None:
            return None
        areas = shared_areas(mentee.areas_wanted, mentor.areas_offered)
        if not areas:
            return None
        history = await q.pair_history(session, pair_id=pair.id)
        return next_prompt([p.key for p in library.active(areas)], history, salt=f"pair{pair.id}")

    async def run_due_prompts(self, now: datetime) -> None:
        """The sweep: claim due occurrences (catch-up rule), then deliver unfinished ones."""
        window = timedelta(minutes=self.bot.config.scheduler.catch_up_minutes)
        async with self.bot.database.session() as session:
            due = await q.due_schedules(session, now=now)
        for schedule in due:
            await self._process_schedule(schedule, now, window)
        async with self.bot.database.session() as session:
            unfinished = await q.unfinished_occurrences(session)
        for occurrence in unfinished:
            if self.bot.get_guild(occurrence.guild_id) is None:
                continue
            await self.deliver_occurrence(occurrence.id or 0, now)

    async def _process_schedule(
        self, schedule: PromptSchedule, now: datetime, window: timedelta
    ) -> None:
        assert schedule.next_run_at is not None
        try:
            recurrence = parse_schedule(schedule.expression)
            due = [
                schedule.next_run_at,
                *occurrences_between(recurrence, schedule.timezone, schedule.next_run_at, now),
            ]
            following = next_occurrence(recurrence, schedule.timezone, now)
        except ScheduleError:
            log.warning("schedule cannot be read; pausing schedule=%s", schedule.id)
            following, due = None, []
        plan = plan_catch_up(due, now, window)
        async with self.bot.database.session() as session:
            moved = await q.advance_schedule(
                session,
                schedule_id=schedule.id or 0,
                expected=schedule.next_run_at,
                next_run_at=following,
                now=now,
            )
            if not moved:
                return  # another run handled it
            for skipped in plan.skipped:
                await q.claim_occurrence(
                    session,
                    schedule=schedule,
                    due_at=skipped,
                    prompt_key=None,
                    now=now,
                    status=OccurrenceStatus.SKIPPED,
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

    async def deliver_occurrence(self, occurrence_id: int, now: datetime) -> dict[str, int]:
        """Send what is waiting for this occurrence: channel post, pair spaces, DMs."""
        async with self.bot.database.session() as session:
            occurrence = await session.get(PromptOccurrence, occurrence_id)
            assert occurrence is not None
            library = await self.library(session, occurrence.guild_id)
        await self._deliver_channel(occurrence, library, now)
        await self._deliver_pairs(occurrence, library, now)
        prompt = library.get(occurrence.prompt_key or "")
        if prompt is not None:
            result = await self._deliver_dms(occurrence, prompt, now)
            if result.sent or result.dm_closed or result.failed:
                log.info(
                    "dm fan-out occurrence=%s sent=%d dm_closed=%d failed=%d retry=%d",
                    occurrence_id,
                    result.sent,
                    result.dm_closed,
                    result.failed,
                    result.retry,
                )
        async with self.bot.database.session() as session:
            if not await q.has_open_deliveries(session, occurrence_id=occurrence_id):
                await q.finish_occurrence(session, occurrence_id=occurrence_id, now=now)
            return await q.delivery_counts(session, occurrence_id=occurrence_id)

    def _text(self, prompt: Prompt, footer: str = "") -> str:
        safe = Prompt(
            key=prompt.key,
            area=prompt.area,
            text=moderator_text(prompt.text),
            follow_ups=tuple(moderator_text(f) for f in prompt.follow_ups),
        )
        return render_prompt(safe, area_label(prompt.area), footer=footer)

    async def _deliver_dms(
        self, occurrence: PromptOccurrence, prompt: Prompt, now: datetime
    ) -> FanoutResult:
        content = self._text(prompt, DM_FOOTER)

        def payload_for(delivery: PromptDelivery) -> dict[str, Any]:
            return {
                "content": content,
                "allowed_mentions": NO_MENTIONS,
                "components": reflect_components(delivery.id or 0),
            }

        return await fan_out_dms(
            self.bot.database,
            self.sender,
            occurrence_id=occurrence.id or 0,
            guild_id=occurrence.guild_id,
            payload_for=payload_for,
            now=now,
            pacer=self.pacer,
        )

    async def _deliver_channel(
        self, occurrence: PromptOccurrence, library: Library, now: datetime
    ) -> None:
        async with self.bot.database.session() as session:
            claimed = await q.claim_deliveries(
                session,
                occurrence_id=occurrence.id or 0,
                kind=DeliveryKind.CHANNEL,
                now=now,
                limit=1,
            )
        for delivery in claimed:
            prompt = library.get(delivery.prompt_key or "")
            channel = self.bot.get_channel(delivery.recipient_id)
            outcome: dict[str, Any] = {"id": delivery.id, "updated_at": now}
            if prompt is None or not isinstance(channel, discord.TextChannel):
                outcome.update(status=DeliveryStatus.FAILED, error_code=10003)
            else:
                view = discord.ui.View(timeout=None)
                view.add_item(reflect_button(delivery.id or 0))
                footer = (
                    "Answer in the thread below, or press **Reflect** to write privately first."
                )
                try:
                    message = await channel.send(self._text(prompt, footer), view=view)
                    thread_id = None
                    try:
                        thread = await message.create_thread(
                            name=f"Reflections · {safe_inline(prompt.text, limit=80)}"[:100],
                            auto_archive_duration=10080,
                        )
                        thread_id = thread.id
                    except discord.HTTPException:
                        log.warning("could not open a prompt thread occurrence=%s", occurrence.id)
                    async with self.bot.database.session() as session:
                        await q.set_occurrence_post(
                            session,
                            occurrence_id=occurrence.id or 0,
                            message_id=message.id,
                            thread_id=thread_id,
                        )
                    outcome.update(
                        status=DeliveryStatus.SENT, channel_id=channel.id, message_id=message.id
                    )
                except discord.HTTPException as error:
                    log.warning(
                        "prompt channel post failed occurrence=%s code=%s",
                        occurrence.id,
                        error.code,
                    )
                    outcome.update(status=DeliveryStatus.FAILED, error_code=error.code)
            async with self.bot.database.session() as session:
                await q.record_outcomes(session, outcomes=[outcome])

    async def _deliver_pairs(
        self, occurrence: PromptOccurrence, library: Library, now: datetime
    ) -> None:
        from bot.db.models.matching import Pair

        while True:
            async with self.bot.database.session() as session:
                claimed = await q.claim_deliveries(
                    session,
                    occurrence_id=occurrence.id or 0,
                    kind=DeliveryKind.PAIR,
                    now=now,
                    limit=20,
                )
                pairs = {d.recipient_id: await session.get(Pair, d.recipient_id) for d in claimed}
            if not claimed:
                return
            outcomes = []
            for delivery in claimed:
                pair = pairs.get(delivery.recipient_id)
                prompt = library.get(delivery.prompt_key or "")
                outcome: dict[str, Any] = {"id": delivery.id, "updated_at": now}
                channel = (
                    self.bot.get_channel(pair.channel_id) if pair and pair.channel_id else None
                )
                if prompt is None or not isinstance(channel, discord.TextChannel):
                    outcome.update(status=DeliveryStatus.FAILED, error_code=10003)
                else:
                    view = discord.ui.View(timeout=None)
                    view.add_item(reflect_button(delivery.id or 0))
                    try:
                        message = await channel.send(
                            self._text(
                                prompt, "A prompt for the two of you, from your shared areas."
                            ),
                            view=view,
                        )
                        outcome.update(
                            status=DeliveryStatus.SENT,
                            channel_id=channel.id,
                            message_id=message.id,
                        )
                    except discord.HTTPException as error:
                        outcome.update(status=DeliveryStatus.FAILED, error_code=error.code)
                outcomes.append(outcome)
            async with self.bot.database.session() as session:
                await q.record_outcomes(session, outcomes=outcomes)
