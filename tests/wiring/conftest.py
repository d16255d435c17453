"""The bot as the wiring tests see it: built but never connected to Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.client import EXTENSIONS, LanternBot, create_bot
from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database, create_engine


@pytest_asyncio.fixture
async def unconnected_bot() -> AsyncIterator[LanternBot]:
    """A bot on an in-memory database that never connects to Discord."""
    bot = create_bot(
        Config(source="<wiring>"),
        database=Database(create_engine("sqlite+aiosqlite:///:memory:")),
        cipher=Cipher([Cipher.generate_key()]),
    )
    yield bot
    await bot.database.dispose()


@pytest_asyncio.fixture
async def loaded_bot(unconnected_bot: LanternBot) -> LanternBot:
    """``unconnected_bot`` with every extension in ``EXTENSIONS`` loaded."""
    for name in EXTENSIONS:
        await unconnected_bot.load_extension(name)
    return unconnected_bot
