"""What the services need from the outside world, as typed protocols.

The gateway implements them on Discord (``bot.gateway``); tests implement them as recording
fakes (``tests/services/fakes.py``). A port never raises a Discord exception: a send that
Discord refuses comes back as a ``SendFailure`` the service can decide on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.domain.components import Button


class SendFailure(StrEnum):
    """Why Discord refused a send, in the terms Lantern acts on."""

    DMS_CLOSED = "dms_closed"
    MISSING_ACCESS = "missing_access"
    MISSING_PERMISSIONS = "missing_permissions"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_MESSAGE = "unknown_message"
    UNKNOWN_USER = "unknown_user"
    CHANNEL_LIMIT = "channel_limit"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Posted:
    """Where a message landed."""

    channel_id: int
    message_id: int


Sent = Posted | SendFailure


class Messenger(Protocol):
    """Sends, edits and looks people up on Discord. Text is escaped by the caller (domain) and
    fitted to Discord's limits here; no message pings anyone but ``ping``."""

    async def dm(
        self, user_id: int, text: str, *, buttons: Sequence[Button] = (), ping: Sequence[int] = ()
    ) -> Sent:
        """A direct message to one person."""
        ...

    async def post(
        self,
        channel_id: int,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        ping: Sequence[int] = (),
    ) -> Sent:
        """A message in a channel or thread."""
        ...

    async def edit(
        self,
        channel_id: int,
        message_id: int,
        *,
        text: str | None = None,
        append: str | None = None,
        buttons: Sequence[Button] | None = None,
    ) -> bool:
        """Replace (``text``) or extend (``append``) a message; ``buttons=()`` removes them."""
        ...

    async def present(self, guild_id: int, user_id: int) -> bool:
        """Whether the person is a member of the server (the cache, else Discord)."""
        ...

    async def name(self, guild_id: int, user_id: int, fallback: str = "A member") -> str:
        """A member's display name for a message, or ``fallback``."""
        ...

    async def guild_name(self, guild_id: int) -> str:
        """The server's name, for messages sent outside it."""
        ...

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> int | SendFailure:
        """A public thread on a message (answers to a prompt post); the thread's id."""
        ...

    async def in_guild(self, guild_id: int) -> bool:
        """Whether Lantern is (still) in the server."""
        ...


class Jobs(Protocol):
    """One-off scheduled work: ``run(now)`` at ``when`` (rebuilt from the database at start)."""

    def run_at(
        self, job_id: str, run: Callable[[datetime], Awaitable[Any]], when: datetime
    ) -> None:
        """Add or replace the job ``job_id``."""
        ...

    def cancel(self, job_id: str) -> None:
        """Drop the job if it exists."""
        ...


class DmSender(Protocol):
    """What the DM fan-out needs from Discord: open a DM channel, post one message in it.

    Built for volume (thousands of DMs per prompt): the gateway sends a raw payload without
    building discord.py objects. Text and buttons are fitted and rendered there; a refusal
    comes back as a ``SendFailure``, never as a Discord exception.
    """

    async def open_dm(self, user_id: int) -> int | SendFailure:
        """The DM channel id for ``user_id``."""
        ...

    async def send(
        self, channel_id: int, text: str, *, buttons: Sequence[Button] = ()
    ) -> int | SendFailure:
        """Post ``text`` (pinging no one) with ``buttons``; the new message's id."""
        ...


class Spaces(Protocol):
    """Makes and changes the private channels (or threads) pairs talk in."""
