"""Peer circles: each circle, who is in it, and who waits for one.

A circle row names nobody (its people are its ``circle_member`` rows, one person each), so a
member's export holds only their own membership and waiting entry, and erasing a member removes
their membership while the circle stays for the others.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.db.registry import MemberData
from bot.db.types import snowflake, timestamp


class CircleStatus:
    """A circle is formed ``opening`` (its space being made), then ``open``; ``closed`` once
    fewer than two people are left in it, its space was deleted or stayed quiet too long, or a
    moderator ended it (``Circle.close_reason``)."""

    OPENING = "opening"
    OPEN = "open"
    CLOSED = "closed"


class CircleRole:
    """How someone takes part in a circle."""

    MEMBER = "member"
    FACILITATOR = "facilitator"


class Circle(SQLModel, table=True):
    """One circle and its space. ``reasons_enc``: why these people were grouped (from what all
    of them chose to share), encrypted like a pair's reasons."""

    __tablename__ = "circle"
    __member_data__ = MemberData(
        user_columns=(), encrypted=("reasons_enc",), json_columns=("reasons_enc",)
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    area: str = Field(max_length=16)
    status: str = Field(default=CircleStatus.OPENING, max_length=16, index=True)
    reasons_enc: str | None = Field(default=None)
    channel_id: int | None = snowflake(nullable=True, index=True)
    thread_id: int | None = snowflake(nullable=True, index=True)
    claimed_at: datetime | None = timestamp(nullable=True)
    space_error: str | None = Field(default=None, max_length=64)
    error_alerted: str | None = Field(default=None, max_length=64)
    opening_message_id: int | None = snowflake(nullable=True)
    created_at: datetime = timestamp()
    opened_at: datetime | None = timestamp(nullable=True)
    closed_at: datetime | None = timestamp(nullable=True)
    close_reason: str | None = Field(default=None, max_length=32)  # bot.domain.circles.TOO_FEW...
    # When a member last wrote in the space (from its opening); a quiet circle is warned once
    # about that silence (``quiet_warned_for``), announcing ``quiet_closes_at``.
    last_activity_at: datetime | None = timestamp(nullable=True)
    quiet_warned_for: datetime | None = timestamp(nullable=True)
    quiet_closes_at: datetime | None = timestamp(nullable=True)

    @property
    def space_id(self) -> int | None:
        """The circle's channel or thread."""
        return self.channel_id or self.thread_id


class CircleMember(SQLModel, table=True):
    """One person in one circle (a member or its facilitator); removed when they leave."""

    __tablename__ = "circle_member"
    __member_data__ = MemberData(user_columns=("user_id",), label="circle_memberships")

    circle_id: int = Field(foreign_key="circle.id", primary_key=True)
    user_id: int = snowflake(primary_key=True, index=True)
    guild_id: int = snowflake(index=True)
    role: str = Field(default=CircleRole.MEMBER, max_length=16)
    joined_at: datetime = timestamp()


class CircleWaiting(SQLModel, table=True):
    """A member waiting for a circle in one area (one entry per member per server)."""

    __tablename__ = "circle_waiting"
    __member_data__ = MemberData(user_columns=("user_id",), label="circle_waiting")

    guild_id: int = snowflake(primary_key=True)
    user_id: int = snowflake(primary_key=True)
    area: str = Field(max_length=16)
    facilitate: bool = Field(default=False)
    since: datetime = timestamp()
