"""What every service is built with: the database, the cipher, the config, the clock, the ports
(and ``compute``, where CPU-heavy work runs off the event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.queries.locks import server_lock, try_server_lock
from bot.services.events import Events
from bot.services.ports import Compute, Jobs, Messenger

# At most this many pooled connections of a process hold server locks at once, so the work done
# under the locks always finds a connection (the default pool has 5 + 10 overflow).
LOCK_CONNECTIONS = 4


class _KeyedLocks:
    """In-process locks by key, forgotten once nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, int], tuple[asyncio.Lock, int]] = {}

    def busy(self, key: tuple[str, int]) -> bool:
        return key in self._locks and self._locks[key][0].locked()

    @asynccontextmanager
    async def hold(self, key: tuple[str, int]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


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
    _locks: _KeyedLocks = field(default_factory=_KeyedLocks, repr=False)
    _lock_connections: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(LOCK_CONNECTIONS), repr=False
    )

    def now(self) -> datetime:
        """The current UTC time (simulated time under simcord)."""
        return self.clock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One session and transaction: commits on success, rolls back on error."""
        async with self.database.session() as session:
            yield session

    @asynccontextmanager
    async def server_lock(
        self,
        purpose: str,
        guild_id: int,
        *,
        waiting: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[None]:
        """Run the block alone for this server and purpose, across every process.

        On PostgreSQL a transaction holds ``pg_advisory_xact_lock`` for the whole block (Discord
        calls included) and nothing else: the block's own reads and writes use their own short
        transactions. In front of it, an in-process lock per key keeps a process's waiters from
        each holding a pooled connection while they wait (twenty accepts in one server would
        otherwise empty the pool, and the holder could not get one to finish). On SQLite (one
        process only) that in-process lock is the whole guard. ``waiting`` is called once, before
        waiting, if someone else holds the lock (to tell a person why nothing happens yet).
        """
        key = (purpose, guild_id)
        told = False
        if waiting is not None and self._locks.busy(key):
            told = True
            await waiting()
        async with self._locks.hold(key):
            if self.database.dialect != "postgresql":
                yield
                return
            async with self._lock_connections, self.transaction() as session:
                if not await try_server_lock(session, purpose, guild_id):
                    if waiting is not None and not told:
                        await waiting()
                    await server_lock(session, purpose, guild_id)
                yield


class Service:
    """Base of every service: holds the context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
