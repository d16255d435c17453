"""DM fan-out: deliver one prompt to many members at Discord's pace, at most once each.

Recipients are rows in ``prompt_delivery``. A batch is claimed (``pending`` -> ``sending``) in
one statement before its messages go out, and each outcome is written when the batch ends, so
a crash never resends: rows left in ``sending`` by a killed process are not retried. Requests
are paced below the global limit by a shared ``Pacer`` and run with bounded concurrency;
discord.py itself honours 429s. 50007 (DMs closed) marks the member and is never retried; 503
and exhausted 5xx are retried by a later sweep; anything else is recorded as failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import discord

from bot.db.engine import Database
from bot.db.models.prompts import DeliveryKind, DeliveryStatus, PromptDelivery
from bot.db.queries.prompts import (
    claim_deliveries,
    mark_dms_closed,
    record_outcomes,
    remember_dm_channels,
    subscriptions_for,
)

log = logging.getLogger("lantern.fanout")

DMS_CLOSED = 50007
UNKNOWN_CHANNEL = 10003
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=10)


class Pacer:
    """Spaces requests evenly at ``rate`` per second across every task that shares it."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        """Reserve the next slot and sleep until it comes."""
        now = self.clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class DmSender(Protocol):
    """What the fan-out needs from Discord: open a DM channel, post a message in it."""

    async def open_dm(self, user_id: int) -> int: ...

    async def send(self, channel_id: int, payload: dict[str, Any]) -> int: ...


class HttpDmSender:
    """A ``DmSender`` on discord.py's HTTP client: raw payloads, no object building."""

    def __init__(self, http: Any) -> None:
        self.http = http

    async def open_dm(self, user_id: int) -> int:
        data = await self.http.start_private_message(user_id)
        return int(data["id"])

    async def send(self, channel_id: int, payload: dict[str, Any]) -> int:
        params = discord.http.MultipartParameters(payload=payload, multipart=None, files=None)
        data = await self.http.send_message(channel_id, params=params)
        return int(data["id"])


@dataclass
class FanoutResult:
    """What one fan-out run did."""

    sent: int = 0
    dm_closed: int = 0
    failed: int = 0
    retry: int = 0
    requests: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


PayloadFor = Callable[[PromptDelivery], dict[str, Any]]


async def fan_out_dms(
    database: Database,
    sender: DmSender,
    *,
    occurrence_id: int,
    guild_id: int,
    payload_for: PayloadFor,
    now: datetime,
    pacer: Pacer,
    concurrency: int = 8,
    batch_size: int = 50,
) -> FanoutResult:
    """Send every waiting DM delivery of ``occurrence_id``; safe to run again after a crash."""
    result = FanoutResult()
    limit = asyncio.Semaphore(concurrency)
    while True:
        async with database.session() as session:
            batch = await claim_deliveries(
                session,
                occurrence_id=occurrence_id,
                kind=DeliveryKind.DM,
                now=now,
                limit=batch_size,
            )
            subs = await subscriptions_for(
                session, guild_id=guild_id, user_ids=[d.recipient_id for d in batch]
            )
        if not batch:
            return result
        known = {uid: sub.dm_channel_id for uid, sub in subs.items() if sub.dm_channel_id}
        outcomes: dict[int, dict[str, Any]] = {}
        learnt: dict[int, int] = {}
        closed: list[int] = []

        attempted: set[int] = set()

        async def deliver(delivery: PromptDelivery) -> None:
            async with limit:
                outcome = await _deliver_one(
                    sender, delivery, known, learnt, closed, attempted, payload_for, pacer, result
                )
            outcome["updated_at"] = now
            outcomes[delivery.id or 0] = outcome

        try:
            await asyncio.gather(*(deliver(d) for d in batch))
        finally:
            # Record what happened; recipients never attempted go back to pending. Rows whose
            # request may have gone out stay ``sending`` and are never resent.
            for delivery in batch:
                if delivery.id not in outcomes and delivery.id not in attempted:
                    outcomes[delivery.id or 0] = {
                        "status": DeliveryStatus.PENDING,
                        "attempts": max(0, delivery.attempts - 1),
                    }
            async with database.session() as session:
                await record_outcomes(
                    session, outcomes=[{"id": k, **v} for k, v in outcomes.items()]
                )
                await remember_dm_channels(session, guild_id=guild_id, channels=learnt)
                await mark_dms_closed(session, guild_id=guild_id, user_ids=closed, now=now)
        for outcome in outcomes.values():
            status = str(outcome["status"])
            result.outcomes[status] = result.outcomes.get(status, 0) + 1


async def _deliver_one(
    sender: DmSender,
    delivery: PromptDelivery,
    known: dict[int, int],
    learnt: dict[int, int],
    closed: list[int],
    attempted: set[int],
    payload_for: PayloadFor,
    pacer: Pacer,
    result: FanoutResult,
) -> dict[str, Any]:
    user_id = delivery.recipient_id
    channel_id = known.get(user_id)
    try:
        if channel_id is None:
            await pacer.wait()
            attempted.add(delivery.id or 0)
            result.requests += 1
            channel_id = await sender.open_dm(user_id)
            learnt[user_id] = channel_id
        await pacer.wait()
        attempted.add(delivery.id or 0)
        result.requests += 1
        message_id = await sender.send(channel_id, payload_for(delivery))
    except discord.Forbidden as error:
        if error.code == DMS_CLOSED:
            closed.append(user_id)
            result.dm_closed += 1
            return {"status": DeliveryStatus.DM_CLOSED, "error_code": error.code}
        result.failed += 1
        return {"status": DeliveryStatus.FAILED, "error_code": error.code}
    except discord.NotFound as error:
        if error.code == UNKNOWN_CHANNEL:
            learnt[user_id] = 0  # forget a stale DM channel; reopened on the retry
        return _retry_or_fail(delivery, error, result)
    except discord.DiscordServerError as error:
        return _retry_or_fail(delivery, error, result)
    except discord.HTTPException as error:
        result.failed += 1
        return {"status": DeliveryStatus.FAILED, "error_code": error.code or error.status}
    result.sent += 1
    return {"status": DeliveryStatus.SENT, "channel_id": channel_id, "message_id": message_id}


def _retry_or_fail(
    delivery: PromptDelivery, error: discord.HTTPException, result: FanoutResult
) -> dict[str, Any]:
    code = error.code or error.status
    if delivery.attempts >= MAX_ATTEMPTS:
        result.failed += 1
        return {"status": DeliveryStatus.FAILED, "error_code": code}
    result.retry += 1
    return {
        "status": DeliveryStatus.RETRY,
        "error_code": code,
        "next_attempt_at": delivery.updated_at + RETRY_AFTER,
    }
