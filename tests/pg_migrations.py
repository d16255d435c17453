"""`python -m tests.pg_migrations URL`: upgrade a scratch PostgreSQL schema and check it.

Runs `db upgrade` and `alembic check` inside a throwaway schema so CI proves the migrations on
PostgreSQL without touching anything else in the database.
"""

from __future__ import annotations

import asyncio
import secrets
import sys

from sqlalchemy import text

from bot.db import migrate
from bot.db.engine import Database, create_engine


async def main(url: str) -> int:
    schema = "mig_" + secrets.token_hex(4)
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(
        create_engine(url, connect_args={"server_settings": {"search_path": schema}})
    )
    try:
        await migrate.upgrade(database)
        diff = await migrate.check(database)
    finally:
        await database.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
    if diff:
        print(f"PostgreSQL: models and migrations differ: {diff}", file=sys.stderr)
        return 1
    print("PostgreSQL: migrations upgrade cleanly and match the models")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
