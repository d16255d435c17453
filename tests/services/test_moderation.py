"""Moderation service: audit entries carry ids only; alerts reach the alerts channel."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import AuditEntry
from tests.services.conftest import World

GUILD = 10


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


async def test_audit_records_ids_and_the_action(world: World) -> None:
    await world.services.moderation.audit(GUILD, 7, "pairs.end", target_user_id=8, target_id=3)
    async with world.database.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.actor_id, e.action, e.target_user_id, e.target_id) for e in entries] == [
        (7, "pairs.end", 8, 3)
    ]
