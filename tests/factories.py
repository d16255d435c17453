"""Builders for test data that would otherwise take a whole onboarding conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.models import ConsentStatus, MemberProfile
from bot.db.queries.members import record_consent, save_answers

MENTEE_DEFAULTS: dict[str, Any] = {
    "role": "mentee",
    "areas_wanted": ["identity", "culture"],
    "languages": ["English", "Tagalog"],
    "timezone": "America/Vancouver",
    "cadence": "every two weeks",
    "about": "Filipino-Scottish, grew up in Glasgow.",
    "hopes": "Feel at home in both halves of my family.",
    "share": ["languages", "timezone", "about", "hopes", "cadence"],
}

MENTOR_DEFAULTS: dict[str, Any] = {
    "role": "mentor",
    "areas_offered": ["identity", "culture", "resilience"],
    "languages": ["English", "Tagalog"],
    "timezone": "America/Los_Angeles",
    "cadence": "every two weeks",
    "capacity": 2,
    "about": "Twenty years in product design; half Filipino, half Irish.",
    "brings": "Patience and a lot of stories.",
    "share": ["languages", "timezone", "about", "brings", "cadence"],
}


async def onboarded(
    database: Database,
    cipher: Cipher,
    *,
    guild_id: int,
    user_id: int,
    now: datetime,
    mentor: bool = False,
    **answers: Any,
) -> None:
    """A member who consented and finished onboarding with these answers."""
    merged = {**(MENTOR_DEFAULTS if mentor else MENTEE_DEFAULTS), **answers}
    async with database.session() as session:
        await record_consent(
            session,
            guild_id=guild_id,
            user_id=user_id,
            status=ConsentStatus.ACCEPTED,
            version="test",
            now=now,
        )
        await save_answers(
            session, guild_id=guild_id, user_id=user_id, answers=merged, cipher=cipher, now=now
        )
        row = await session.get(MemberProfile, (guild_id, user_id))
        assert row is not None
        row.completed_at = now
