"""Reflection prompts: the moderators' library and schedules (/prompts), members' subscriptions,
suggestions and private reflections (/reflections, /journal), and their persistent buttons."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.prompts.cog import PromptsCog
from cogs.prompts.components import ReflectButton, ShareButton, SuggestionButton
from cogs.prompts.reflections import ReflectionsCog


async def setup(bot: LanternBot) -> None:
    """Add the prompts and reflections cogs and register their buttons."""
    bot.register_components(ReflectButton, ShareButton, SuggestionButton)
    await bot.add_cog(PromptsCog(bot))
    await bot.add_cog(ReflectionsCog(bot))
