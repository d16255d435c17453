"""Onboarding: the welcome, consent, the questionnaire page by page, and the member's profile."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.onboarding.cog import OnboardingCog
from cogs.onboarding.components import BUTTONS
from cogs.onboarding.forms import expired_onboarding
from cogs.onboarding.profile import ProfileCog, ProfileEditButton, expired_profile


async def setup(bot: LanternBot) -> None:
    bot.register_components(*BUTTONS, ProfileEditButton)
    bot.register_expired("onb", expired_onboarding)
    bot.register_expired("profile", expired_profile)
    await bot.add_cog(OnboardingCog(bot))
    await bot.add_cog(ProfileCog(bot))
