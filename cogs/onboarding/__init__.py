"""Onboarding: the welcome, consent, the questionnaire page by page, and the member's profile."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.onboarding.cog import OnboardingCog
from cogs.onboarding.components import BUTTONS
from cogs.onboarding.forms import expired_onboarding
from cogs.onboarding.profile import ProfileCog, ProfileEditButton, expired_profile


async def setup(bot: LanternBot) -> None:
    await bot.install(
        OnboardingCog,
        ProfileCog,
        components=[*BUTTONS, ProfileEditButton],
        expired={"onb": expired_onboarding, "profile": expired_profile},
    )
