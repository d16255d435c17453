"""Introductions (a mentee proposed to a mentor), pairs (an accepted match) and blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.registry import FORGET, NO_MEMBER_DATA, MemberData
from bot.db.types import snowflake, timestamp


class IntroStatus:
    """Where an introduction stands. A pending one may move to exactly one other state."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class PairStatus:
    """Where a pair stands.

    ``opening``: accepted, pair space not created yet (or creation failed and can be retried);
    ``active``: the space exists; ``paused``: contact paused after a report; ``ended``.
    """

    OPENING = "opening"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class RequestStatus:
    """Where a mentee's request for a mentor stands.

    ``offered``: a moderator introduced a mentee who was not waiting; if that introduction does
    not work out, the mentee is asked whether to keep looking instead of being put in the queue.
    """

    WAITING = "waiting"
    INTRODUCED = "introduced"
    OFFERED = "offered"
    MATCHED = "matched"
    CANCELLED = "cancelled"


class MatchRequest(SQLModel, table=True):
    """A mentee asked for a mentor. At most one open request per mentee and server."""

    __tablename__ = "match_request"
    __member_data__ = MemberData(user_columns=("mentee_id",), label="match_requests")

    guild_id: int = snowflake(primary_key=True)
    mentee_id: int = snowflake(primary_key=True)
    status: str = Field(default=RequestStatus.WAITING, max_length=16, index=True)
    requested_at: datetime = timestamp(index=True)
    updated_at: datetime = timestamp()
    matched_at: datetime | None = timestamp(nullable=True)


class MatchingSettings(SQLModel, table=True):
    """A server's matching choices: introduction expiry, tuned weights, and whether requests
    are introduced at once or gathered for moderators' batch rounds."""

    __tablename__ = "matching_settings"
    __member_data__ = NO_MEMBER_DATA

    guild_id: int = snowflake(primary_key=True)
    expiry_hours: int = Field(default=72)
    rounds_only: bool = Field(default=False)
    weights_json: str | None = Field(default=None)
    updated_at: datetime = timestamp()


class Introduction(SQLModel, table=True):
    """Lantern proposed ``mentee_id`` to ``mentor_id``; the mentor accepts or declines."""

    __tablename__ = "introduction"
    __member_data__ = MemberData(
        user_columns=("mentee_id", "mentor_id"),
        encrypted=("reasons_enc",),
        json_columns=("reasons_enc",),
        label="introductions",
        shared=("id", "guild_id", "status", "created_at", "expires_at", "decided_at"),
        belongs_to={
            "reminded_at": "mentor_id",
            "message_channel_id": "mentor_id",
            "message_id": "mentor_id",
        },
        withheld=("score", "reasons_enc"),
        left_out=(
            "the other person's id, and the match score and reasons (built from both "
            "people's answers)"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    mentee_id: int = snowflake(index=True)
    mentor_id: int = snowflake(index=True)
    score: float = Field(default=0.0)
    # JSON list of human-readable reasons, encrypted (they are built from profile answers).
    reasons_enc: str | None = Field(default=None)
    status: str = Field(default=IntroStatus.PENDING, max_length=16, index=True)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(index=True)
    reminded_at: datetime | None = timestamp(nullable=True)
    decided_at: datetime | None = timestamp(nullable=True)
    message_channel_id: int | None = snowflake(nullable=True)
    message_id: int | None = snowflake(nullable=True)


class Pair(SQLModel, table=True):
    """An accepted match. Exactly one per accepted introduction."""

    __tablename__ = "pair"
    __table_args__ = (UniqueConstraint("introduction_id", name="uq_pair_introduction"),)
    __member_data__ = MemberData(
        user_columns=("mentee_id", "mentor_id", "ended_by_id"),
        encrypted=("end_reason_enc",),
        label="pairs",
        shared=(
            "id",
            "guild_id",
            "introduction_id",
            "status",
            "channel_id",
            "thread_id",
            "created_at",
            "last_activity_at",
            "next_checkin_at",
            "ended_at",
            "delete_channel_at",
        ),
        belongs_to={"end_reason_enc": "ended_by_id"},
        withheld=("space_error",),
        # A moderator who ended someone's pair is forgotten in it; the pair stays theirs.
        on_erase={"ended_by_id": FORGET},
        left_out=(
            "your partner's id, who ended the pair when it was not you, and the private note "
            "for moderators written by whoever ended it when that was not you"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    introduction_id: int | None = Field(default=None, foreign_key="introduction.id")
    mentee_id: int = snowflake(index=True)
    mentor_id: int = snowflake(index=True)
    status: str = Field(default=PairStatus.OPENING, max_length=16, index=True)
    channel_id: int | None = snowflake(nullable=True)
    thread_id: int | None = snowflake(nullable=True)
    created_at: datetime = timestamp()
    last_activity_at: datetime | None = timestamp(nullable=True)
    next_checkin_at: datetime | None = timestamp(nullable=True, index=True)
    ended_at: datetime | None = timestamp(nullable=True)
    ended_by_id: int | None = snowflake(nullable=True)
    end_reason_enc: str | None = Field(default=None)
    delete_channel_at: datetime | None = timestamp(nullable=True, index=True)
    space_error: str | None = Field(default=None, max_length=64)


class Block(SQLModel, table=True):
    """``blocker_id`` never wants to be paired with ``blocked_id`` again (either direction)."""

    __tablename__ = "block"
    __table_args__ = (UniqueConstraint("guild_id", "blocker_id", "blocked_id", name="uq_block"),)
    # The blocker's choice: theirs to export and to erase. The blocked member never sees it, and
    # erasing their data does not lift it: their id gives way to a keyed pseudonym.
    __member_data__ = MemberData(
        user_columns=("blocker_id", "blocked_id"),
        label="blocks",
        shared=("id", "guild_id", "created_at"),
        withheld=("blocked_key",),
        exported_to=("blocker_id",),
        on_erase={"blocked_id": FORGET},
        pseudonym_columns={"blocked_id": "blocked_key"},
        left_out="the id of the member you blocked; blocks others made are not yours to see",
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    blocker_id: int = snowflake()
    blocked_id: int | None = snowflake(nullable=True)
    # Set when the blocked member erased their data: ``Cipher.pseudonym`` of their id.
    blocked_key: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = timestamp()


class MentorPoolGeneration(SQLModel, table=True):
    """A server's mentor-pool generation: raised by one in every transaction that changed
    something a mentor pool is built from (see ``bot/db/pool_changes.py``).

    A process holding a cached pool reads this one row per request; when it moved, the mentors
    named in ``mentor_pool_change`` since the cached generation are read again. Changes at or
    below ``floor`` were pruned: a cache that old is rebuilt.
    """

    __tablename__ = "mentor_pool_generation"
    __member_data__ = NO_MEMBER_DATA

    guild_id: int = snowflake(primary_key=True)
    generation: int = Field(default=0, sa_type=BigInteger)
    floor: int = Field(default=0, sa_type=BigInteger)


class MentorPoolChange(SQLModel, table=True):
    """A mentor whose pool entry (profile, consent, pause, capacity or free places) changed in
    the transaction that took ``generation``. A short log, pruned as generations move on."""

    __tablename__ = "mentor_pool_change"
    __member_data__ = MemberData(user_columns=("mentor_id",), label="mentor_pool_changes")

    guild_id: int = snowflake(primary_key=True)
    generation: int = Field(primary_key=True, sa_type=BigInteger)
    mentor_id: int = snowflake(primary_key=True)
