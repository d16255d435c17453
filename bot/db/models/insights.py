"""End-of-mentorship feedback (each member's own answers) and the joins Lantern counts for
/insights (a number per server and day, nobody's id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.registry import NO_MEMBER_DATA, MemberData
from bot.db.types import UTCDateTime, snowflake, timestamp


class FeedbackStatus:
    """Where one member's feedback card stands. ``asked`` may move to exactly one other state."""

    ASKED = "asked"  # the card is out (or being sent): its questions may be answered
    UNDELIVERED = "undelivered"  # their DMs were closed: nothing more happens, nobody is told
    DONE = "done"  # they finished or skipped: the card is closed


class MentorshipFeedback(SQLModel, table=True):
    """One member's answers about one mentorship that ended: asked once (the unique key is
    claimed before the DM is sent).

    Only the member's own: the partner is never shown it, and moderators see it only counted
    in /insights (words only when ``share_words``). Erasing the member's data deletes it, and
    /insights keeps no separate count: its figures are always computed from these rows.
    """

    __tablename__ = "mentorship_feedback"
    __table_args__ = (UniqueConstraint("pair_id", "user_id", name="uq_feedback_pair_user"),)
    __member_data__ = MemberData(
        user_columns=("user_id",), encrypted=("words_enc",), label="mentorship_feedback"
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = snowflake(index=True)
    pair_id: int = snowflake()
    user_id: int = snowflake(index=True)
    status: str = Field(default=FeedbackStatus.ASKED, max_length=16)
    helpful: int | None = Field(default=None)  # 1-5; 0 = skipped
    recommend: str | None = Field(default=None, max_length=8)  # yes / unsure / no / skip
    words_enc: str | None = Field(default=None)
    share_words: bool = Field(default=False)
    asked_at: datetime = timestamp()
    answered_at: datetime | None = timestamp(nullable=True, index=True)


class JoinTally(SQLModel, table=True):
    """How many people joined a server on one day (UTC), counted from when Lantern started
    counting: a number only, so it names nobody and survives every erasure."""

    __tablename__ = "join_tally"
    __member_data__ = NO_MEMBER_DATA

    guild_id: int = snowflake(primary_key=True)
    day: datetime = Field(sa_type=UTCDateTime, primary_key=True)  # midnight UTC
    joined: int = Field(default=0)
