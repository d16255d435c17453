"""One REST budget for every process on a bot token: the fan-out pacer, shared through Redis.

Discord gives a bot token 50 requests per second in all, however many processes use it. Each
process's ``Pacer`` spaces its own requests; ``SharedPacer`` spaces everyone's with two small
Lua scripts on one Redis (atomic, and timed by Redis's own clock, so process clocks never
matter):

- ``reserve`` hands out the next free slot, ``1/rate`` seconds after the previous one;
- ``admit`` then checks a sliding one-second window of actual send times (a sorted set) and
  refuses while ``cap`` requests went out in the last second (a process that woke late must
  not burst), telling the caller how long to wait.

Why this and not a REST proxy (nirn-proxy) or a limiter library: the only requests Lantern
paces are the DM fan-out's, which already go through one ``Pacer``; a proxy would be one more
service to run and a hop on every request, and the limiter libraries on PyPI are token buckets
that allow a burst of ``capacity`` at once, which a sliding one-second window (what Discord
counts) would refuse. Per-route buckets stay with discord.py in each process: it reads them
from Discord's response headers, which already reflect every process's use of the route.

If Redis cannot be reached, pacing falls back to this process alone at ``fallback_rate``
(set it to the budget divided by the number of processes) and says so in the log, once a
minute; it goes back to Redis on the next request that reaches it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import time
import uuid
from typing import Any

from bot.services.fanout import Pacer

log = logging.getLogger("lantern.ratelimit")

RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
redis.call('SET', KEYS[1], string.format('%.0f', slot + tonumber(ARGV[1])), 'PX', 60000)
return slot - now
"""

ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000000)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 2000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + 1000000 - now + 1
"""

WARN_EVERY_S = 60.0


def budget_key(token: str | None) -> str:
    """The Redis key prefix of one bot token's budget (never the token itself)."""
    if not token:
        return "lantern:rest"
    return "lantern:rest:" + hashlib.sha256(token.encode()).hexdigest()[:16]


class SharedPacer(Pacer):
    """A ``Pacer`` whose slots and one-second window are shared by every process on Redis."""

    def __init__(
        self,
        redis_url: str,
        rate: float,
        *,
        key: str = "lantern:rest",
        cap: int | None = None,
        fallback_rate: float = 10.0,
        client: Any = None,
    ) -> None:
        super().__init__(rate, cap=cap)
        import redis.asyncio as aioredis

        self.redis = client if client is not None else aioredis.from_url(redis_url)
        self.key = key
        self.local = Pacer(fallback_rate)
        self._reserve = self.redis.register_script(RESERVE)
        self._admit = self.redis.register_script(ADMIT)
        self._me = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ids = itertools.count()
        self._warned = 0.0
        self.fallbacks = 0

    async def wait(self) -> None:
        """Reserve the next shared slot, sleep until it, then pass the shared one-second cap."""
        try:
            await self._wait_shared()
        except Exception as error:
            if not _is_redis_failure(error):
                raise
            self.fallbacks += 1
            now = time.monotonic()
            if now - self._warned >= WARN_EVERY_S:
                self._warned = now
                log.warning(
                    "redis unreachable, pacing this process alone rate=%.2f error=%s",
                    1 / self.local.interval,
                    type(error).__name__,
                )
            await self.local.wait()

    async def _wait_shared(self) -> None:
        interval_us = int(self.interval * 1_000_000)
        wait_us = int(await self._reserve(keys=[self.key + ":next"], args=[interval_us]))
        if wait_us > 0:
            await asyncio.sleep(wait_us / 1_000_000)
        member = f"{self._me}:{next(self._ids)}"
        while True:
            wait_us = int(await self._admit(keys=[self.key + ":sent"], args=[self.cap, member]))
            if wait_us <= 0:
                return
            await asyncio.sleep(wait_us / 1_000_000)

    async def close(self) -> None:
        """Close the Redis connection pool."""
        await self.redis.aclose()


def _is_redis_failure(error: BaseException) -> bool:
    from redis.exceptions import RedisError

    return isinstance(error, RedisError | OSError | asyncio.TimeoutError)
