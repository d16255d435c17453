"""The one messenger: every message Lantern sends outside an interaction reply goes through it.

It fits text to Discord's limits (``bot.domain.text.fit``), pings only the people named, turns
Discord's refusals into a ``SendFailure`` and finds members even when the cache is cold (just
after a restart).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import discord

from bot.domain.components import Button
from bot.domain.text import Safe, fit, plain_inline, safe_inline
from bot.gateway.checks import ensure_moderator
from bot.gateway.components import expired_said, services_of, view_of
from bot.gateway.errors import classify
from bot.gateway.shards import GuildDirectory
from bot.services.ports import Posted, SendFailure, Sent

log = logging.getLogger("lantern.messenger")

MAX_THREAD_NAME = 100


async def find_member(guild: discord.Guild, user_id: int) -> discord.Member | None:
    """The member from the cache, else from Discord; ``None`` if they are not in the server."""
    member = guild.get_member(user_id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(user_id)
    except discord.HTTPException:
        return None


MAX_NAME = 80


async def display_name(
    guild: discord.Guild | None, user_id: int, fallback: str = "A member"
) -> Safe:
    """A member's display name (or ``fallback``) escaped to embed in a message: one line, no
    markdown, links or mentions (``safe_inline``)."""
    member = await find_member(guild, user_id) if guild is not None else None
    return safe_inline(member.display_name if member else fallback, limit=MAX_NAME)


def _mentions(ping: Sequence[int]) -> discord.AllowedMentions:
    if not ping:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=u) for u in ping]
    )


async def _send(
    to: discord.abc.Messageable,
    text: str,
    buttons: Sequence[Button],
    ping: Sequence[int],
    nonce: str | None = None,
) -> discord.Message:
    """``text`` fitted to one message, with ``buttons``, pinging only ``ping``."""
    kwargs: dict[str, Any] = {"allowed_mentions": _mentions(ping)}
    if nonce is not None:
        kwargs["nonce"] = nonce  # discord.py asks Discord to enforce it
    if buttons:
        kwargs["view"] = view_of(buttons)
    return await to.send(fit(text), **kwargs)


def _refused(
    error: discord.HTTPException, event: str, subject: int, level: int = logging.INFO
) -> SendFailure:
    """Discord's refusal as a ``SendFailure``, logged as ``event`` (ids only, never text)."""
    failure = classify(error)
    log.log(level, f"{event} reason=%s", subject, failure.value)
    return failure


async def reply(
    interaction: discord.Interaction[Any],
    text: str,
    *,
    buttons: Sequence[Button] = (),
    ephemeral: bool = True,
    view: discord.ui.View | None = None,
    file: tuple[str, bytes] | None = None,
) -> None:
    """Answer an interaction (first response or follow-up), fitted to one message; ``file``
    (a name and its bytes) is attached."""
    kwargs: dict[str, Any] = {"ephemeral": ephemeral}
    if file is not None:
        kwargs["file"] = discord.File(io.BytesIO(file[1]), filename=file[0])
    if view is not None:
        kwargs["view"] = view
    elif buttons:
        kwargs["view"] = view_of(buttons)
    if interaction.response.is_done():
        await interaction.followup.send(fit(text), **kwargs)
    else:
        await interaction.response.send_message(fit(text), **kwargs)


