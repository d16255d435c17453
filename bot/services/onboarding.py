"""Onboarding: welcome, consent, questionnaire pages, the profile."""

from __future__ import annotations

from bot.services.context import Context, Service


class OnboardingService(Service):
    """Onboarding: welcome, consent, questionnaire pages, the profile."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
