"""Onboarding: the welcome, consent, the questionnaire page by page, and the member's profile."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.onboarding.cog import OnboardingCog
from cogs.onboarding.components import BUTTONS
from cogs.onboarding.profile import ProfileCog


async def setup(bot: LanternBot) -> None:
    bot.register_components(*BUTTONS)
    await bot.add_cog(OnboardingCog(bot))
    await bot.add_cog(ProfileCog(bot))
