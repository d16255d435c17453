"""What every service is built with: the database, the cipher, the config, the clock, the ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database
from bot.services.events import Events
from bot.services.ports import Jobs, Messenger


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
    # BRIDGE (removed when every feature has moved): old cog methods a stub service forwards to.
    legacy: dict[str, Callable[..., Awaitable[Any]]] = field(default_factory=dict)

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

    def _legacy(self, name: str) -> Callable[..., Awaitable[Any]]:
        """BRIDGE: the old cog method registered under ``name`` (until its feature moves)."""
        return self.ctx.legacy[name]
