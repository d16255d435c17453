"""Tables every feature relies on: per-guild settings, the moderators' audit trail, the
scheduler lease."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.db.registry import FORGET, NO_MEMBER_DATA, MemberData
from bot.db.types import snowflake, timestamp


class GuildSettings(SQLModel, table=True):
    """What a server chose in /setup."""

    __tablename__ = "guild_settings"
    __member_data__ = NO_MEMBER_DATA

    guild_id: int = snowflake(primary_key=True)
    moderator_role_id: int | None = snowflake(nullable=True)
    intro_channel_id: int | None = snowflake(nullable=True)
    pair_category_id: int | None = snowflake(nullable=True)
    reflections_channel_id: int | None = snowflake(nullable=True)
    welcome_channel_id: int | None = snowflake(nullable=True)
    alerts_channel_id: int | None = snowflake(nullable=True)
    moderators_see_pairs: bool = Field(default=False)
    updated_at: datetime = timestamp()


class AuditEntry(SQLModel, table=True):
    """One moderator action: who, what, on whom. Ids only, never content.

    The trail outlives the people in it: a moderator or member who erases their data is
    forgotten here (their id set to null; shown as "a moderator who has since erased their
    data"), the entry stays.
    """

    __tablename__ = "audit_entry"
    __member_data__ = MemberData(
        user_columns=("actor_id", "target_user_id"),
        label="moderator_actions",
        shared=("id", "guild_id", "action", "target_id", "created_at"),
        on_erase={"actor_id": FORGET, "target_user_id": FORGET},
        left_out="the id of the moderator who acted on you, or of the member you acted on",
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    actor_id: int | None = snowflake(nullable=True)
    action: str = Field(max_length=64)
    target_user_id: int | None = snowflake(nullable=True)
    target_id: int | None = snowflake(nullable=True)
    created_at: datetime = timestamp()


class SchedulerLease(SQLModel, table=True):
    """Which process owns the scheduler, until when. Exactly one process holds it."""

    __tablename__ = "scheduler_lease"
    __member_data__ = NO_MEMBER_DATA

    name: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=128)
    expires_at: datetime = timestamp()


class Cooldown(SQLModel, table=True):
    """When someone last did a rate-limited thing (a report, a call for help, a match request,
    a suggestion; or a server's owner last told its alerts channel is broken). Shared by every
    process, claimed with one atomic upsert."""

    __tablename__ = "cooldown"
    __member_data__ = MemberData(user_columns=("subject_id",), label="cooldowns")

    subject_id: int = snowflake(primary_key=True)
    action: str = Field(primary_key=True, max_length=32)
    last_at: datetime = timestamp()
