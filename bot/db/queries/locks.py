"""Per-server serialisation across processes: PostgreSQL transaction-level advisory locks.

A lock is named by a *purpose* (``"spaces"``: placing and creating private channels;
``"round"``: publishing a matching round; ...) and a server id, and lives as long as the
transaction of the session it was taken in: committing or rolling back releases it, and so does
the connection dropping (a crashed process never leaves one behind). Two processes asking for
the same purpose and server take turns; different servers or purposes never wait on each other.

SQLite has no such lock and needs none across processes: Lantern refuses a second process on a
SQLite file (``bot.db.engine.lock_single_process``), so the caller's in-process lock is the whole
story there (``bot.services.context.Context.server_lock``).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def lock_key(purpose: str, guild_id: int) -> int:
    """The advisory lock's 64-bit key: stable across processes, versions and restarts (a hash of
    the purpose and server, not Python's per-process ``hash``)."""
    digest = hashlib.blake2b(f"lantern:{purpose}:{guild_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def has_server_locks(session: AsyncSession) -> bool:
    """Whether the database serialises processes (PostgreSQL) or the process must (SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


async def try_server_lock(session: AsyncSession, purpose: str, guild_id: int) -> bool:
    """Take the lock for this transaction if nobody holds it; ``False`` if another does.

    Always ``True`` where the database has no such locks (SQLite: see the module's note).
    """
    if not has_server_locks(session):
        return True
    taken = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(purpose, guild_id)}
    )
    return bool(taken.scalar_one())


async def server_lock(session: AsyncSession, purpose: str, guild_id: int) -> None:
    """Wait for the lock and hold it until this transaction ends (nothing on SQLite)."""
    if has_server_locks(session):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(purpose, guild_id)}
        )
