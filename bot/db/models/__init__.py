"""Every Lantern table. Importing this package registers them all on SQLModel.metadata."""

from bot.db.models.core import AuditEntry, GuildSettings, SchedulerLease
from bot.db.models.matching import Block, Introduction, IntroStatus, Pair, PairStatus

__all__ = [
    "AuditEntry",
    "Block",
    "GuildSettings",
    "IntroStatus",
    "Introduction",
    "Pair",
    "PairStatus",
    "SchedulerLease",
]
