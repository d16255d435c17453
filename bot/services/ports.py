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
from typing import Any, Literal, Protocol, TypeVar

from bot.domain.components import Button
from bot.domain.pairs import Card, Grant
from bot.domain.text import Safe


class SendFailure(StrEnum):
    """Why Discord refused a send, in the terms Lantern acts on."""

    DMS_CLOSED = "dms_closed"
    MISSING_ACCESS = "missing_access"
    MISSING_PERMISSIONS = "missing_permissions"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_MESSAGE = "unknown_message"
    UNKNOWN_USER = "unknown_user"
    CHANNEL_LIMIT = "channel_limit"
    CATEGORY_LIMIT = "category_limit"
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
    """Sends, edits and looks people up on Discord. Member text is escaped by the caller
    (domain), names come back escaped from ``name``, and every message is fitted to Discord's
    limits here; no message pings anyone but ``ping``."""

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
        nonce: str | None = None,
    ) -> Sent:
        """A message in a channel or thread. With a ``nonce``, Discord creates at most one
        message per nonce in a few minutes, so a retry after a timeout never posts twice."""
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

    async def private_thread(
        self,
        channel_id: int,
        user_id: int,
        text: str,
        *,
        title: str,
        buttons: Sequence[Button] = (),
    ) -> Sent:
        """Post in a new private thread of ``channel_id`` that only ``user_id`` (and moderators)
        can see, pinging only them: the way to reach someone whose DMs are closed. They are let
        view the parent channel (which holds nothing but such threads) but not post in it."""
        ...

    async def present(self, guild_id: int, user_id: int) -> bool:
        """Whether the person is a member of the server (the cache, else Discord)."""
        ...

    async def membership(self, guild_id: int, user_id: int) -> bool | None:
        """Whether the person is in the server, for acting on a departure: ``False`` only when
        Discord says so (or the complete member cache does), ``None`` when it can't tell now
        (the server unavailable, Discord failing): never a guess."""
        ...

    async def name(self, guild_id: int, user_id: int, fallback: str = "A member") -> Safe:
        """A member's display name (or ``fallback``) already escaped to embed in a message
        (``safe_inline``: one line, no markdown, no links, no mentions)."""
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

    async def owner_id(self, guild_id: int) -> int | None:
        """The server owner's user id (for what must reach someone when nothing else works)."""
        ...

    async def can_post(self, channel_id: int) -> SendFailure | None:
        """Why Lantern could not post in the channel right now (``None``: it can)."""
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


T = TypeVar("T")
PhaseHeard = Callable[[int], Awaitable[None]]


class ComputeFailed(Exception):
    """The worker stopped before finishing (it crashed, ran out of memory, or the bot is
    shutting down); whatever it computed is lost, nothing else happened."""


class Compute(Protocol):
    """Runs CPU-heavy pure work away from the event loop (a process pool in the bot).

    ``fn`` is a module-level function taking plain, picklable data and, last, a ``report``
    callable that takes an integer phase; it is called as ``fn(*args, report)``.
    ``on_phase`` hears the latest phase every ``poll`` seconds while ``fn`` runs (0 until
    ``fn`` reports one: it has not started). A worker that dies raises ``ComputeFailed``.
    """

    async def run(self, fn: Callable[..., T], *args: Any, on_phase: PhaseHeard | None = None) -> T:
        """``fn(*args, report)`` in a worker; its result."""
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


class Access(StrEnum):
    """What one person may do in a pair space."""

    MEMBER = "member"  # see, write, read history, attach (the pair's own grant)
    READ_ONLY = "read_only"  # see and read, never write (after an ending)
    HIDDEN = "hidden"  # cannot see it (contact paused after a report)
    REMOVED = "removed"  # no overwrite at all (someone who left)


@dataclass(frozen=True)
class Target:
    """Who one overwrite is for: ``everyone`` (the server), ``bot``, a ``member`` or a ``role``."""

    kind: Literal["everyone", "bot", "member", "role"]
    id: int = 0


@dataclass(frozen=True)
class Overwrite:
    """One entry of a channel's overwrite set."""

    target: Target
    grant: Grant


@dataclass(frozen=True)
class Category:
    """A category as the server has it now."""

    name: str
    channels: int


