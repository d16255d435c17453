"""Counts for /insights and the end-of-mentorship feedback rows: aggregates computed in SQL,
never a member's id handed upward for counting."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.db.models import (
    ConsentStatus,
    DeliveryKind,
    DeliveryStatus,
    FeedbackStatus,
    Introduction,
    IntroStatus,
    JoinTally,
    MatchRequest,
    MemberProfile,
    MentorshipFeedback,
    Pair,
    PairSpace,
    PairStatus,
    PromptDelivery,
    Reflection,
    RequestStatus,
)
from bot.db.queries._rows import changed, dialect_insert

_tally = JoinTally.__table__  # type: ignore[attr-defined]


def _since(column: Any, start: datetime | None) -> Any:
    """``column`` falls in the period (``None``: all time, though never null)."""
    return column.is_not(None) if start is None else column >= start


# ---------------------------------------------------------------------- joins


async def count_join(session: AsyncSession, *, guild_id: int, day: datetime) -> None:
    """One more person joined ``guild_id`` on ``day`` (midnight UTC): one atomic upsert."""
    stmt = dialect_insert(session, _tally).values(guild_id=guild_id, day=day, joined=1)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[_tally.c.guild_id, _tally.c.day],
            set_={"joined": _tally.c.joined + 1},
        )
    )


async def joins(
    session: AsyncSession, *, guild_id: int, start: datetime | None
) -> tuple[int, datetime | None]:
    """How many joined in the period, and since when Lantern counts joins here at all."""
    day = col(JoinTally.day)
    first = (
        await session.execute(select(func.min(day)).where(col(JoinTally.guild_id) == guild_id))
    ).scalar_one_or_none()
    where = [col(JoinTally.guild_id) == guild_id]
    if start is not None:
        where.append(day >= start.replace(hour=0, minute=0, second=0, microsecond=0))
    total = (
        await session.execute(
            select(func.coalesce(func.sum(col(JoinTally.joined)), 0)).where(*where)
        )
    ).scalar_one()
    return int(total), first


# ---------------------------------------------------------------------- the program


async def onboarding_steps(
    session: AsyncSession, *, guild_id: int, start: datetime | None
) -> tuple[int, int, int]:
    """Members who started, agreed to matching and finished onboarding in the period."""
    p = MemberProfile
    row = (
        await session.execute(
            select(
                func.count().filter(_since(col(p.started_at), start)),
                func.count().filter(
                    col(p.consent_status) == ConsentStatus.ACCEPTED,
                    _since(col(p.consent_at), start),
                ),
                func.count().filter(_since(col(p.completed_at), start)),
            ).where(col(p.guild_id) == guild_id)
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def waits(session: AsyncSession, *, guild_id: int, now: datetime) -> list[timedelta]:
    """How long each request waiting now has waited (durations only, nobody's id)."""
    rows = await session.execute(
        select(col(MatchRequest.requested_at)).where(
            col(MatchRequest.guild_id) == guild_id,
            col(MatchRequest.status) == RequestStatus.WAITING,
        )
    )
    return [now - requested for requested in rows.scalars()]


async def intro_answers(
    session: AsyncSession, *, guild_id: int, start: datetime | None
) -> dict[str, int]:
    """Introductions answered in the period, by answer (accepted, declined, expired)."""
    status = col(Introduction.status)
    rows = await session.execute(
        select(status, func.count())
        .where(
            col(Introduction.guild_id) == guild_id,
            status.in_([IntroStatus.ACCEPTED, IntroStatus.DECLINED, IntroStatus.EXPIRED]),
            _since(
                func.coalesce(col(Introduction.decided_at), col(Introduction.expires_at)), start
            ),
        )
        .group_by(status)
    )
    return {str(s): int(n) for s, n in rows.all()}


async def active_pairs(session: AsyncSession, *, guild_id: int) -> int:
    """Pairs open now (opening, active or paused)."""
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    col(Pair.guild_id) == guild_id, col(Pair.status) != PairStatus.ENDED
                )
            )
        ).scalar_one()
    )


async def endings(
    session: AsyncSession, *, guild_id: int, start: datetime | None
) -> dict[str | None, int]:
    """Pairs ended in the period, by recorded cause (``None`` when no cause was kept)."""
    cause = col(PairSpace.end_cause)
    rows = await session.execute(
        select(cause, func.count())
        .select_from(Pair)
        .outerjoin(PairSpace, col(PairSpace.pair_id) == col(Pair.id))
        .where(
            col(Pair.guild_id) == guild_id,
            col(Pair.status) == PairStatus.ENDED,
            _since(col(Pair.ended_at), start),
        )
        .group_by(cause)
    )
    return {c: int(n) for c, n in rows.all()}


