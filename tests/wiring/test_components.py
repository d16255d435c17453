"""Every persistent component spec has one registered button; the bot holds every service."""

from __future__ import annotations

import dataclasses

import discord

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


def test_the_view_store_internals_expiry_relies_on(unconnected_bot: LanternBot) -> None:
    """``LanternBot._is_expired`` reads discord.py's view store (``_views``, ``_dynamic_items``,
    ``_modals``) and ``Interaction.extras``; if an upgrade renames them, this fails (the bot then
    stays silent rather than answering twice)."""

    store = unconnected_bot._connection._view_store
    assert isinstance(store._views, dict)
    assert isinstance(store._dynamic_items, dict)
    assert isinstance(store._modals, dict)
    assert "extras" in discord.Interaction.__slots__


async def test_every_short_lived_kind_has_a_current_card(loaded_bot: LanternBot) -> None:
    """Expired onboarding forms, profile menus and server menus offer the current card."""
    assert {"onb", "profile", "pick"} <= set(loaded_bot.expired_handlers)
