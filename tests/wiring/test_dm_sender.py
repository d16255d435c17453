"""The DM fan-out's sender on discord.py: it leans on two discord.py internals (per-channel
rate-limit buckets), so an upgrade that renames them fails here instead of silently slowing the
fan-out; it sends raw payloads and turns Discord's refusals into ``SendFailure``s."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.client import LanternBot
from bot.domain.components import reflect_button
from bot.gateway.dm_sender import BUCKET_PRUNE_AT, HttpDmSender
from bot.services.ports import SendFailure


async def test_idle_buckets_are_pruned_and_busy_ones_kept() -> None:
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    assert isinstance(http._buckets, dict)
    for i in range(BUCKET_PRUNE_AT + 5):
        http.get_ratelimit(f"POST /channels/{{channel_id}}/messages:{i}")
    busy = http.get_ratelimit("POST /channels/{channel_id}/messages:busy")
    busy.outgoing = 1
    limited = http.get_ratelimit("POST /channels/{channel_id}/messages:limited")
    limited.remaining = 0
    for bucket in http._buckets.values():
        assert hasattr(bucket, "_pending_requests")
    HttpDmSender(http).prune_buckets()
    assert set(http._buckets) == {
        "POST /channels/{channel_id}/messages:busy",
        "POST /channels/{channel_id}/messages:limited",
    }
    await http.close()


class _Http:
    """discord.py's HTTP client as far as the sender uses it; ``error`` is raised when set."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.payloads: list[dict[str, Any]] = []

    async def start_private_message(self, user_id: int) -> dict[str, Any]:
        if self.error:
            raise self.error
        return {"id": str(user_id + 1)}

    async def send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        if self.error:
            raise self.error
        self.payloads.append(params.payload)
        return {"id": "42"}


def _refusal(cls: type[discord.HTTPException], status: int, code: int) -> Exception:
    return cls(SimpleNamespace(status=status, reason="x"), {"code": code, "message": "no"})


async def test_a_dm_is_a_raw_payload_that_pings_no_one_and_carries_its_buttons() -> None:
    http = _Http()
    sender = HttpDmSender(http)  # type: ignore[arg-type]
    assert await sender.open_dm(5) == 6
    assert await sender.send(6, "x" * 2500, buttons=(reflect_button(9),)) == 42
    (payload,) = http.payloads
    assert payload["allowed_mentions"] == {"parse": []}
    assert len(payload["content"]) == 2000
    assert payload["components"] == [
        {
            "type": 1,
            "components": [
                {
                    "type": 2,
                    "style": 1,
                    "label": "Reflect",
                    "custom_id": "lantern:prompts:reflect:9",
                }
            ],
        }
    ]


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (_refusal(discord.Forbidden, 403, 50007), SendFailure.DMS_CLOSED),
        (_refusal(discord.Forbidden, 403, 50013), SendFailure.MISSING_PERMISSIONS),
        (_refusal(discord.NotFound, 404, 10003), SendFailure.UNKNOWN_CHANNEL),
        (_refusal(discord.DiscordServerError, 503, 0), SendFailure.SERVER_ERROR),
    ],
)
async def test_refusals_come_back_as_send_failures_never_as_exceptions(
    error: Exception, failure: SendFailure
) -> None:
    sender = HttpDmSender(_Http(error))  # type: ignore[arg-type]
    assert await sender.send(6, "hello") == failure
    assert await sender.open_dm(5) == failure


def test_a_bots_sender_uses_the_http_client_it_has_when_it_sends(
    unconnected_bot: LanternBot,
) -> None:
    bot = unconnected_bot
    sender = bot.services.delivery.sender
    assert isinstance(sender, HttpDmSender) and sender.http is bot.http
    replaced = object()
    bot.http = replaced  # type: ignore[assignment]
    assert sender.http is replaced
