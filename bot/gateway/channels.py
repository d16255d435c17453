"""Every channel Lantern makes, with its full overwrite set: the ``Spaces`` adapter.

Overwrites go out in the create call itself (never patched afterwards), grant only what the
domain decided (never a ``manage_*`` permission), and Discord's refusals come back as a
``SendFailure`` through ``classify`` (50013 missing permissions, 30013 a full server, 50035
``CHANNEL_PARENT_MAX_CHANNELS`` a full category).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord

from bot.domain import pairs as d
from bot.domain.components import Button
from bot.domain.text import EmbedText, fit, fit_embeds
from bot.gateway.components import view_of
from bot.gateway.errors import classify
from bot.gateway.messenger import find_member
from bot.gateway.shards import GuildDirectory
from bot.services import ports

log = logging.getLogger("lantern.channels")

_GRANTS: dict[ports.Access, d.Grant] = {
    ports.Access.MEMBER: d.Grant(allow=d.MEMBER_ALLOW),
    ports.Access.READ_ONLY: d.Grant(allow=d.READ_ONLY_ALLOW, deny=d.READ_ONLY_DENY),
    ports.Access.HIDDEN: d.Grant(deny=("view_channel",)),
}


def overwrite_for(grant: d.Grant) -> discord.PermissionOverwrite:
    """One domain grant as a discord.py overwrite."""
    flags: dict[str, bool] = {flag: True for flag in grant.allow}
    flags.update({flag: False for flag in grant.deny})
    return discord.PermissionOverwrite(**flags)


def read_only_overwrite() -> discord.PermissionOverwrite:
    """What the two members keep after an ending: read, never write."""
    return overwrite_for(_GRANTS[ports.Access.READ_ONLY])


def embeds_of(cards: Sequence[d.Card]) -> list[discord.Embed]:
    """The cards of one message as embeds, within Discord's embed limits (``fit_embeds``)."""
    embeds = []
    texts = [EmbedText(title=card.title, fields=card.fields) for card in cards]
    for text in fit_embeds(texts):
        embed = discord.Embed(
            title=text.title or None,
            description=text.description or None,
            colour=discord.Colour.gold(),
        )
        for name, value in text.fields:
            embed.add_field(name=name, value=value, inline=False)
        if text.footer:
            embed.set_footer(text=text.footer)
        embeds.append(embed)
    return embeds


def _refused(error: discord.HTTPException, event: str, subject: int) -> ports.SendFailure:
    """Discord's refusal as a ``SendFailure``, logged as a warning ``event`` (ids only)."""
    failure = classify(error)
    log.warning(f"{event} reason=%s", subject, failure.value)
    return failure


def _seen(space: discord.TextChannel | discord.Thread) -> ports.Seen:
    """A space and when it was last written in (its creation if never)."""
    last = max(space.id, space.last_message_id or 0)
    return ports.Seen(space.id, discord.utils.snowflake_time(last))


