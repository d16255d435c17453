"""Matching on Discord: /match and /mentor for members, /matching for moderators, and the
introduction and "find me a mentor" buttons. The rules live in ``bot.services.matching``."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.matching.admin import MatchingAdminCog, expired_round
from cogs.matching.cog import MatchingCog
from cogs.matching.components import IntroButton, RequestButton


async def setup(bot: LanternBot) -> None:
    await bot.install(
        MatchingCog,
        MatchingAdminCog,
        components=[IntroButton, RequestButton],
        expired={"round": expired_round},
    )
