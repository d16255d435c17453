"""Services on a real database (SQLite or PostgreSQL) with recording fakes of the ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlmodel import select

from bot.compute import ThreadCompute
from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database
from bot.services import Services, build_services
from tests.services.fakes import FakeDmSender, FakeJobs, FakeMessenger, FakeSpaces

Row = TypeVar("Row")


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move time forward and return the new now."""
        self.now += timedelta(**delta)
        return self.now


@dataclass
class World:
    """The services under test and the fakes they talk to."""

    services: Services
    messenger: FakeMessenger
    jobs: FakeJobs
    spaces: FakeSpaces
    dm_sender: FakeDmSender
    clock: Clock
    database: Database

    async def rows(self, model: type[Row]) -> list[Row]:
        """Every stored row of ``model``, in the order they were written (by id)."""
        table: Any = model
        async with self.database.session() as session:
            return list((await session.execute(select(table).order_by(table.id))).scalars())

    def second_process(self, **ports: Any) -> Services:
        """Another Lantern process on the same database, clock, cipher and configuration; it
        shares this world's Discord fakes, jobs and compute unless ``ports`` replace them."""
        ctx = self.services.ctx
        shared: dict[str, Any] = {
            "messenger": self.messenger,
            "jobs": self.jobs,
            "spaces": self.spaces,
            "dm_sender": self.dm_sender,
            "compute": ctx.compute,
        }
        return build_services(
            database=self.database,
            cipher=ctx.cipher,
            config=ctx.config,
            clock=self.clock,
            **(shared | ports),
        )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(database: Database, cipher: Cipher, config: Config, clock: Clock) -> World:
    messenger, jobs, spaces, dm_sender = FakeMessenger(), FakeJobs(), FakeSpaces(), FakeDmSender()
    services = build_services(
        database=database,
        cipher=cipher,
        config=config,
        clock=clock,
        messenger=messenger,
        jobs=jobs,
        spaces=spaces,
        dm_sender=dm_sender,
        compute=ThreadCompute(poll=0.01),
    )
    return World(services, messenger, jobs, spaces, dm_sender, clock, database)
