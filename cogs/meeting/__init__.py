"""/meet: weekly meeting times in a private space (pair spaces; circles through a resolver)."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.meeting.cog import MeetingCog


async def setup(bot: LanternBot) -> None:
    """Add the /meet command."""
    await bot.install(MeetingCog)
