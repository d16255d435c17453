"""Member profiles (questionnaire answers, encrypted) and prompt subscriptions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.db.registry import MemberData
from bot.db.types import snowflake, timestamp


class ConsentStatus:
    """Whether the member agreed to the consent text (and which version)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class MemberProfile(SQLModel, table=True):
    """One member's profile in one server.

    ``answers_enc`` is the encrypted JSON object of questionnaire answers keyed by question id
    (see ``bot.domain.profile``). Plain columns hold only what queries must filter on.
    """

    __tablename__ = "member_profile"
    __member_data__ = MemberData(
        user_columns=("user_id",),
        encrypted=("answers_enc",),
        json_columns=("answers_enc",),
        label="profile",
    )

    guild_id: int = snowflake(primary_key=True)
    user_id: int = snowflake(primary_key=True)
    consent_status: str | None = Field(default=None, max_length=16)
    consent_version: str | None = Field(default=None, max_length=16)
    consent_at: datetime | None = timestamp(nullable=True)
    role: str | None = Field(default=None, max_length=8, index=True)
    capacity: int = Field(default=0)
    mentor_paused: bool = Field(default=False)
    # Pairs this mentor has open; raised and lowered with compare-and-set, never above capacity.
    active_mentees: int = Field(default=0)
    answers_enc: str | None = Field(default=None)
    step: str | None = Field(default=None, max_length=64)
    started_at: datetime = timestamp()
    completed_at: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp()


class SubscriptionStatus:
    """Whether a member receives reflection prompts by DM."""

    SUBSCRIBED = "subscribed"
    PAUSED = "paused"
    UNSUBSCRIBED = "unsubscribed"


class PromptSubscription(SQLModel, table=True):
    """A member's choice about reflection prompts by DM, and what Lantern learnt delivering them.

    ``dm_channel_id`` is kept once known (opening a DM costs a request); ``dm_closed_at`` marks a
    member whose DMs were closed (Discord 50007), who is not retried until they act again.
    """

    __tablename__ = "prompt_subscription"
    __member_data__ = MemberData(user_columns=("user_id",), label="prompt_subscription")

    guild_id: int = snowflake(primary_key=True)
    user_id: int = snowflake(primary_key=True)
    status: str = Field(default=SubscriptionStatus.SUBSCRIBED, max_length=16, index=True)
    dm_channel_id: int | None = snowflake(nullable=True)
    dm_closed_at: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp()
