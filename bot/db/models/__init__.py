"""Every Lantern table. Importing this package registers them all on SQLModel.metadata."""

from bot.db.models.core import AuditEntry, GuildSettings, SchedulerLease

__all__ = ["AuditEntry", "GuildSettings", "SchedulerLease"]
