"""Reflection prompts: the moderators' library and schedules (/prompts), members' subscriptions,
suggestions and private reflections (/reflections, /journal), and their persistent buttons."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.prompts.cog import PromptsCog, expired_import
from cogs.prompts.components import ReflectButton, ShareButton, SuggestionButton
from cogs.prompts.reflections import ReflectionsCog, expired_journal


async def setup(bot: LanternBot) -> None:
    """Add the prompts and reflections cogs and register their buttons."""
    await bot.install(
        PromptsCog,
        ReflectionsCog,
        components=[ReflectButton, ShareButton, SuggestionButton],
        expired={"journal": expired_journal, "import": expired_import},
    )
