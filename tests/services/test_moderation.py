"""Moderation and setup services: audit entries carry ids only; alerts reach the alerts channel."""

from __future__ import annotations

from sqlmodel import select

from bot.db.models import AuditEntry
from tests.services.conftest import World

GUILD = 10


async def test_setup_save_records_one_audit_entry_and_the_moderator_role(world: World) -> None:
    await world.services.setup.save(GUILD, 7, {"moderator_role_id": 55, "alerts_channel_id": 77})
    assert await world.services.setup.moderator_role(GUILD) == 55
    async with world.database.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.actor_id, e.action) for e in entries] == [(7, "setup")]


async def test_alert_posts_to_the_alerts_channel(world: World) -> None:
    await world.services.setup.save(GUILD, 7, {"alerts_channel_id": 77})
    assert await world.services.moderation.alert(GUILD, "A space could not be made")
    assert [m.text for m in world.messenger.posts_in(77)] == ["A space could not be made"]


async def test_alert_without_an_alerts_channel_says_so(world: World) -> None:
    assert not await world.services.moderation.alert(GUILD, "nobody to tell")
    assert world.messenger.sent == []


async def test_alert_to_a_deleted_channel_is_reported_as_not_delivered(world: World) -> None:
    await world.services.setup.save(GUILD, 7, {"alerts_channel_id": 77})
    world.messenger.missing_channels.add(77)
    assert not await world.services.moderation.alert(GUILD, "lost")
