"""Profiles and prompt subscriptions: reading, saving answers page by page, consent."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.crypto import Cipher
from bot.db.models.circles import Circle, CircleMember, CircleStatus, CircleWaiting
from bot.db.models.matching import (
    Introduction,
    IntroStatus,
    MatchRequest,
    Pair,
    PairStatus,
    RequestStatus,
)
from bot.db.models.members import MemberProfile, PromptSubscription, SubscriptionStatus
from bot.db.queries._rows import lock_or_add
from bot.domain.onboarding import is_forward
from bot.domain.profile import Profile
from bot.domain.questionnaire import shipped_labels


def read_answers(profile: MemberProfile, cipher: Cipher) -> dict[str, Any]:
    """The decrypted answers of ``profile`` (empty when none were saved)."""
    return _answers(profile.answers_enc, cipher)


def _answers(encrypted: str | None, cipher: Cipher) -> dict[str, Any]:
    text = cipher.decrypt(encrypted)
    return json.loads(text) if text else {}


def to_profile(row: MemberProfile, cipher: Cipher) -> Profile:
    """The typed profile of ``row``, with coded answers shown as their labels."""
    return decode_profile(row.user_id, row.answers_enc, cipher)


def decode_profile(user_id: int, answers_enc: str | None, cipher: Cipher) -> Profile:
    """The typed profile from a member's encrypted answers (CPU only: safe in a thread)."""
    return Profile.from_answers(user_id, _answers(answers_enc, cipher), shipped_labels())


async def get_member_profile(
    session: AsyncSession, *, guild_id: int, user_id: int, for_update: bool = False
) -> MemberProfile | None:
    """The stored profile row, or ``None`` before the member starts onboarding."""
    return await session.get(MemberProfile, (guild_id, user_id), with_for_update=for_update or None)


async def load_profile(
    session: AsyncSession, *, guild_id: int, user_id: int, cipher: Cipher
) -> Profile | None:
    """The member's typed profile, or ``None`` if they have none."""
    row = await get_member_profile(session, guild_id=guild_id, user_id=user_id)
    if row is None:
        return None
    return to_profile(row, cipher)


async def ensure_member_profile(
    session: AsyncSession, *, guild_id: int, user_id: int, now: datetime
) -> MemberProfile:
    """The member's profile row, created empty on first use (locked for this transaction)."""
    row = await get_member_profile(session, guild_id=guild_id, user_id=user_id, for_update=True)
    if row is None:
        row = MemberProfile(guild_id=guild_id, user_id=user_id, started_at=now, updated_at=now)
        session.add(row)
        await session.flush()
    return row


async def save_answers(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    answers: Mapping[str, Any],
    cipher: Cipher,
    now: datetime,
    next_step: str | None = None,
    order: Sequence[str] | None = None,
) -> MemberProfile:
    """Merge ``answers`` (question id -> value; ``None`` clears) into the member's profile.

    Given the pages' ``order``, ``next_step`` is only taken if it lies after the stored step:
    re-saving an earlier page never moves the member back."""
    row = await ensure_member_profile(session, guild_id=guild_id, user_id=user_id, now=now)
    merged = read_answers(row, cipher)
    for key, value in answers.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    row.answers_enc = cipher.encrypt(json.dumps(merged, ensure_ascii=False, sort_keys=True))
    profile = Profile.from_answers(user_id, merged)
    row.role = profile.role
    row.capacity = profile.capacity if profile.is_mentor else 0
    if next_step is not None and (order is None or is_forward(order, row.step, next_step)):
        row.step = next_step
    row.updated_at = now
    await session.flush()
    return row


async def erase_answers(
    session: AsyncSession, *, guild_id: int, user_id: int, now: datetime
) -> bool:
    """Erase the member's questionnaire answers and progress (consent stays as recorded)."""
    row = await get_member_profile(session, guild_id=guild_id, user_id=user_id, for_update=True)
    if row is None:
        return False
    row.answers_enc = None
    row.role = None
    row.capacity = 0
    row.step = None
    row.completed_at = None
    row.updated_at = now
    await session.flush()
    return True


