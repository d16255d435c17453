"""Every persistent component spec has one registered button; the bot holds every service."""

from __future__ import annotations

import dataclasses

from bot.client import EXTENSIONS, create_bot
from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database, create_engine
from bot.domain.components import TEMPLATES
from bot.services import Services


async def test_every_button_template_has_exactly_one_registered_button() -> None:
    bot = create_bot(
        Config(source="<wiring>"),
        database=Database(create_engine("sqlite+aiosqlite:///:memory:")),
        cipher=Cipher([Cipher.generate_key()]),
    )
    for name in EXTENSIONS:
        await bot.load_extension(name)
    registered = [p.pattern for p in bot.component_templates]
    assert sorted(registered) == sorted(TEMPLATES)
    await bot.database.dispose()


def test_bot_services_holds_every_service() -> None:
    bot = create_bot(
        Config(source="<wiring>"),
        database=Database(create_engine("sqlite+aiosqlite:///:memory:")),
        cipher=Cipher([Cipher.generate_key()]),
    )
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