class DiscordSpaces:
    """``Spaces`` on a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.guilds = GuildDirectory(client)

    async def _overwrites(
        self, guild: discord.Guild, overwrites: Sequence[ports.Overwrite]
    ) -> dict[Any, discord.PermissionOverwrite]:
        resolved: dict[Any, discord.PermissionOverwrite] = {}
        for entry in overwrites:
            target: Any
            kind, target_id = entry.target.kind, entry.target.id
            if kind == "everyone":
                target = guild.default_role
            elif kind == "bot":
                # A server fetched over REST (another process's shard) has no member cache.
                me = self.client.user
                target = guild.me or (discord.Object(me.id, type=discord.Member) if me else None)
            elif kind == "member":
                target = await find_member(guild, target_id) or discord.Object(
                    target_id, type=discord.Member
                )
            else:
                target = guild.get_role(target_id)
            if target is not None:
                resolved[target] = overwrite_for(entry.grant)
        return resolved

    async def _space(self, space_id: int) -> discord.TextChannel | discord.Thread | None:
        """The channel or thread from the cache, else from Discord (``None`` if not found)."""
        space = self.client.get_channel(space_id)
        if space is None:
            try:
                space = await self.client.fetch_channel(space_id)
            except discord.HTTPException:
                return None
        return space if isinstance(space, discord.TextChannel | discord.Thread) else None

    async def layout(
        self,
        guild_id: int,
        *,
        category_ids: Sequence[int],
        thread_parent_id: int | None,
        moderator_role_id: int | None,
    ) -> ports.Layout | None:
        guild = await self.guilds.guild(guild_id)
        if guild is None:
            return None
        channels = await self.guilds.channels(guild)
        by_id = {c.id: c for c in channels}
        categories: dict[int, ports.Category] = {}
        for category_id in category_ids:
            found = by_id.get(category_id)
            if isinstance(found, discord.CategoryChannel):
                inside = sum(1 for c in channels if getattr(c, "category_id", None) == found.id)
                categories[category_id] = ports.Category(found.name, inside)
        parent = by_id.get(thread_parent_id) if thread_parent_id else None
        role = guild.get_role(moderator_role_id) if moderator_role_id else None
        return ports.Layout(
            channels=len(channels),
            categories=categories,
            names=frozenset(c.name for c in channels),
            thread_parent=isinstance(parent, discord.TextChannel),
            moderator_role=role.name if role else None,
        )

    async def create_category(
        self, guild_id: int, name: str, overwrites: Sequence[ports.Overwrite], *, reason: str
    ) -> ports.Made | ports.SendFailure:
        guild = await self.guilds.guild(guild_id)
        if guild is None:
            return ports.SendFailure.NOT_FOUND
        try:
            category = await guild.create_category(
                name, overwrites=await self._overwrites(guild, overwrites), reason=reason
            )
        except discord.HTTPException as error:
            return _refused(error, "category not created guild=%s", guild_id)
        return ports.Made(category.id)

    async def create_channel(
        self,
        guild_id: int,
        category_id: int,
        name: str,
        overwrites: Sequence[ports.Overwrite],
        *,
        reason: str,
    ) -> ports.Made | ports.SendFailure:
        guild = await self.guilds.guild(guild_id)
        category = await self.guilds.channel(guild, category_id) if guild else None
        if guild is None or not isinstance(category, discord.CategoryChannel):
            return ports.SendFailure.UNKNOWN_CHANNEL
        try:
            channel = await guild.create_text_channel(
                name,
                category=category,
                overwrites=await self._overwrites(guild, overwrites),
                reason=reason,
            )
        except discord.HTTPException as error:
            return _refused(error, "channel not created guild=%s", guild_id)
        return ports.Made(channel.id)

    async def create_thread(
        self, parent_id: int, name: str, member_ids: Sequence[int], *, reason: str
    ) -> ports.Made | ports.SendFailure:
        parent = await self._space(parent_id)
        if not isinstance(parent, discord.TextChannel):
            return ports.SendFailure.UNKNOWN_CHANNEL
        try:
            thread = await parent.create_thread(
                name=name, type=discord.ChannelType.private_thread, invitable=False, reason=reason
            )
            for user_id in member_ids:
                await thread.add_user(discord.Object(user_id))
        except discord.HTTPException as error:
            return _refused(error, "thread not created guild=%s", parent.guild.id)
        return ports.Made(thread.id)

    async def post_opening(
        self,
        space_id: int,
        text: str,
        cards: Sequence[d.Card],
        *,
        buttons: Sequence[Button],
        ping: Sequence[int],
    ) -> ports.Sent:
        space = await self._space(space_id)
        if space is None:
            return ports.SendFailure.UNKNOWN_CHANNEL
        try:
            message = await space.send(
                fit(text),
                embeds=embeds_of(cards),
                view=view_of(buttons),
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[discord.Object(u) for u in ping]
                ),
            )
        except discord.HTTPException as error:
            return classify(error)
        return ports.Posted(message.channel.id, message.id)

    async def set_access(
        self, space_id: int, user_id: int, access: ports.Access
    ) -> ports.SendFailure | None:
        space = await self._space(space_id)
        if space is None:
            return ports.SendFailure.UNKNOWN_CHANNEL
        try:
            if isinstance(space, discord.Thread):
                await self._set_thread_access(space, user_id, access)
            elif access == ports.Access.REMOVED:
                await self.client.http.delete_channel_permissions(space.id, user_id)
            else:
                allow, deny = overwrite_for(_GRANTS[access]).pair()
                await self.client.http.edit_channel_permissions(
                    space.id, user_id, str(allow.value), str(deny.value), 1
                )
        except discord.NotFound:
            return None  # the overwrite (or the person's membership) is already gone
        except discord.HTTPException as error:
            return _refused(error, "access change failed space=%s", space_id)
        return None

    async def _set_thread_access(
        self, thread: discord.Thread, user_id: int, access: ports.Access
    ) -> None:
        """Threads have no overwrites: membership and the lock stand in for them."""
        if access in (ports.Access.REMOVED, ports.Access.HIDDEN):
            await thread.remove_user(discord.Object(user_id))
        elif access == ports.Access.READ_ONLY:
            await thread.edit(locked=True, archived=False)
        else:
            await thread.add_user(discord.Object(user_id))

    async def set_role_access(
        self, channel_id: int, role_id: int, grant: d.Grant | None
    ) -> ports.SendFailure | None:
        try:
            if grant is None:
                await self.client.http.delete_channel_permissions(channel_id, role_id)
            else:
                allow, deny = overwrite_for(grant).pair()
                await self.client.http.edit_channel_permissions(
                    channel_id, role_id, str(allow.value), str(deny.value), 0
                )
        except discord.NotFound:
            return None if grant is None else ports.SendFailure.UNKNOWN_CHANNEL
        except discord.HTTPException as error:
            return _refused(error, "role access failed channel=%s", channel_id)
        return None

    async def pair_channels(
        self, guild_id: int, category_ids: Sequence[int]
    ) -> list[ports.Seen] | None:
        guild = self.client.get_guild(guild_id)
        if guild is None:
            return None
        bot_allow = overwrite_for(d.Grant(allow=d.BOT_ALLOW)).pair()[0].value
        found: list[ports.Seen] = []
        for category_id in category_ids:
            category = guild.get_channel(category_id)
            if not isinstance(category, discord.CategoryChannel):
                continue
            for channel in category.text_channels:
                overwrites = channel.overwrites
                mine = overwrites.get(guild.me)
                everyone = overwrites.get(guild.default_role)
                if (
                    mine is None
                    or mine.pair()[0].value != bot_allow
                    or everyone is None
                    or everyone.view_channel is not False
                    or not d.is_pair_channel_name(channel.name)
                ):
                    continue  # not made by Lantern for a pair: never touched
                found.append(_seen(channel))
        return found

    async def pair_threads(
        self, guild_id: int, parent_id: int, *, archived_before: int | None, archived_limit: int
    ) -> ports.SeenThreads | ports.SendFailure | None:
        guild = self.client.get_guild(guild_id)
        parent = guild.get_channel(parent_id) if guild else None
        me = self.client.user
        if not isinstance(parent, discord.TextChannel) or me is None:
            return None

        def lantern_pair(thread: discord.Thread) -> bool:
            """Made by Lantern for a pair: anything else in the channel is never touched."""
            return (
                thread.type == discord.ChannelType.private_thread
                and thread.owner_id == me.id
                and d.is_pair_channel_name(thread.name)
            )

        found = {t.id: t for t in parent.threads if lantern_pair(t)}  # active: the cache
        listed, last = 0, None
        try:
            # Lantern is in every thread it made, so the "joined" listing finds them all with
            # Read Message History alone (listing every private thread needs Manage Threads).
            async for thread in parent.archived_threads(
                private=True,
                joined=True,
                limit=archived_limit,
                before=discord.Object(archived_before) if archived_before else None,
            ):
                listed, last = listed + 1, thread.id
                if lantern_pair(thread):
                    found.setdefault(thread.id, thread)
        except discord.HTTPException as error:
            return classify(error)
        seen = [_seen(thread) for thread in found.values()]
        return ports.SeenThreads(seen, last if listed >= archived_limit else None)

    async def exists(self, space_id: int) -> bool | None:
        if isinstance(self.client.get_channel(space_id), discord.TextChannel | discord.Thread):
            return True
        try:
            fetched = await self.client.fetch_channel(space_id)
        except discord.NotFound:
            return False
        except discord.HTTPException:
            return None
        return True if isinstance(fetched, discord.TextChannel | discord.Thread) else None

    async def delete(self, space_id: int, *, reason: str) -> ports.SendFailure | None:
        try:
            await self.client.http.delete_channel(space_id, reason=reason)
        except discord.NotFound:
            return None
        except discord.HTTPException as error:
            return classify(error)
        return None
