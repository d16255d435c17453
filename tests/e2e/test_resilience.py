"""Database trouble gets a kind "temporarily unavailable" reply and Lantern recovers by itself
(RELIABILITY.md promise 11)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import simcord
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.client import LanternBot, create_bot
from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.queries.setup import get_guild_settings
from tests.conftest import make_database
from tests.e2e.conftest import Community
from tests.factories import onboarded


@pytest.fixture
def simcord_bot(
    config: Config, database_url: str, cipher: Cipher, database: Database
) -> LanternBot:
    # A short busy timeout so a locked SQLite database answers quickly.
    return create_bot(
        config, database=make_database(database_url, busy_timeout_ms=200), cipher=cipher
    )


def _lock_sqlite(database_url: str) -> sqlite3.Connection:
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    locker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    return locker


async def test_locked_database_is_temporarily_unavailable_then_recovers(
    community: Community, database_url: str, backend_name: str
) -> None:
    bot = community.env.bot
    if backend_name == "sqlite":
        locker = _lock_sqlite(database_url)
        result = await community.moderator.slash(community.general, "setup")
        assert result.ephemeral
        assert "temporarily unavailable" in result.response.content
        simcord.assert_error(community.env, OperationalError, contains="database is locked")
        locker.execute("ROLLBACK")
        locker.close()
    else:
        first = await community.moderator.slash(community.general, "setup")
        assert "Lantern is set up" in first.response.content
        # This test's connections carry its schema as application_name (tests/conftest.py),
        # so nothing else using the database is touched.
        schema = database_url.rpartition("search_path%3D")[2]
        admin = make_database(database_url)
        async with admin.engine.begin() as conn:
            killed = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND application_name = :name "
                    "AND state = 'idle'"
                ),
                {"name": schema},
            )
            assert killed.scalar_one() >= 1, "Lantern's pooled connection should be killed"
        await admin.dispose()
    result = await community.moderator.slash(community.general, "setup")
    assert "Lantern is set up" in result.response.content
    async with bot.database.session() as session:
        assert await get_guild_settings(session, guild_id=community.guild.id) is not None
    # The second, successful run reused what the failed one created: no duplicates.
    names = [c for c in community.guild.channels if c == "lantern-alerts"]
    assert len(names) == 1


async def test_a_write_kept_waiting_by_the_sqlite_lock_is_temporarily_unavailable(
    community: Community, database_url: str, backend_name: str
) -> None:
    """The savepoint's own ``BEGIN IMMEDIATE`` (bot/db/engine.py) fails with sqlite3's error,
    not SQLAlchemy's: it is database trouble too, not "something went wrong"."""
    if backend_name != "sqlite":
        pytest.skip("SQLite's write lock")
    bot = community.env.bot
    member = community.member
    now = community.env.now()
    guild_id = community.guild.id
    await onboarded(bot.database, bot.cipher, guild_id=guild_id, user_id=member.id, now=now)
    other = community.moderator
    locker = _lock_sqlite(database_url)
    try:
        # A block's first write is a savepoint (a unique key decides a double click).
        result = await member.slash(community.general, "match block", member=other)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert result.ephemeral
    assert "temporarily unavailable" in result.response.content
    simcord.assert_error(community.env, sqlite3.OperationalError, contains="database is locked")
    again = await member.slash(community.general, "match block", member=other)
    assert "temporarily unavailable" not in again.response.content
