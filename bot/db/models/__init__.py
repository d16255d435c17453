"""Every Lantern table. Importing this package registers them all on SQLModel.metadata."""

from bot.db.models.core import AuditEntry, GuildSettings, SchedulerLease
from bot.db.models.matching import Block, Introduction, IntroStatus, Pair, PairStatus
from bot.db.models.members import (
    ConsentStatus,
    MemberProfile,
    PromptSubscription,
    SubscriptionStatus,
)
from bot.db.models.prompts import (
    DeliveryKind,
    DeliveryStatus,
    OccurrenceStatus,
    PromptDelivery,
    PromptEntry,
    PromptOccurrence,
    PromptRevision,
    PromptSchedule,
    PromptSuggestion,
    Reflection,
    SuggestionStatus,
)

__all__ = [
    "AuditEntry",
    "Block",
    "ConsentStatus",
    "DeliveryKind",
    "DeliveryStatus",
    "GuildSettings",
    "IntroStatus",
    "Introduction",
    "MemberProfile",
    "OccurrenceStatus",
    "Pair",
    "PairStatus",
    "PromptDelivery",
    "PromptEntry",
    "PromptOccurrence",
    "PromptRevision",
    "PromptSchedule",
    "PromptSubscription",
    "PromptSuggestion",
    "Reflection",
    "SchedulerLease",
    "SubscriptionStatus",
    "SuggestionStatus",
]