@dataclass(frozen=True)
class Layout:
    """What placing a new space needs to know about a server right now."""

    channels: int  # every channel in the server, categories included
    categories: dict[int, Category]  # those of the asked ids that exist
    names: frozenset[str]  # channel names already taken
    thread_parent: bool  # the asked thread channel exists and can hold private threads
    moderator_role: str | None  # the asked moderator role's name, if it exists


@dataclass(frozen=True)
class Seen:
    """A channel found in a pair category: its id and when it was last written in (or made)."""

    id: int
    last_active: datetime


@dataclass(frozen=True)
class SeenThreads:
    """Lantern's pair threads found in a channel, and where its archived threads are listed
    from next time (``None``: the listing reached the oldest)."""

    threads: list[Seen]
    archived_before: int | None


@dataclass(frozen=True)
class Made:
    """A space (or category) Discord created."""

    id: int


class Spaces(Protocol):
    """Makes and changes the private channels (or threads) pairs talk in.

    Every create call carries the complete overwrite set; nothing is patched afterwards.
    Discord's refusals come back as a ``SendFailure`` (``CHANNEL_LIMIT`` for a full server,
    ``CATEGORY_LIMIT`` for a full category, ``MISSING_PERMISSIONS``...), never as an exception.
    """

    async def layout(
        self,
        guild_id: int,
        *,
        category_ids: Sequence[int],
        thread_parent_id: int | None,
        moderator_role_id: int | None,
    ) -> Layout | None:
        """The server's channels as placement needs them; ``None`` if it is unavailable."""
        ...

    async def create_category(
        self, guild_id: int, name: str, overwrites: Sequence[Overwrite], *, reason: str
    ) -> Made | SendFailure:
        """A new category with exactly ``overwrites``."""
        ...

    async def create_channel(
        self,
        guild_id: int,
        category_id: int,
        name: str,
        overwrites: Sequence[Overwrite],
        *,
        reason: str,
    ) -> Made | SendFailure:
        """A text channel in ``category_id`` with exactly ``overwrites``."""
        ...

    async def create_thread(
        self, parent_id: int, name: str, member_ids: Sequence[int], *, reason: str
    ) -> Made | SendFailure:
        """A private, non-invitable thread in ``parent_id`` holding ``member_ids``."""
        ...

    async def post_opening(
        self,
        space_id: int,
        text: str,
        cards: Sequence[Card],
        *,
        buttons: Sequence[Button],
        ping: Sequence[int],
    ) -> Sent:
        """The opening message: text, one card per person, buttons; pings only ``ping``."""
        ...

    async def set_access(self, space_id: int, user_id: int, access: Access) -> SendFailure | None:
        """Change what one person may do in the space (even someone who left the server)."""
        ...

    async def set_role_access(
        self, channel_id: int, role_id: int, grant: Grant | None
    ) -> SendFailure | None:
        """Give a role exactly ``grant`` on a channel or category (``None``: no overwrite)."""
        ...

    async def pair_channels(self, guild_id: int, category_ids: Sequence[int]) -> list[Seen] | None:
        """The channels in those categories that are shaped like Lantern's pair spaces (the
        pair's own overwrite set); ``None`` if the server is unavailable."""
        ...

    async def pair_threads(
        self, guild_id: int, parent_id: int, *, archived_before: int | None, archived_limit: int
    ) -> SeenThreads | SendFailure | None:
        """The private threads in the server's channel ``parent_id`` that Lantern made for a
        pair (its own, shaped like a pair space's name): every active one, and at most
        ``archived_limit`` archived ones older than ``archived_before`` (newest first). A
        ``SendFailure`` if Discord refused the listing; ``None`` if the channel is unavailable."""
        ...

    async def exists(self, space_id: int) -> bool | None:
        """Whether the space still exists: ``False`` only if Discord says it is unknown,
        ``None`` if Discord could not say right now."""
        ...

    async def can_manage_threads(self, channel_id: int) -> bool | None:
        """Whether Lantern may delete threads in the channel (Discord asks Manage Threads for
        that, even for threads Lantern made); ``None`` if the channel is not known here."""
        ...

    async def delete(self, space_id: int, *, reason: str) -> SendFailure | None:
        """Delete the space; one already gone counts as deleted."""
        ...
