"""Every channel Lantern makes, with its full overwrite set: the ``Spaces`` adapter."""

from __future__ import annotations

import discord


class DiscordSpaces:
    """``Spaces`` on a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
