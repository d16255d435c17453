"""Server locks: one holder per purpose and server until its transaction ends (PostgreSQL);
nothing to take on SQLite, whose one process serialises in memory."""

from __future__ import annotations

import asyncio

from bot.db.engine import Database
from bot.db.queries.locks import lock_key, server_lock, try_server_lock


def test_keys_are_stable_64_bit_and_apart_by_purpose_and_server() -> None:
    # Every process and every version must compute the same key: pinned, not Python's hash().
    assert lock_key("spaces", 10) == lock_key("spaces", 10) == -7322233859680740537
    keys = {lock_key(p, g) for p in ("spaces", "round", "moderator-access") for g in (1, 2, 10)}
    assert len(keys) == 9
    assert all(-(2**63) <= k < 2**63 for k in keys)


async def test_a_lock_is_held_until_its_transaction_ends(
    database: Database, backend_name: str
) -> None:
    if backend_name == "sqlite":
        async with database.session() as first, database.session() as second:
            assert await try_server_lock(first, "spaces", 10)
            assert await try_server_lock(second, "spaces", 10)  # nothing to take here
        return
    other_db = Database(database.engine)
    async with database.session() as holder:
        await server_lock(holder, "spaces", 10)
        async with other_db.session() as other:
            assert not await try_server_lock(other, "spaces", 10)
            assert await try_server_lock(other, "spaces", 11)  # another server
            assert await try_server_lock(other, "round", 10)  # another purpose
    async with other_db.session() as other:
        assert await try_server_lock(other, "spaces", 10)  # released at commit


async def test_a_waiter_goes_on_when_the_holder_rolls_back(
    database: Database, backend_name: str
) -> None:
    if backend_name == "sqlite":
        return
    order: list[str] = []
    held = asyncio.Event()

    async def holder() -> None:
        try:
            async with database.session() as session:
                await server_lock(session, "round", 10)
                held.set()
                await asyncio.sleep(0.2)
                order.append("holder failed")
                raise RuntimeError("the holder's work failed")
        except RuntimeError:
            pass

    async def waiter() -> None:
        await held.wait()
        async with database.session() as session:
            await server_lock(session, "round", 10)
            order.append("waiter")

    await asyncio.wait_for(asyncio.gather(holder(), waiter()), timeout=10)
    assert order == ["holder failed", "waiter"]
