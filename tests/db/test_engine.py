"""The database file: created readable by its owner only, with its folder."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.db.engine import Database, create_engine


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
