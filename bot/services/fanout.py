"""DM fan-out: deliver one prompt to many members at Discord's pace, at most once each.

Recipients are rows in ``prompt_delivery``. A batch is claimed (``pending`` -> ``sending``) in
one statement before its messages go out, and each outcome is written when the batch ends, so
a crash never resends: rows left in ``sending`` by a killed process are not retried. Requests
are paced below the global limit by a shared ``Pacer`` and run with bounded concurrency;
discord.py itself honours 429s. DMs closed marks the member and is never retried; 503, exhausted
5xx and a vanished DM channel are retried by a later sweep; anything else is recorded as failed.
The sender (``DmSender``) reports refusals as ``SendFailure``s, so nothing here knows Discord.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.db.engine import Database
from bot.db.models.prompts import DeliveryKind, DeliveryStatus
from bot.db.queries.delivery import (
    claim_deliveries,
    known_dm_channels,
    mark_dms_closed,
    record_outcomes,
    remember_dm_channels,
)
from bot.domain.components import Button
from bot.services.ports import DmSender, SendFailure

log = logging.getLogger("lantern.fanout")

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=10)
# Below Discord's 50 requests/s global limit, with room for scheduling jitter (see bench/).
DEFAULT_RATE_PER_S = 46.5


class Pacer:
    """Spaces requests evenly at ``rate`` per second across every task that shares it.

    A stalled event loop would otherwise release several late slots at once, so actual send
    times are also kept under ``cap`` in any one-second window (Discord counts arrivals).
    """

    def __init__(
        self, rate: float, *, cap: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate
        self.cap = cap if cap is not None else int(rate) + 1
        self.clock = clock
        self._next = 0.0
        self._sent: deque[float] = deque()

    async def wait(self) -> None:
        """Reserve the next slot, sleep until it comes, then respect the one-second cap."""
        now = self.clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)
        while True:
            now = self.clock()
            while self._sent and now - self._sent[0] >= 1.0:
                self._sent.popleft()
            if len(self._sent) < self.cap:
                break
            await asyncio.sleep(self._sent[0] + 1.0 - now)
        self._sent.append(now)


@dataclass
class FanoutResult:
    """What one fan-out run did."""

    sent: int = 0
    dm_closed: int = 0
    left: int = 0
    failed: int = 0
    retry: int = 0
    requests: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


# What one recipient is sent: the text and its buttons (built per delivery row).
MessageFor = Callable[[Any], tuple[str, Sequence[Button]]]
# Whether a member is still in the server (a member who left is skipped, never sent).
Present = Callable[[int], Awaitable[bool]]
# A vanished DM channel or a transient fault: tried again by a later sweep.
_RETRIED = frozenset(
    {
        SendFailure.UNKNOWN_CHANNEL,
        SendFailure.UNKNOWN_MESSAGE,
        SendFailure.UNKNOWN_USER,
        SendFailure.NOT_FOUND,
        SendFailure.SERVER_ERROR,
    }
)


async def fan_out_dms(
    database: Database,
    sender: DmSender,
    *,
    occurrence_id: int,
    guild_id: int,
    message_for: MessageFor,
    now: datetime,
    pacer: Pacer,
    concurrency: int = 8,
    batch_size: int = 100,
    present: Present | None = None,
) -> FanoutResult:
    """Send every waiting DM delivery of ``occurrence_id``; safe to run again after a crash.

    The next batch is claimed, and the previous batch's outcomes written, while the current
    batch is being sent, so the database never leaves the pacer idle.
    """
    result = FanoutResult()
    limit = asyncio.Semaphore(concurrency)

    async def claim() -> tuple[list[Any], dict[int, int]]:
        async with database.session() as session:
            batch = await claim_deliveries(
                session,
                occurrence_id=occurrence_id,
                kind=DeliveryKind.DM,
                now=now,
                limit=batch_size,
            )
            known = await known_dm_channels(
                session, guild_id=guild_id, user_ids=[d.recipient_id for d in batch]
            )
        return batch, known

    async def record(
        outcomes: dict[int, dict[str, Any]], learnt: dict[int, int], closed: list[int]
    ) -> None:
        async with database.session() as session:
            await record_outcomes(session, outcomes=[{"id": k, **v} for k, v in outcomes.items()])
            await remember_dm_channels(session, guild_id=guild_id, channels=learnt)
            await mark_dms_closed(session, guild_id=guild_id, user_ids=closed, now=now)
        for outcome in outcomes.values():
            status = str(outcome["status"])
            result.outcomes[status] = result.outcomes.get(status, 0) + 1

    next_claim: asyncio.Task[tuple[list[Any], dict[int, int]]] | None = asyncio.create_task(claim())
    recording: asyncio.Task[None] | None = None
    try:
        while next_claim is not None:
            batch, known = await next_claim
            next_claim = None
            if not batch:
                break
            next_claim = asyncio.create_task(claim())
            outcomes: dict[int, dict[str, Any]] = {}
            learnt: dict[int, int] = {}
            closed: list[int] = []
            attempted: set[int] = set()

            async def deliver(
                delivery: Any,
                known: dict[int, int] = known,
                learnt: dict[int, int] = learnt,
                closed: list[int] = closed,
                attempted: set[int] = attempted,
                outcomes: dict[int, dict[str, Any]] = outcomes,
            ) -> None:
                async with limit:
                    outcome = await _deliver_one(
                        sender,
                        delivery,
                        known,
                        learnt,
                        closed,
                        attempted,
                        message_for,
                        pacer,
                        result,
                        present,
                    )
                outcome["updated_at"] = now
                outcomes[delivery.id] = outcome

            try:
                await asyncio.gather(*(deliver(d) for d in batch))
            except BaseException:
                # Recipients never attempted go back to pending; rows whose request may have
                # gone out stay ``sending`` and are never resent (at most once).
                for delivery in batch:
                    if delivery.id not in outcomes and delivery.id not in attempted:
                        outcomes[delivery.id] = {
                            "status": DeliveryStatus.PENDING,
                            "attempts": max(0, delivery.attempts - 1),
                        }
                await record(outcomes, learnt, closed)
                raise
            if recording is not None:
                await recording
            recording = asyncio.create_task(record(outcomes, learnt, closed))
        if recording is not None:
            await recording
            recording = None
    finally:
        if recording is not None:
            await recording
        if next_claim is not None:
            prefetched, _ = await next_claim
            if prefetched:
                await record(
                    {
                        d.id: {"status": DeliveryStatus.PENDING, "attempts": d.attempts - 1}
                        for d in prefetched
                    },
                    {},
                    [],
                )
    return result


async def _deliver_one(
    sender: DmSender,
    delivery: Any,
    known: dict[int, int],
    learnt: dict[int, int],
    closed: list[int],
    attempted: set[int],
    message_for: MessageFor,
    pacer: Pacer,
    result: FanoutResult,
    present: Present | None = None,
) -> dict[str, Any]:
    """Open the member's DM if needed, send, and say what to record for the row."""
    user_id = delivery.recipient_id
    if present is not None and not await present(user_id):
        result.left += 1
        return {"status": DeliveryStatus.MEMBER_LEFT}
    channel_id: int | SendFailure | None = known.get(user_id)
    if channel_id is None:
        await pacer.wait()
        attempted.add(delivery.id or 0)
        result.requests += 1
        channel_id = await sender.open_dm(user_id)
        if not isinstance(channel_id, SendFailure):
            learnt[user_id] = channel_id
    sent: int | SendFailure = channel_id
    if not isinstance(channel_id, SendFailure):
        text, buttons = message_for(delivery)
        await pacer.wait()
        attempted.add(delivery.id or 0)
        result.requests += 1
        sent = await sender.send(channel_id, text, buttons=buttons)
    if not isinstance(sent, SendFailure):
        result.sent += 1
        return {"status": DeliveryStatus.SENT, "channel_id": channel_id, "message_id": sent}
    if sent == SendFailure.DMS_CLOSED:
        closed.append(user_id)
        result.dm_closed += 1
        return {"status": DeliveryStatus.DM_CLOSED}
    if sent == SendFailure.UNKNOWN_CHANNEL:
        learnt[user_id] = 0  # forget a stale DM channel; reopened on the retry
    if sent in _RETRIED:
        return _retry_or_fail(delivery, sent, result)
    result.failed += 1
    log.info("dm not delivered delivery=%s reason=%s", delivery.id, sent.value)
    return {"status": DeliveryStatus.FAILED}


def _retry_or_fail(delivery: Any, failure: SendFailure, result: FanoutResult) -> dict[str, Any]:
    """Retry later, unless the row has used up its attempts."""
    if delivery.attempts >= MAX_ATTEMPTS:
        result.failed += 1
        log.info("dm given up delivery=%s reason=%s", delivery.id, failure.value)
        return {"status": DeliveryStatus.FAILED}
    result.retry += 1
    return {
        "status": DeliveryStatus.RETRY,
        "next_attempt_at": delivery.updated_at + RETRY_AFTER,
    }
