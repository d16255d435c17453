"""The fan-out leans on two discord.py internals (per-channel rate-limit buckets); if an
upgrade renames them, this fails instead of the fan-out silently slowing down."""

from __future__ import annotations

import asyncio

import discord

from bot.gateway.dm_sender import BUCKET_PRUNE_AT, HttpDmSender


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
