"""Member data: export, delete (a persistent confirmation), withdraw consent, members leaving."""

from __future__ import annotations

from bot.client import LanternBot
from cogs.mydata.cog import MyDataCog
from cogs.mydata.components import EraseButton


async def setup(bot: LanternBot) -> None:
    await bot.install(MyDataCog, components=[EraseButton])