async def record_consent(
    session: AsyncSession, *, guild_id: int, user_id: int, status: str, version: str, now: datetime
) -> MemberProfile:
    """Record the member's consent decision with the version of the text they saw."""
    row = await ensure_member_profile(session, guild_id=guild_id, user_id=user_id, now=now)
    row.consent_status = status
    row.consent_version = version
    row.consent_at = now
    row.updated_at = now
    await session.flush()
    return row


async def set_prompt_subscription(
    session: AsyncSession, *, guild_id: int, user_id: int, status: str, now: datetime
) -> PromptSubscription:
    """Subscribe, pause or unsubscribe a member from DM prompts; acting again clears DMs-closed."""
    if status not in (
        SubscriptionStatus.SUBSCRIBED,
        SubscriptionStatus.PAUSED,
        SubscriptionStatus.UNSUBSCRIBED,
    ):
        raise ValueError(f"unknown subscription status {status!r}")
    key = (guild_id, user_id)
    row = await lock_or_add(session, PromptSubscription, key, guild_id=guild_id, user_id=user_id)
    row.status = status
    row.dm_closed_at = None
    row.updated_at = now
    await session.flush()
    return row


async def get_prompt_subscription(
    session: AsyncSession, *, guild_id: int, user_id: int
) -> PromptSubscription | None:
    """The member's prompt subscription, if they ever chose."""
    return await session.get(PromptSubscription, (guild_id, user_id))


async def list_subscribed(session: AsyncSession, *, guild_id: int) -> list[PromptSubscription]:
    """Members who receive DM prompts in ``guild_id`` and whose DMs are not known closed."""
    result = await session.execute(
        select(PromptSubscription)
        .where(PromptSubscription.guild_id == guild_id)  # type: ignore[arg-type]
        .where(PromptSubscription.status == SubscriptionStatus.SUBSCRIBED)  # type: ignore[arg-type]
        .where(PromptSubscription.dm_closed_at.is_(None))  # type: ignore[union-attr]
        .order_by(PromptSubscription.user_id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def pause_all_subscriptions(
    session: AsyncSession, *, user_id: int, now: datetime
) -> list[int]:
    """Pause DM prompts in every server (the DM words "pause prompts"); the servers paused."""
    result = await session.execute(
        update(PromptSubscription)
        .where(PromptSubscription.user_id == user_id)  # type: ignore[arg-type]
        .where(PromptSubscription.status == SubscriptionStatus.SUBSCRIBED)  # type: ignore[arg-type]
        .values(status=SubscriptionStatus.PAUSED, updated_at=now)
        .returning(col(PromptSubscription.guild_id))
    )
    return sorted(int(g) for g in result.scalars())


async def involved_members(session: AsyncSession) -> dict[int, set[int]]:
    """server id -> the people something is still open for there: a pair, an introduction, a
    request for a mentor, a circle or its waiting list (whom a departure would close things for)."""
    P: Any = Pair
    intro: Any = Introduction
    request: Any = MatchRequest
    waiting: Any = CircleWaiting
    member: Any = CircleMember
    circle: Any = Circle
    open_pairs = (PairStatus.OPENING, PairStatus.ACTIVE, PairStatus.PAUSED)
    open_requests = (RequestStatus.WAITING, RequestStatus.INTRODUCED, RequestStatus.OFFERED)
    queries = [
        select(P.guild_id, P.mentee_id).where(P.status.in_(open_pairs)),
        select(P.guild_id, P.mentor_id).where(P.status.in_(open_pairs)),
        select(intro.guild_id, intro.mentee_id).where(intro.status == IntroStatus.PENDING),
        select(intro.guild_id, intro.mentor_id).where(intro.status == IntroStatus.PENDING),
        select(request.guild_id, request.mentee_id).where(request.status.in_(open_requests)),
        select(waiting.guild_id, waiting.user_id),
        select(member.guild_id, member.user_id)
        .join(circle, circle.id == member.circle_id)
        .where(circle.status != CircleStatus.CLOSED),
    ]
    found: dict[int, set[int]] = {}
    for query in queries:
        for guild_id, user_id in (await session.execute(query)).all():
            if user_id is not None:
                found.setdefault(int(guild_id), set()).add(int(user_id))
    return found
