"""The DM fan-out's sender on discord.py's HTTP client: raw payloads, no object building.

It answers the services' ``DmSender`` port: a refusal comes back as a ``SendFailure``
(``classify``), never as a Discord exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.domain.components import Button
from bot.domain.text import fit
from bot.gateway.components import raw_components
from bot.gateway.errors import classify
from bot.services.ports import SendFailure

NO_MENTIONS: dict[str, list[str]] = {"parse": []}

# discord.py keeps one rate-limit bucket per DM channel and, once it holds 256 of them, scans
# every bucket on every request (they expire after 5 minutes): a 10,000-member fan-out would
# cost O(n) CPU per message. The sender drops idle buckets itself, staying under that threshold.
BUCKET_PRUNE_AT = 200


class HttpDmSender:
    """A ``DmSender`` on discord.py's HTTP client: raw payloads, no object building."""

    def __init__(
        self,
        http: discord.http.HTTPClient | discord.Client,
        *,
        observe: Callable[[str], None] | None = None,
    ) -> None:
        self._source = http
        # Told each request's outcome ("sent", "opened" or a SendFailure value): metrics.
        self._observe = observe or (lambda outcome: None)

    @property
    def http(self) -> Any:
        """The HTTP client; a bot's is read on each use (it is replaced when it connects)."""
        if isinstance(self._source, discord.Client):
            return self._source.http
        return self._source

    async def open_dm(self, user_id: int) -> int | SendFailure:
        """The DM channel id for ``user_id``, or why Discord refused."""
        return await self._request("opened", self.http.start_private_message(user_id))

    async def send(
        self, channel_id: int, text: str, *, buttons: Sequence[Button] = ()
    ) -> int | SendFailure:
        """Post ``text`` with ``buttons``, pinging no one; the message id, or why not."""
        payload: dict[str, Any] = {"content": fit(text), "allowed_mentions": NO_MENTIONS}
        if buttons:
            payload["components"] = raw_components(buttons)
        params = discord.http.MultipartParameters(payload=payload, multipart=None, files=None)
        return await self._request("sent", self.http.send_message(channel_id, params=params))

    async def _request(self, outcome: str, request: Awaitable[Any]) -> int | SendFailure:
        """Await one Discord request; the id of what it made (told as ``outcome``), or why
        Discord refused. Idle rate-limit buckets are pruned either way."""
        try:
            data = await request
        except discord.HTTPException as error:
            failure = classify(error)
            self._observe(failure.value)
            return failure
        finally:
            self.prune_buckets()
        self._observe(outcome)
        return int(data["id"])

    def prune_buckets(self) -> None:
        """Forget per-channel rate-limit buckets nobody is waiting on (global limits stay)."""
        buckets = getattr(self.http, "_buckets", None)
        if not isinstance(buckets, dict) or len(buckets) < BUCKET_PRUNE_AT:
            return
        idle = [
            key
            for key, bucket in buckets.items()
            if getattr(bucket, "outgoing", 1) == 0
            and not getattr(bucket, "_pending_requests", True)
            and getattr(bucket, "remaining", 0) > 0
        ]
        for key in idle:
            del buckets[key]
