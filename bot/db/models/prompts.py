"""Reflection prompts: moderators' prompt edits (with history), member suggestions, schedules,
occurrences claimed before sending, per-recipient deliveries, and members' reflections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.registry import NO_MEMBER_DATA, MemberData
from bot.db.types import snowflake, timestamp


class PromptEntry(SQLModel, table=True):
    """A guild's override of a shipped prompt (same key) or a custom prompt of its own."""

    __tablename__ = "prompt_entry"
    # A member's approved suggestion keeps their id only to credit them (leaves with them).
    __member_data__ = MemberData(user_columns=("suggested_by_id",), label="prompts_suggested")

    guild_id: int = snowflake(primary_key=True)
    key: str = Field(primary_key=True, max_length=40)
    area: str = Field(max_length=16)
    text: str = Field(max_length=1000)
    follow_ups: str = Field(default="[]")  # JSON list of strings
    retired: bool = Field(default=False)
    custom: bool = Field(default=False)
    suggested_by_id: int | None = snowflake(nullable=True)
    updated_at: datetime = timestamp()


class PromptRevision(SQLModel, table=True):
    """One version of a prompt as a moderator left it; who did it is in the audit trail."""

    __tablename__ = "prompt_revision"
    __member_data__ = NO_MEMBER_DATA

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    key: str = Field(max_length=40, index=True)
    area: str = Field(max_length=16)
    text: str = Field(max_length=1000)
    follow_ups: str = Field(default="[]")
    retired: bool = Field(default=False)
    action: str = Field(max_length=16)  # add / edit / retire / restore / approve
    created_at: datetime = timestamp()


class SuggestionStatus:
    """Where a member's suggestion stands; a pending one moves to exactly one other state."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class PromptSuggestion(SQLModel, table=True):
    """A prompt a member suggested, waiting for a moderator."""

    __tablename__ = "prompt_suggestion"
    __member_data__ = MemberData(
        user_columns=("user_id",), encrypted=("text_enc",), label="prompt_suggestions"
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    user_id: int = snowflake(index=True)
    area: str = Field(max_length=16)
    text_enc: str = Field()
    anonymous: bool = Field(default=False)
    status: str = Field(default=SuggestionStatus.PENDING, max_length=16, index=True)
    prompt_key: str | None = Field(default=None, max_length=40)
    created_at: datetime = timestamp()
    decided_at: datetime | None = timestamp(nullable=True)


class PromptSchedule(SQLModel, table=True):
    """When and where a guild's prompts go out. Deleted schedules are kept (occurrences)."""

    __tablename__ = "prompt_schedule"
    __member_data__ = NO_MEMBER_DATA

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    areas: str = Field(default="", max_length=200)  # comma-separated area keys; empty = all
    prompt_key: str | None = Field(default=None, max_length=40)  # a fixed prompt instead
    expression: str = Field(max_length=100)
    timezone: str = Field(max_length=64)
    to_channel: bool = Field(default=True)
    to_dm: bool = Field(default=False)
    to_pairs: bool = Field(default=False)
    to_circles: bool = Field(default=False)
    paused: bool = Field(default=False)
    deleted: bool = Field(default=False)
    next_run_at: datetime | None = timestamp(nullable=True, index=True)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class OccurrenceStatus:
    """An occurrence is claimed, then sending, then done; or skipped (too late), or had no
    prompt to send (every prompt it may use is retired: moderators are told)."""

    SENDING = "sending"
    DONE = "done"
    SKIPPED = "skipped"
    NO_PROMPT = "no_prompt"


class PromptOccurrence(SQLModel, table=True):
    """One firing of a schedule. The unique key is claimed before anything is sent."""

    __tablename__ = "prompt_occurrence"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at", name="uq_occurrence_due"),)
    __member_data__ = NO_MEMBER_DATA

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    schedule_id: int = Field(foreign_key="prompt_schedule.id", index=True)
    due_at: datetime = timestamp()
    prompt_key: str | None = Field(default=None, max_length=40)
    status: str = Field(default=OccurrenceStatus.SENDING, max_length=16, index=True)
    manual: bool = Field(default=False)
    channel_message_id: int | None = snowflake(nullable=True)
    thread_id: int | None = snowflake(nullable=True)
    created_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True)


class DeliveryStatus:
    """One recipient's outcome. ``sending`` rows are never resent (at most once)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DM_CLOSED = "dm_closed"
    FAILED = "failed"
    RETRY = "retry"
    SKIPPED = "skipped"
    MEMBER_LEFT = "member_left"  # no longer in the server: skipped, never sent
    RETIRED = "retired"  # the prompt was retired before it went out: skipped
    NO_CHANNEL = "no_channel"  # the channel or pair space is gone (or was never set)
    NO_ACCESS = "no_access"  # Lantern may not post there


class DeliveryKind:
    """Who a delivery goes to."""

    CHANNEL = "channel"
    DM = "dm"
    PAIR = "pair"
    CIRCLE = "circle"


class PromptDelivery(SQLModel, table=True):
    """One recipient of one occurrence (a member by DM, a pair space, or the channel)."""

    __tablename__ = "prompt_delivery"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "kind", "recipient_id", name="uq_delivery_recipient"),
        Index("ix_delivery_work", "occurrence_id", "status"),
    )
    __member_data__ = MemberData(user_columns=("user_id",), label="prompt_deliveries")

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="prompt_occurrence.id")
    guild_id: int = snowflake(index=True)
    kind: str = Field(max_length=8)
    recipient_id: int = snowflake()  # the member (dm), the pair or circle row, or the channel
    user_id: int | None = snowflake(nullable=True, index=True)
    prompt_key: str | None = Field(default=None, max_length=40)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = timestamp(nullable=True)
    channel_id: int | None = snowflake(nullable=True)
    message_id: int | None = snowflake(nullable=True, index=True)
    error_code: int | None = Field(default=None)
    updated_at: datetime = timestamp()


class Reflection(SQLModel, table=True):
    """A member's private reflection, encrypted; shared only when its author shares it."""

    __tablename__ = "reflection"
    __member_data__ = MemberData(
        user_columns=("user_id",), encrypted=("text_enc",), label="reflections"
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    user_id: int = snowflake(index=True)
    prompt_key: str | None = Field(default=None, max_length=40)
    area: str | None = Field(default=None, max_length=16)
    occurrence_id: int | None = Field(default=None, foreign_key="prompt_occurrence.id")
    delivery_id: int | None = Field(default=None, foreign_key="prompt_delivery.id")
    text_enc: str = Field()
    created_at: datetime = timestamp()
    shared_pair_at: datetime | None = timestamp(nullable=True)
    shared_thread_at: datetime | None = timestamp(nullable=True)
