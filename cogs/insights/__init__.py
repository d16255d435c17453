"""Program insights for moderators (/insights) and the end-of-mentorship feedback card."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.insights.cog import InsightsCog
from cogs.insights.components import FeedbackButton, expired_words


async def setup(bot: LanternBot) -> None:
    """Register the feedback buttons and add the /insights cog."""
    await bot.install(InsightsCog, components=[FeedbackButton], expired={"feedback": expired_words})
