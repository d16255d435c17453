"""Shared fixtures: a fresh database per test (SQLite or PostgreSQL) and the real bot factory.

Set LANTERN_TEST_DATABASE=postgresql+asyncpg://... to run the suite against PostgreSQL; each
test then gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.client import LanternBot, create_bot
from bot.compute import ThreadCompute
from bot.config import Config, SchedulerSection
from bot.crypto import Cipher
from bot.db.engine import Database, create_engine

PG_URL = os.environ.get("LANTERN_TEST_DATABASE", "")


def _is_postgres() -> bool:
    return PG_URL.startswith("postgresql")


@pytest.fixture(autouse=True)
def _unfreeze_heap() -> Iterator[None]:
    """A started bot freezes what start-up made (``bot.client.settle_heap``); a test process
    starts hundreds of bots, so each test hands its objects back to the collector."""
    yield
    gc.unfreeze()


@pytest.fixture
def backend_name() -> str:
    return "postgresql" if _is_postgres() else "sqlite"


@pytest_asyncio.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A URL to a fresh, empty database for this test."""
    if not _is_postgres():
        yield f"sqlite+aiosqlite:///{tmp_path / 'lantern.db'}"
        return
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def make_database(url: str, *, busy_timeout_ms: int = 5000) -> Database:
    """A Database for ``url``; on PostgreSQL the per-test schema is the search path."""
    if url.startswith("postgresql") and "options=" in url:
        base, _, options = url.partition("?options=-csearch_path%3D")
        settings = {"search_path": options, "application_name": options}
        engine = create_engine(base, connect_args={"server_settings": settings})
        return Database(engine)
    return Database(create_engine(url, busy_timeout_ms=busy_timeout_ms))


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = make_database(database_url)
    await db.create_all()
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def cipher() -> Cipher:
    return Cipher([Cipher.generate_key()])


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # Scheduled work is driven by tests with simcord's virtual clock (run_sweeps(env.now())).
    return Config(scheduler=SchedulerSection(enabled=False), source="<tests>")


@pytest_asyncio.fixture
async def bot_factory(config: Config, database_url: str, cipher: Cipher):  # type: ignore[no-untyped-def]
    """Builds a new, unstarted bot on this test's database (also used to restart); options
    go to ``create_bot`` (e.g. ``dm_sender=``).

    simcord never closes the bots it ran, so their engines (and round workers) are closed here.
    """
    built: list[LanternBot] = []

    def build(**options: Any) -> LanternBot:
        bot = create_bot(config, database=make_database(database_url), cipher=cipher, **options)
        # Rounds are solved in a thread: spawning the bot's worker process takes seconds on a
        # loaded machine (past simcord's settle timeout). A test of the real worker sets
        # ``bot.services.ctx.compute = bot.compute``.
        bot.services.ctx.compute = ThreadCompute()
        built.append(bot)
        return bot

    yield build
    for bot in built:
        await bot.compute.close()
        await bot.database.dispose()


@pytest_asyncio.fixture
async def simcord_bot(bot_factory, database: Database) -> LanternBot:  # type: ignore[no-untyped-def]
    return bot_factory()
