"""What every service is built with: the database, the cipher, the config, the clock, the ports
(and ``compute``, where CPU-heavy work runs off the event loop)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database
from bot.services.events import Events
from bot.services.ports import Compute, Jobs, Messenger


@dataclass
class Context:
    """The shared dependencies of the services; one per bot."""

    database: Database
    cipher: Cipher
    config: Config
    clock: Callable[[], datetime]
    messenger: Messenger
    jobs: Jobs
    events: Events
    compute: Compute

    def now(self) -> datetime:
        """The current UTC time (simulated time under simcord)."""
        return self.clock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One session and transaction: commits on success, rolls back on error."""
        async with self.database.session() as session:
            yield session


class Service:
    """Base of every service: holds the context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
