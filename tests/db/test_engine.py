"""The database file: created readable by its owner only, with its folder."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from bot.db.engine import Database, PoolSettings, create_engine


async def test_a_new_sqlite_file_and_folder_are_private_to_the_owner(tmp_path: Path) -> None:
    path = tmp_path / "new-folder" / "lantern.db"
    database = Database(create_engine(f"sqlite+aiosqlite:///{path}"))
    try:
        await database.create_all()
    finally:
        await database.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0


async def test_a_savepoints_writes_roll_back_with_their_transaction(database: Database) -> None:
    """On SQLite the driver used to start no transaction at a SAVEPOINT, so a rolled-back
    transaction whose first write was in a savepoint kept that write."""
    from sqlalchemy import func, select

    from bot.db.models import AuditEntry

    class Boom(Exception):
        pass

    now = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with database.session() as session:
            async with session.begin_nested():
                session.add(AuditEntry(guild_id=1, actor_id=2, action="x", created_at=now))
            raise Boom
    except Boom:
        pass
    async with database.session() as session:
        count = (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    assert count == 0


async def test_the_pool_is_sized_as_configured(tmp_path: Path) -> None:
    pool = PoolSettings(size=3, max_overflow=7, timeout_seconds=4)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool=pool)
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 7)  # type: ignore[attr-defined]
        assert engine.pool._timeout == 4  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
    memory = create_engine("sqlite+aiosqlite://", pool=pool)  # one shared connection
    assert type(memory.pool).__name__ == "StaticPool"
    await memory.dispose()
