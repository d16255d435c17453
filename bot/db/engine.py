"""The one database recipe: an async engine, one session per interaction or job."""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from bot.db.pool_changes import TrackedSession


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _sqlite_begin_before_savepoint(connection: Any, _name: str) -> None:
    """Open the transaction a SAVEPOINT must nest in.

    Python's sqlite3 driver starts a transaction only at the first INSERT/UPDATE/DELETE, so a
    SAVEPOINT issued before any write would start one of its own, and releasing it would
    commit: the outer rollback could no longer undo it. ``BEGIN IMMEDIATE`` here makes the
    savepoint nest in the session's transaction (and takes the write lock the savepoint's
    writes need, waiting up to the busy timeout). Reads before any write stay lock-free.
    ``tests/db/test_engine.py`` pins the driver attribute this reads.
    """
    adapted = connection.connection.dbapi_connection
    driver = getattr(adapted, "_connection", None)
    if driver is not None and not driver.in_transaction:
        cursor = adapted.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.close()


def _create_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by the owner only, if they are new.

    SQLite gives its -wal and -shm files the permissions of the database file.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def create_engine(
    url: str, *, busy_timeout_ms: int = 5000, echo: bool = False, **kwargs: Any
) -> AsyncEngine:
    """Build the async engine for ``url``: SQLite gets WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            _create_private_file(Path(database))
        else:
            kwargs.setdefault("poolclass", StaticPool)
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", busy_timeout_ms / 1000)
        engine = create_async_engine(url, echo=echo, connect_args=connect_args, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        event.listen(engine.sync_engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, echo=echo, **kwargs)


class DatabaseInUse(Exception):
    """Another Lantern process already runs on this SQLite database (one line for a person)."""


def lock_single_process(url: str) -> IO[str] | None:
    """On SQLite, take the exclusive lock file beside the database for this process's life.

    SQLite is Lantern's single-process mode (its lease, queues and locks are not meant to be
    shared between processes): a second ``run`` on the same file refuses to start. The lock is
    the kernel's (``flock``), so it is released when the holder exits, however it exits.
    Returns the open lock file to keep (``None`` for PostgreSQL and in-memory SQLite).
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Held open for the process's life; readable by the owner only, like the database.
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DatabaseInUse(
            f"{database}: another Lantern process (pid {holder}) is already running on this "
            "SQLite database; SQLite runs one process only: stop that one, or use PostgreSQL "
            "to run several"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class Database:
    """Owns the engine and hands out sessions; one session and transaction per unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=TrackedSession
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query (the readiness check)."""
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def create_all(self) -> None:
        """Create every table directly (tests and the demo; production uses migrations)."""
        from sqlmodel import SQLModel

        import bot.db.models  # noqa: F401  (registers every table)

        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
