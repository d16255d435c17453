"""Every Lantern table. Importing this package registers them all on SQLModel.metadata."""

from bot.db.models.core import AuditEntry, GuildSettings, SchedulerLease
from bot.db.models.matching import (
    Block,
    Introduction,
    IntroStatus,
    MatchingSettings,
    MatchRequest,
    Pair,
    PairStatus,
    RequestStatus,
)
from bot.db.models.members import (
    ConsentStatus,
    MemberProfile,
    PromptSubscription,
    SubscriptionStatus,
)
from bot.db.models.pairs import (
    PairCategory,
    PairCheckin,
    PairCheckinAnswer,
    PairReport,
    PairSettings,
    PairSpace,
    ReportStatus,
)

__all__ = [
    "AuditEntry",
    "Block",
    "ConsentStatus",
    "GuildSettings",
    "IntroStatus",
    "Introduction",
    "MatchRequest",
    "MatchingSettings",
    "MemberProfile",
    "Pair",
    "PairCategory",
    "PairCheckin",
    "PairCheckinAnswer",
    "PairReport",
    "PairSettings",
    "PairSpace",
    "PairStatus",
    "PromptSubscription",
    "ReportStatus",
    "RequestStatus",
    "SchedulerLease",
    "SubscriptionStatus",
]