class InPlace:
    """Progress of slow work shown in the (deferred) answer and edited in place; ``finish``
    puts the final answer in the same message."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self.shown = False

    async def __call__(self, text: str) -> None:
        try:
            await self.interaction.edit_original_response(content=fit(text))
            self.shown = True
        except discord.HTTPException:
            pass  # progress is a courtesy; the final answer still comes

    async def finish(self, text: str, *, view: discord.ui.View | None = None) -> None:
        if self.shown:
            await self.interaction.edit_original_response(content=fit(text), view=view)
        else:
            await reply(self.interaction, text, view=view)


class DiscordMessenger:
    """``Messenger`` on a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.guilds = GuildDirectory(client)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except discord.HTTPException:
                return None
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def dm(
        self, user_id: int, text: str, *, buttons: Sequence[Button] = (), ping: Sequence[int] = ()
    ) -> Sent:
        try:
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            message = await _send(user, text, buttons, ping)
        except discord.HTTPException as error:
            return _refused(error, "dm not delivered user=%s", user_id)
        return Posted(message.channel.id, message.id)

    async def post(
        self,
        channel_id: int,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        ping: Sequence[int] = (),
        nonce: str | None = None,
    ) -> Sent:
        channel = await self._channel(channel_id)
        if channel is None:
            return SendFailure.UNKNOWN_CHANNEL
        try:
            message = await _send(channel, text, buttons, ping, nonce)
        except discord.HTTPException as error:
            return _refused(error, "post not delivered channel=%s", channel_id)
        except (TimeoutError, aiohttp.ClientError, OSError):
            # The request may or may not have landed: a transient fault, retried with the nonce.
            log.info("post timed out channel=%s", channel_id)
            return SendFailure.SERVER_ERROR
        return Posted(message.channel.id, message.id)

    async def edit(
        self,
        channel_id: int,
        message_id: int,
        *,
        text: str | None = None,
        append: str | None = None,
        buttons: Sequence[Button] | None = None,
    ) -> bool:
        channel = await self._channel(channel_id)
        if channel is None:
            return False
        try:
            message = await channel.fetch_message(message_id)
            kwargs: dict[str, Any] = {}
            if text is not None:
                kwargs["content"] = fit(text)
            elif append is not None:
                kwargs["content"] = fit(f"{message.content}\n\n{append}")
            if buttons is not None:
                kwargs["view"] = view_of(buttons) if buttons else None
            await message.edit(**kwargs)
        except discord.HTTPException as error:
            _refused(error, "could not edit message=%s", message_id)
            return False
        return True

    async def private_thread(
        self,
        channel_id: int,
        user_id: int,
        text: str,
        *,
        title: str,
        buttons: Sequence[Button] = (),
    ) -> Sent:
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            return SendFailure.UNKNOWN_CHANNEL
        member = await find_member(channel.guild, user_id)
        if member is None:
            return SendFailure.UNKNOWN_USER
        try:
            # A private thread is only reachable by someone who can view its parent channel;
            # the parent holds nothing but private threads, so this reveals nothing else.
            if not channel.permissions_for(member).view_channel:
                await channel.set_permissions(
                    member,
                    view_channel=True,
                    send_messages=False,
                    send_messages_in_threads=True,
                    read_message_history=True,
                    reason="Lantern: a private thread for a member whose DMs are closed",
                )
            thread = await channel.create_thread(
                name=title, type=discord.ChannelType.private_thread, invitable=False
            )
            await thread.add_user(member)
            message = await _send(thread, text, buttons, [user_id])
        except discord.HTTPException as error:
            return _refused(error, "private thread failed channel=%s", channel_id, logging.WARNING)
        return Posted(thread.id, message.id)

    async def present(self, guild_id: int, user_id: int) -> bool:
        guild = await self.guilds.guild(guild_id)
        return guild is not None and await find_member(guild, user_id) is not None

    async def membership(self, guild_id: int, user_id: int) -> bool | None:
        guild = await self.guilds.guild(guild_id)
        if guild is None:
            return None
        if guild.get_member(user_id) is not None:
            return True
        if guild.chunked:  # every member is in the cache: absent means gone
            return False
        try:
            await guild.fetch_member(user_id)
        except discord.NotFound:
            return False
        except discord.HTTPException:
            return None
        return True

    async def name(self, guild_id: int, user_id: int, fallback: str = "A member") -> Safe:
        return await display_name(await self.guilds.guild(guild_id), user_id, fallback)

    async def guild_name(self, guild_id: int) -> str:
        guild = await self.guilds.guild(guild_id)
        return guild.name if guild else "your server"

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> int | SendFailure:
        channel = await self._channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            return SendFailure.UNKNOWN_CHANNEL
        try:
            thread = await channel.get_partial_message(message_id).create_thread(
                name=plain_inline(name, limit=MAX_THREAD_NAME), auto_archive_duration=10080
            )
        except discord.HTTPException as error:
            return _refused(error, "thread not opened channel=%s", channel_id)
        return thread.id

    async def in_guild(self, guild_id: int) -> bool:
        return await self.guilds.guild(guild_id) is not None

    async def owner_id(self, guild_id: int) -> int | None:
        guild = await self.guilds.guild(guild_id)
        return guild.owner_id if guild else None

    async def can_post(self, channel_id: int) -> SendFailure | None:
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            return SendFailure.UNKNOWN_CHANNEL
        perms = channel.permissions_for(channel.guild.me)
        if not perms.view_channel:
            return SendFailure.MISSING_ACCESS
        if not perms.send_messages:
            return SendFailure.MISSING_PERMISSIONS
        return None


Preview = tuple[str, discord.ui.View | None]


def expired_preview(
    fresh: Callable[[Any, int, int], Awaitable[Preview]],
) -> Callable[[discord.Interaction[Any], str], Awaitable[bool]]:
    """The answer to a click on an expired moderator preview (a batch round): a fresh preview,
    since who waits may have changed, for moderators only. ``fresh(services, guild_id,
    owner_id)`` builds it, as the preview command does."""

    async def answer(interaction: discord.Interaction[Any], key: str) -> bool:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await ensure_moderator(interaction)
        text, view = await fresh(services_of(interaction), int(key), interaction.user.id)
        await reply(interaction, fit(f"{expired_said(interaction)}\n\n{text}"), view=view)
        return True

    return answer
