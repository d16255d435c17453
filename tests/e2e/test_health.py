"""Metrics and health: /readyz is ready only with the gateway connected and the database up."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest
import simcord

from bot.config import Config, GatewaySection, MetricsSection, SchedulerSection
from bot.db.engine import create_engine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def config() -> Config:
    return Config(
        scheduler=SchedulerSection(enabled=False),
        gateway=GatewaySection(shard_count=2),
        metrics=MetricsSection(port=_free_port()),
        source="<tests>",
    )


async def _get(env: simcord.Env, path: str) -> tuple[int, Any]:
    port = env.bot.health.port  # type: ignore[attr-defined]
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        body = await (response.json() if path == "/readyz" else response.text())
        return response.status, body


async def test_ready_when_connected_and_the_database_answers(simcord_env: simcord.Env) -> None:
    status, body = await _get(simcord_env, "/readyz")
    assert (status, body) == (200, {"ready": True})
    assert (await _get(simcord_env, "/healthz"))[0] == 200


async def test_not_ready_while_the_database_is_unreachable(simcord_env: simcord.Env) -> None:
    bot: Any = simcord_env.bot
    working = bot.database.engine
    bot.database.engine = create_engine("postgresql+asyncpg://lantern@127.0.0.1:1/lantern")
    try:
        status, body = await _get(simcord_env, "/readyz")
    finally:
        await bot.database.engine.dispose()
        bot.database.engine = working
    assert status == 503
    assert any("database not answering" in p for p in body["problems"]), body
    assert (await _get(simcord_env, "/readyz"))[0] == 200, "ready again once it answers"


async def test_not_ready_while_a_shard_is_disconnected(simcord_env: simcord.Env) -> None:
    bot: Any = simcord_env.bot
    await bot.get_shard(1).disconnect()
    status, body = await _get(simcord_env, "/readyz")
    assert status == 503 and "shard 1 disconnected" in body["problems"], body
    await bot.get_shard(1).reconnect()
    await simcord_env.settle()
    assert (await _get(simcord_env, "/readyz"))[0] == 200


async def test_interactions_and_their_latency_are_counted(simcord_env: simcord.Env) -> None:
    env = simcord_env
    guild = env.create_guild("Lantern Test Community", shard_id=1)
    general = guild.create_text_channel("general")
    member = guild.add_member(env.create_user("kai"))
    await env.settle()
    await member.slash(general, "onboard")
    status, text = await _get(env, "/metrics")
    assert status == 200
    assert 'lantern_interactions_total{kind="application_command"} 1.0' in text
    assert 'lantern_command_seconds_count{command="onboard"} 1.0' in text
    for name in ("lantern_rest_429_total", "lantern_sweep_lag_seconds", "lantern_dm_deliveries"):
        assert f"# HELP {name}" in text


def test_discord_429_warnings_are_counted_by_scope() -> None:
    import logging

    from bot.metrics import Metrics, RateLimitCounter

    metrics = Metrics()
    counter = RateLimitCounter(metrics)
    http = logging.getLogger("discord.http")
    http.addHandler(counter)
    try:
        fmt = "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds."
        http.warning(fmt, "POST", "/channels/1/messages", 0.5)
        http.warning("Global rate limit has been hit. Retrying in %.2f seconds.", 0.5)
        http.warning("something else")
    finally:
        http.removeHandler(counter)
    text = metrics.render().decode()
    assert 'lantern_rest_429_total{scope="route"} 1.0' in text
    assert 'lantern_rest_429_total{scope="global"} 1.0' in text
