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
    bot.register_components(PairActionButton, CheckinAnswerButton, CaseButton)
    bot.register_expired("pairend", expired_end)
    bot.register_expired("checkin", expired_checkin)
    await bot.add_cog(PairsCog(bot))
    await bot.add_cog(PairsAdminCog(bot))