async def participation(
    session: AsyncSession, *, guild_id: int, start: datetime | None
) -> tuple[int, int, int]:
    """Prompts delivered to members or pairs, reflections written, reflections shared."""
    delivered = (
        await session.execute(
            select(func.count()).where(
                col(PromptDelivery.guild_id) == guild_id,
                col(PromptDelivery.kind).in_([DeliveryKind.DM, DeliveryKind.PAIR]),
                col(PromptDelivery.status) == DeliveryStatus.SENT,
                _since(col(PromptDelivery.updated_at), start),
            )
        )
    ).scalar_one()
    shared_at = func.coalesce(col(Reflection.shared_pair_at), col(Reflection.shared_thread_at))
    row = (
        await session.execute(
            select(
                func.count().filter(_since(col(Reflection.created_at), start)),
                func.count().filter(_since(shared_at, start)),
            ).where(col(Reflection.guild_id) == guild_id)
        )
    ).one()
    return int(delivered), int(row[0]), int(row[1])


# ---------------------------------------------------------------------- feedback


async def feedback_counts(
    session: AsyncSession, *, guild_id: int, start: datetime | None
) -> tuple[int, dict[int, int], dict[str, int]]:
    """Members who answered in the period; helpfulness scores and recommendations counted."""
    f = MentorshipFeedback
    where = [col(f.guild_id) == guild_id, _since(col(f.answered_at), start)]
    answered = or_(col(f.helpful) > 0, col(f.recommend).in_(["yes", "unsure", "no"]))
    total = (await session.execute(select(func.count()).where(*where, answered))).scalar_one()
    helpful = await session.execute(
        select(col(f.helpful), func.count())
        .where(*where, col(f.helpful) > 0)
        .group_by(col(f.helpful))
    )
    recommend = await session.execute(
        select(col(f.recommend), func.count())
        .where(*where, col(f.recommend).in_(["yes", "unsure", "no"]))
        .group_by(col(f.recommend))
    )
    return (
        int(total),
        {int(h): int(n) for h, n in helpful.all()},
        {str(r): int(n) for r, n in recommend.all()},
    )


async def shared_words(
    session: AsyncSession, *, guild_id: int, start: datetime | None
) -> list[str]:
    """The encrypted words members chose to share in the period (nobody's id)."""
    f = MentorshipFeedback
    rows = await session.execute(
        select(col(f.words_enc)).where(
            col(f.guild_id) == guild_id,
            col(f.share_words).is_(True),
            col(f.words_enc).is_not(None),
            _since(col(f.answered_at), start),
        )
    )
    return [w for w in rows.scalars() if w]


async def claim_feedback(
    session: AsyncSession, *, guild_id: int, pair_id: int, user_id: int, now: datetime
) -> int | None:
    """Claim the one feedback card of ``user_id`` about ``pair_id``; its id, or ``None`` when
    it was claimed before (whoever claims first sends it: asked once) or the member has no
    profile here any more (they erased their data meanwhile).

    The profile row is share-locked while the card is claimed, so an erase running at the same
    time either finishes first (nothing is claimed) or waits and then removes the card too."""
    table = MentorshipFeedback.__table__  # type: ignore[attr-defined]
    profile = MemberProfile.__table__  # type: ignore[attr-defined]
    values: dict[str, Any] = {
        "guild_id": literal(guild_id),
        "pair_id": literal(pair_id),
        "user_id": literal(user_id),
        "status": literal(FeedbackStatus.ASKED),
        "share_words": literal(False),
        "asked_at": literal(now, type_=table.c.asked_at.type),
    }
    still_here = (
        select(*(value.label(name) for name, value in values.items()))
        .select_from(profile)
        .where(profile.c.guild_id == guild_id, profile.c.user_id == user_id)
        .with_for_update(read=True)
    )
    stmt = (
        dialect_insert(session, table)
        .from_select(list(values), still_here)
        .on_conflict_do_nothing(index_elements=[table.c.pair_id, table.c.user_id])
        .returning(table.c.id)
    )
    claimed = (await session.execute(stmt)).scalar_one_or_none()
    return None if claimed is None else int(claimed)


async def get_feedback(session: AsyncSession, *, feedback_id: int) -> MentorshipFeedback | None:
    """One feedback row, fresh from the database."""
    return await session.get(MentorshipFeedback, feedback_id, populate_existing=True)


async def set_feedback(
    session: AsyncSession,
    *,
    feedback_id: int,
    user_id: int,
    unanswered: str,
    now: datetime,
    **values: Any,
) -> bool:
    """Compare-and-set: write ``values`` only while the card is open and ``unanswered`` (a
    column) is still empty; of two clicks exactly one wins."""
    f = MentorshipFeedback
    where = [
        col(f.id) == feedback_id,
        col(f.user_id) == user_id,
        col(f.status) == FeedbackStatus.ASKED,
    ]
    if unanswered:
        where.append(getattr(f, unanswered).is_(None))
    stamp = {"answered_at": func.coalesce(col(f.answered_at), now)}
    result = await session.execute(update(f).where(*where).values(**values, **stamp))
    return changed(result) == 1


async def mark_undelivered(session: AsyncSession, *, feedback_id: int) -> None:
    """The card could not be sent (DMs closed): it stays closed, nobody else is told."""
    f = MentorshipFeedback
    await session.execute(
        update(f)
        .where(col(f.id) == feedback_id, col(f.status) == FeedbackStatus.ASKED)
        .values(status=FeedbackStatus.UNDELIVERED)
    )
