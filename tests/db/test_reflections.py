"""queries/reflections.py on SQLite and PostgreSQL: encrypted at rest, the author's own page,
a DM reply found only for the member it was sent to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.models import PromptDelivery
from bot.db.queries import reflections as q
from bot.db.queries.delivery import claim_occurrence
from tests.factories import add_schedule

GUILD = 10
NOW = datetime(2026, 1, 5, 14, tzinfo=UTC)


async def _save(database: Database, cipher: Cipher, user_id: int, words: str, **extra: object):  # type: ignore[no-untyped-def]
    async with database.session() as session:
        return await q.save_reflection(
            session,
            guild_id=GUILD,
            user_id=user_id,
            text=words,
            cipher=cipher,
            now=extra.pop("now", NOW),  # type: ignore[arg-type]
            prompt_key=None,
            area=extra.pop("area", None),  # type: ignore[arg-type]
            occurrence_id=None,
            delivery_id=None,
        )


async def test_reflections_are_encrypted_and_listed_for_their_author_only(
    database: Database, cipher: Cipher
) -> None:
    for n in range(5):
        await _save(
            database,
            cipher,
            1,
            f"private words {n}",
            now=NOW + timedelta(hours=n),
            area="identity" if n % 2 else "culture",
        )
    await _save(database, cipher, 2, "someone else")
    async with database.session() as session:
        raw = (await session.execute(text("SELECT text_enc FROM reflection"))).scalars().all()
        page, total = await q.list_reflections(
            session, guild_id=GUILD, user_id=1, area=None, offset=0, limit=3
        )
        identity, count = await q.list_reflections(
            session, guild_id=GUILD, user_id=1, area="identity", offset=0, limit=10
        )
    assert not any("private" in value for value in raw)
    assert total == 5 and [cipher.decrypt(r.text_enc) for r in page] == [
        "private words 4",
        "private words 3",
        "private words 2",
    ]
    assert count == 2 and {r.area for r in identity} == {"identity"}


async def test_sharing_is_recorded_per_place(database: Database, cipher: Cipher) -> None:
    row = await _save(database, cipher, 1, "words")
    async with database.session() as session:
        await q.mark_reflection_shared(session, reflection_id=row.id, where="thread", now=NOW)
    async with database.session() as session:
        again = await q.get_reflection(session, reflection_id=row.id)
    assert again is not None and again.shared_thread_at is not None
    assert again.shared_pair_at is None


async def test_a_dm_delivery_is_found_by_its_message_for_its_member_only(
    database: Database,
) -> None:
    schedule = await add_schedule(database, guild_id=GUILD, now=NOW)
    async with database.session() as session:
        occurrence = await claim_occurrence(
            session, schedule=schedule, due_at=NOW, prompt_key=None, now=NOW
        )
        assert occurrence is not None and occurrence.id is not None
        # Member 1's DM, then the channel post: both sent, their message ids one apart.
        for kind, recipient_id, user_id, message_id in (
            ("dm", 1, 1, 2**62),
            ("channel", 77, None, 2**62 + 1),
        ):
            session.add(
                PromptDelivery(
                    occurrence_id=occurrence.id,
                    guild_id=GUILD,
                    kind=kind,
                    recipient_id=recipient_id,
                    user_id=user_id,
                    status="sent",
                    message_id=message_id,
                    updated_at=NOW,
                )
            )
    async with database.session() as session:
        found = await q.find_dm_delivery(session, user_id=1, message_id=2**62)
        assert found is not None and found.recipient_id == 1
        assert await q.find_dm_delivery(session, user_id=2, message_id=2**62) is None
        assert await q.find_dm_delivery(session, user_id=1, message_id=2**62 + 1) is None
