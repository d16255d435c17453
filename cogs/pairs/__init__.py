"""Pair spaces on Discord: /pair for members, /pairs for moderators, the persistent buttons."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.pairs.admin import PairsAdminCog
from cogs.pairs.cog import PairsCog
from cogs.pairs.components import (
    CaseButton,
    CheckinAnswerButton,
    PairActionButton,
    expired_checkin,
    expired_end,
)


async def setup(bot: LanternBot) -> None:
    """Register the pair buttons and add the member and moderator cogs."""
    await bot.install(
        PairsCog,
        PairsAdminCog,
        components=[PairActionButton, CheckinAnswerButton, CaseButton],
        expired={"pairend": expired_end, "checkin": expired_checkin},
    )
