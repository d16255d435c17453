"""Builders for test data that would otherwise take a whole onboarding conversation, a
matching round or a prompt schedule. The benchmarks in ``bench/`` seed with them too."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.models import ConsentStatus, Introduction, MemberProfile
from bot.db.models.prompts import DeliveryKind, DeliveryStatus, PromptSchedule
from bot.db.queries.delivery import add_deliveries, claim_occurrence
from bot.db.queries.matching import (
    AcceptOutcome,
    accept_introduction,
    create_introduction,
    open_request,
)
from bot.db.queries.members import record_consent, save_answers
from bot.db.registry import delete_member

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

# A mentor the default mentee fits less well: one of their areas, English only, London.
LESS_FITTING: dict[str, Any] = {
    "areas_offered": ["identity"],
    "languages": ["English"],
    "timezone": "Europe/London",
}

RowT = TypeVar("RowT", bound=SQLModel)


def write_config(directory: Path, *, key_file: Path) -> Path:
    """A minimal config file in ``directory``: a SQLite database there and ``key_file``."""
    path = directory / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{directory}/lantern.db"\n'
        f'[security]\nkey_file = "{key_file}"\n'
    )
    return path


async def add_member(
    session: AsyncSession,
    cipher: Cipher,
    *,
    guild_id: int,
    user_id: int,
    answers: dict[str, Any],
    now: datetime,
    completed: bool = False,
) -> None:
    """Consent and questionnaire answers as onboarding saves them; ``completed`` also marks
    onboarding finished."""
    await record_consent(
        session,
        guild_id=guild_id,
        user_id=user_id,
        status=ConsentStatus.ACCEPTED,
        version="test",
        now=now,
    )
    await save_answers(
        session, guild_id=guild_id, user_id=user_id, answers=answers, cipher=cipher, now=now
    )
    if completed:
        row = await session.get(MemberProfile, (guild_id, user_id))
        assert row is not None
        row.completed_at = now


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
        await add_member(
            session,
            cipher,
            guild_id=guild_id,
            user_id=user_id,
            answers=merged,
            now=now,
            completed=True,
        )


async def mentees_and_two_mentors(
    database: Database,
    cipher: Cipher,
    *,
    guild_id: int,
    mentees: Iterable[int],
    better: int,
    worse: int,
    now: datetime,
) -> None:
    """Mentees with the default answers and two mentors: ``better`` fits them best, ``worse``
    (one of their areas, English only, London) less."""
    for mentee in mentees:
        await onboarded(database, cipher, guild_id=guild_id, user_id=mentee, now=now)
    for mentor, answers in ((better, {}), (worse, LESS_FITTING)):
        await onboarded(
            database, cipher, guild_id=guild_id, user_id=mentor, now=now, mentor=True, **answers
        )


async def introductions(database: Database, **where: Any) -> list[Introduction]:
    """Introductions with these column values, oldest first."""
    async with database.session() as session:
        stmt = select(Introduction).order_by(Introduction.id)  # type: ignore[arg-type]
        for key, value in where.items():
            stmt = stmt.where(getattr(Introduction, key) == value)
        return list((await session.execute(stmt)).scalars())


async def introduce(
    session: AsyncSession,
    cipher: Cipher,
    *,
    guild_id: int,
    mentee_id: int,
    mentor_id: int,
    now: datetime,
    score: float,
    reasons: list[str],
) -> int:
    """What matching does on a request: the mentee's request and an introduction to the
    mentor, open for three days; the introduction's id."""
    await open_request(session, guild_id=guild_id, mentee_id=mentee_id, now=now)
    intro: Introduction | None = await create_introduction(
        session,
        guild_id=guild_id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        score=score,
        reasons=reasons,
        cipher=cipher,
        now=now,
        expires_at=now + timedelta(days=3),
    )
    assert intro is not None and intro.id is not None
    return intro.id


async def accepted_pair(
    database: Database,
    cipher: Cipher,
    *,
    guild_id: int,
    mentee_id: int,
    mentor_id: int,
    now: datetime,
    reasons: list[str],
) -> int:
    """What matching's accept leaves behind, through its own queries: the request, an
    introduction, and the accept that claims a mentor slot and creates one ``opening`` pair;
    the pair's id."""
    async with database.session() as session:
        intro_id = await introduce(
            session,
            cipher,
            guild_id=guild_id,
            mentee_id=mentee_id,
            mentor_id=mentor_id,
            now=now,
            score=90.0,
            reasons=reasons,
        )
        outcome, _, pair = await accept_introduction(
            session, intro_id=intro_id, now=now, cipher=cipher
        )
    assert outcome == AcceptOutcome.ACCEPTED and pair is not None and pair.id is not None
    return pair.id


async def add_row(database: Database, row: RowT) -> RowT:
    """Write ``row`` as it is (no query's rules applied) and return it with its id."""
    async with database.session() as session:
        session.add(row)
        await session.flush()
    return row


async def add_schedule(
    database: Database,
    *,
    guild_id: int,
    now: datetime,
    expression: str = "daily 09:00",
    timezone: str = "UTC",
    **fields: Any,
) -> PromptSchedule:
    """A prompt schedule row."""
    return await add_row(
        database,
        PromptSchedule(
            guild_id=guild_id,
            expression=expression,
            timezone=timezone,
            created_at=now,
            updated_at=now,
            **fields,
        ),
    )


async def pending_dms(
    database: Database,
    schedule: PromptSchedule,
    *,
    user_ids: Iterable[int],
    now: datetime,
    prompt_key: str = "identity-01",
) -> int:
    """The schedule's claimed occurrence due ``now`` and one pending DM delivery of
    ``prompt_key`` to each of ``user_ids``; the occurrence's id."""
    async with database.session() as session:
        occurrence = await claim_occurrence(
            session, schedule=schedule, due_at=now, prompt_key=prompt_key, now=now
        )
        assert occurrence is not None and occurrence.id is not None
        await add_deliveries(
            session,
            rows=[
                {
                    "occurrence_id": occurrence.id,
                    "guild_id": schedule.guild_id,
                    "kind": DeliveryKind.DM,
                    "recipient_id": user_id,
                    "user_id": user_id,
                    "prompt_key": prompt_key,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "updated_at": now,
                }
                for user_id in user_ids
            ],
        )
    return occurrence.id


async def count_rows(database: Database, model: type, **where: object) -> int:
    """How many rows of ``model`` have these column values."""
    async with database.session() as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int((await session.execute(stmt)).scalar_one())


async def tables_naming(database: Database, user_id: int, *, as_text: bool = False) -> list[str]:
    """The tables with a row holding ``user_id`` in a column (or, with ``as_text``, anywhere in
    the row's text, such as a custom id)."""
    found = []
    async with database.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                if user_id in tuple(row) or (as_text and str(user_id) in repr(tuple(row))):
                    found.append(table.name)
    return found


async def erase_while_writing(
    database: Database,
    cipher: Cipher,
    user_id: int,
    write: Callable[[AsyncSession], Awaitable[object]],
) -> None:
    """``write`` runs in a transaction that stays open while ``user_id``'s erase starts (on
    PostgreSQL the erase then waits for it), and commits; then the erase finishes."""
    wrote, erasing = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with database.session() as session:
            await write(session)
            wrote.set()
            await erasing.wait()
            await asyncio.sleep(0.3)  # the erase is now waiting for this transaction

    async def erase() -> None:
        await wrote.wait()
        erasing.set()
        async with database.session() as session:
            await delete_member(session, user_id=user_id, cipher=cipher)

    await asyncio.gather(writer(), erase())
