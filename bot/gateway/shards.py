"""Servers on any shard: this process's cache for its own shards, Discord's REST API for others.

With several processes (``[gateway] shard_ids``) a process caches only the servers of the
shards it owns. Work for another server still reaches it: every direct message and DM button
arrives on shard 0, and the one process that runs the scheduled sweeps serves every server.
Such a server is fetched over REST (its roles, not its channels or members) and remembered for
a few minutes; members are then fetched one by one (``find_member``).
"""

from __future__ import annotations

import time

import discord

# How long a server fetched over REST is reused (its name and roles rarely change).
REMOTE_TTL_S = 300.0
REMOTE_MAX = 1024


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: the shard that receives a server's events."""
    return (guild_id >> 22) % max(shard_count, 1)


class GuildDirectory:
    """Finds a server whichever shard (and so whichever process) it belongs to."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._remote: dict[int, tuple[float, discord.Guild | None]] = {}

    def owns(self, guild_id: int) -> bool:
        """Whether this process is connected to the shard of ``guild_id``."""
        count = self.client.shard_count or 1
        owned = getattr(self.client, "shard_ids", None)
        return owned is None or shard_of(guild_id, count) in owned

    def owns_every_shard(self) -> bool:
        """Whether this process is the only one (it sees every server's events)."""
        owned = getattr(self.client, "shard_ids", None)
        return owned is None or len(set(owned)) >= (self.client.shard_count or 1)

    async def guild(self, guild_id: int) -> discord.Guild | None:
        """The server, or ``None`` when Lantern is not in it."""
        cached = self.client.get_guild(guild_id)
        if cached is not None or self.owns(guild_id):
            return cached
        now = time.monotonic()
        hit = self._remote.get(guild_id)
        if hit is not None and now - hit[0] < REMOTE_TTL_S:
            return hit[1]
        try:
            found: discord.Guild | None = await self.client.fetch_guild(guild_id, with_counts=False)
        except discord.NotFound:
            found = None
        except discord.Forbidden:
            found = None
        if len(self._remote) >= REMOTE_MAX:
            self._remote.clear()
        self._remote[guild_id] = (now, found)
        return found

    async def channel(
        self, guild: discord.Guild, channel_id: int
    ) -> discord.abc.GuildChannel | None:
        """A channel of ``guild`` from the cache, else from Discord."""
        found = guild.get_channel(channel_id)
        if found is not None or self.owns(guild.id):
            return found
        try:
            fetched = await self.client.fetch_channel(channel_id)
        except discord.HTTPException:
            return None
        return fetched if isinstance(fetched, discord.abc.GuildChannel) else None

    async def channels(self, guild: discord.Guild) -> list[discord.abc.GuildChannel]:
        """Every channel of ``guild`` (fetched when another process owns its shard)."""
        if self.owns(guild.id):
            return list(guild.channels)
        try:
            return list(await guild.fetch_channels())
        except discord.HTTPException:
            return []
