"""Peer circles on Discord: /circle for members, /circles for moderators' rounds. The rules
live in ``bot.services.circles``."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.circles.admin import CirclesAdminCog
from cogs.circles.cog import CirclesCog
from cogs.circles.components import expired_circle_round


async def setup(bot: LanternBot) -> None:
    await bot.install(CirclesCog, CirclesAdminCog, expired={"circleround": expired_circle_round})
