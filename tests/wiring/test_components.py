"""Every persistent component spec has one registered button; the bot holds every service."""

from __future__ import annotations

import dataclasses

from bot.client import LanternBot
from bot.domain.components import TEMPLATES
from bot.services import Services


async def test_every_button_template_has_exactly_one_registered_button(
    loaded_bot: LanternBot,
) -> None:
    bot = loaded_bot
    registered = [p.pattern for p in bot.component_templates]
    assert sorted(registered) == sorted(TEMPLATES)


def test_bot_services_holds_every_service(unconnected_bot: LanternBot) -> None:
    bot = unconnected_bot
    for field in dataclasses.fields(Services):
        assert getattr(bot.services, field.name) is not None, field.name
    names = {f.name for f in dataclasses.fields(Services)}
    assert {
        "setup",
        "moderation",
        "prompts",
        "delivery",
        "reflections",
        "pairs",
        "matching",
        "onboarding",
        "member_data",
    } <= names
