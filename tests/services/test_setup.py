"""Setup service: saved choices, one audit entry per save, the moderator role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import AuditEntry
from tests.services.conftest import World

GUILD = 10


async def test_setup_save_records_one_audit_entry_and_the_moderator_role(world: World) -> None:
    await world.services.setup.save(GUILD, 7, {"moderator_role_id": 55, "alerts_channel_id": 77})
    assert await world.services.setup.moderator_role(GUILD) == 55
    async with world.database.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.actor_id, e.action) for e in entries] == [(7, "setup")]


async def test_settings_are_empty_before_the_first_setup(world: World) -> None:
    assert await world.services.setup.settings(GUILD) is None
    assert await world.services.setup.current(GUILD) == {}
    assert await world.services.setup.moderator_role(GUILD) is None


async def test_save_refuses_an_unknown_setting_and_keeps_nothing(world: World) -> None:
    with pytest.raises(ValueError, match="unknown guild settings"):
        await world.services.setup.save(GUILD, 7, {"secret_channel_id": 1})
    assert await world.services.setup.settings(GUILD) is None
