"""Pair spaces: per-server timings, overflow categories, each space's bookkeeping, check-ins
and reports. The pair itself (``Pair``) lives in the matching models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.registry import FORGET, NO_MEMBER_DATA, MemberData
from bot.db.types import snowflake, timestamp


class PairSettings(SQLModel, table=True):
    """A server's pair-space choices (defaults apply until a moderator changes them)."""

    __tablename__ = "pair_settings"
    __member_data__ = NO_MEMBER_DATA

    guild_id: int = snowflake(primary_key=True)
    first_checkin_days: int = Field(default=14)
    checkin_every_days: int = Field(default=30)
    silence_days: int = Field(default=21)
    silence_alert_after: int = Field(default=2)
    retention_days: int = Field(default=30)
    close_after_quiet_days: int = Field(default=90)  # 0: quiet spaces never close
    use_threads: bool = Field(default=False)
    thread_channel_id: int | None = snowflake(nullable=True)
    cap_warned_at: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp()


class PairCategory(SQLModel, table=True):
    """An overflow category Lantern created when the pair category was full."""

    __tablename__ = "pair_category"
    __table_args__ = (UniqueConstraint("guild_id", "number", name="uq_pair_category_number"),)
    __member_data__ = NO_MEMBER_DATA

    category_id: int = snowflake(primary_key=True)
    guild_id: int = snowflake(index=True)
    number: int
    created_at: datetime = timestamp()


class PairSpace(SQLModel, table=True):
    """Bookkeeping of one pair's space; created by whoever claimed the space's creation.

    Holds no member id (the pair row does); ``pair_id`` is the pair's primary key.
    """

    __tablename__ = "pair_space"
    __member_data__ = NO_MEMBER_DATA

    pair_id: int = snowflake(primary_key=True)
    claimed_at: datetime | None = timestamp(nullable=True)
    error_alerted: str | None = Field(default=None, max_length=64)
    opening_message_id: int | None = snowflake(nullable=True)
    reminders_paused: bool = Field(default=False)
    nudges_sent: int = Field(default=0)
    last_nudge_at: datetime | None = timestamp(nullable=True)
    silence_alerted_at: datetime | None = timestamp(nullable=True)
    # The closing warning: the silence it was about (the pair's last activity then) and the
    # date it announced. Any message starts a new silence, so the warning no longer counts.
    quiet_warned_for: datetime | None = timestamp(nullable=True)
    quiet_closes_at: datetime | None = timestamp(nullable=True)
    end_cause: str | None = Field(default=None, max_length=32)
    paused_member: str | None = Field(default=None, max_length=8)  # "mentee"/"mentor"


class LeftoverSpace(SQLModel, table=True):
    """A pair space (channel or thread) whose pair row is gone: recorded when a member erases
    their data, so retention deletes it at ``delete_at`` like any ended space.

    Holds no member id and nothing anyone wrote: a Discord space, its server and a date.
    """

    __tablename__ = "leftover_space"
    __member_data__ = NO_MEMBER_DATA

    space_id: int = snowflake(primary_key=True)
    guild_id: int = snowflake()
    delete_at: datetime = timestamp(index=True)
    recorded_at: datetime = timestamp()


class PairCheckin(SQLModel, table=True):
    """One check-in occurrence: written (claimed) before it is sent, so it is sent once."""

    __tablename__ = "pair_checkin"
    __table_args__ = (UniqueConstraint("pair_id", "due_at", name="uq_pair_checkin_due"),)
    __member_data__ = NO_MEMBER_DATA

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = snowflake(index=True)
    due_at: datetime = timestamp()
    claimed_at: datetime = timestamp()
    sent_at: datetime | None = timestamp(nullable=True)
    message_id: int | None = snowflake(nullable=True)


class PairCheckinAnswer(SQLModel, table=True):
    """One person's answer to one check-in (the latest click counts)."""

    __tablename__ = "pair_checkin_answer"
    __table_args__ = (UniqueConstraint("checkin_id", "user_id", name="uq_checkin_answer"),)
    __member_data__ = MemberData(user_columns=("user_id",), label="pair_checkin_answers")

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = snowflake(index=True)
    user_id: int = snowflake()
    answer: str = Field(max_length=16)
    answered_at: datetime = timestamp()


class ReportStatus:
    """Where a report stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # a moderator is on it (the reporter was told)
    RESOLVED = "resolved"


class PairReport(SQLModel, table=True):
    """A private report about a pair, for moderators only. One per reporter and pair."""

    __tablename__ = "pair_report"
    __table_args__ = (UniqueConstraint("pair_id", "reporter_id", name="uq_pair_report"),)
    # The reporter's words and choices: theirs to export and to erase. The reported member never
    # sees it, and erasing their data keeps it for moderators (their id becomes a pseudonym).
    __member_data__ = MemberData(
        user_columns=("reporter_id", "reported_id"),
        encrypted=("reason_enc",),
        label="pair_reports",
        shared=(
            "id",
            "guild_id",
            "pair_id",
            "status",
            "created_at",
            "alerted_at",
            "alert_claimed_at",
            "acknowledged_at",
        ),
        belongs_to={
            "reason_enc": "reporter_id",
            "pause_contact": "reporter_id",
            "block": "reporter_id",
        },
        withheld=("reported_key",),
        exported_to=("reporter_id",),
        on_erase={"reported_id": FORGET},
        pseudonym_columns={"reported_id": "reported_key"},
        left_out="the id of the member you reported; reports others made are not yours to see",
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    pair_id: int = snowflake(index=True)
    reporter_id: int = snowflake(index=True)
    reported_id: int | None = snowflake(nullable=True)
    # Set when the reported member erased their data: ``Cipher.pseudonym`` of their id.
    reported_key: str | None = Field(default=None, max_length=64, index=True)
    reason_enc: str | None = Field(default=None)
    pause_contact: bool = Field(default=False)
    block: bool = Field(default=False)
    status: str = Field(default=ReportStatus.OPEN, max_length=16)
    created_at: datetime = timestamp()
    alerted_at: datetime | None = timestamp(nullable=True)  # when it reached the moderators
    alert_claimed_at: datetime | None = timestamp(nullable=True)  # last delivery attempt
    acknowledged_at: datetime | None = timestamp(nullable=True)


class HelpCall(SQLModel, table=True):
    """A member pressed "We need help" (at a check-in or any time): stored before the
    moderators are alerted, so the call survives a broken alerts channel. Never any content."""

    __tablename__ = "help_call"
    __member_data__ = MemberData(user_columns=("user_id",), label="help_calls")

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    pair_id: int = snowflake(index=True)
    user_id: int = snowflake()
    at_checkin: bool = Field(default=False)
    status: str = Field(default=ReportStatus.OPEN, max_length=16)
    created_at: datetime = timestamp()
    alerted_at: datetime | None = timestamp(nullable=True)
    alert_claimed_at: datetime | None = timestamp(nullable=True)
    acknowledged_at: datetime | None = timestamp(nullable=True)
