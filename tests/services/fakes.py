"""Typed, recording fakes of the services' ports: what a use case sent, without Discord."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.domain.components import Button
from bot.domain.pairs import CATEGORY_CAP, Card, Grant, is_pair_channel_name
from bot.domain.text import Safe, safe_inline
from bot.services import ports


@dataclass
class Message:
    """One message a fake sent: to a user (``dm``) or a channel."""

    to: int
    text: str
    buttons: tuple[Button, ...] = ()
    ping: tuple[int, ...] = ()
    channel_id: int = 0
    message_id: int = 0
    dm: bool = True


@dataclass
class FakeMessenger:
    """Records every DM, post and edit; ``closed`` users have DMs closed, ``absent`` left."""

    members: dict[int, set[int]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    closed: set[int] = field(default_factory=set)
    missing_channels: set[int] = field(default_factory=set)
    sent: list[Message] = field(default_factory=list)
    edits: list[tuple[int, int, str | None, str | None]] = field(default_factory=list)
    threads: list[tuple[int, int, str]] = field(default_factory=list)
    post_threads: list[tuple[int, int, str, int]] = field(default_factory=list)
    left_guilds: set[int] = field(default_factory=set)
    unsure_guilds: set[int] = field(default_factory=set)  # Discord can't say who is there
    owners: dict[int, int] = field(default_factory=dict)
    # Failures to return (in order) for a channel's next posts: a SendFailure, or
    # "timeout-after-landing" (the post is created but the answer times out).
    post_failures: dict[int, list[Any]] = field(default_factory=dict)
    nonces: dict[str, ports.Posted] = field(default_factory=dict)
    # Failures to return (in order) for a person's next DMs.
    dm_failures: dict[int, list[ports.SendFailure]] = field(default_factory=dict)
    _next_id: int = 1000

    def join(self, guild_id: int, *user_ids: int) -> None:
        """Make ``user_ids`` members of ``guild_id``."""
        self.members.setdefault(guild_id, set()).update(user_ids)

    def leave(self, guild_id: int, user_id: int) -> None:
        """``user_id`` left ``guild_id``."""
        self.members.get(guild_id, set()).discard(user_id)

    def dms_to(self, user_id: int) -> list[Message]:
        """Every DM sent to ``user_id``, oldest first."""
        return [m for m in self.sent if m.dm and m.to == user_id]

    def posts_in(self, channel_id: int) -> list[Message]:
        """Every message posted in ``channel_id``, oldest first."""
        return [m for m in self.sent if not m.dm and m.to == channel_id]

    def _record(
        self,
        to: int,
        channel_id: int,
        text: str,
        buttons: Sequence[Button],
        ping: Sequence[int],
        *,
        dm: bool,
        nonce: str | None = None,
    ) -> ports.Posted:
        """A message that landed: new ids, the message kept in ``sent`` (and its nonce)."""
        self._next_id += 1
        self.sent.append(
            Message(to, text, tuple(buttons), tuple(ping), channel_id, self._next_id, dm=dm)
        )
        posted = ports.Posted(channel_id, self._next_id)
        if nonce is not None:
            self.nonces[nonce] = posted
        return posted

    async def dm(
        self, user_id: int, text: str, *, buttons: Sequence[Button] = (), ping: Sequence[int] = ()
    ) -> ports.Sent:
        if user_id in self.closed:
            return ports.SendFailure.DMS_CLOSED
        if self.dm_failures.get(user_id):
            return self.dm_failures[user_id].pop(0)
        return self._record(user_id, 900_000 + user_id, text, buttons, ping, dm=True)

    async def post(
        self,
        channel_id: int,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        ping: Sequence[int] = (),
        nonce: str | None = None,
    ) -> ports.Sent:
        if channel_id in self.missing_channels:
            return ports.SendFailure.UNKNOWN_CHANNEL
        if nonce is not None and nonce in self.nonces:
            return self.nonces[nonce]  # Discord returns the message that nonce created
        failures = self.post_failures.get(channel_id)
        if failures:
            failure = failures.pop(0)
            if failure == "timeout-after-landing":
                # The message was created, but the answer never came back.
                self._record(channel_id, channel_id, text, buttons, ping, dm=False, nonce=nonce)
                return ports.SendFailure.SERVER_ERROR
            return failure
        return self._record(channel_id, channel_id, text, buttons, ping, dm=False, nonce=nonce)

    async def edit(
        self,
        channel_id: int,
        message_id: int,
        *,
        text: str | None = None,
        append: str | None = None,
        buttons: Sequence[Button] | None = None,
    ) -> bool:
        self.edits.append((channel_id, message_id, text, append))
        return channel_id not in self.missing_channels

    async def private_thread(
        self,
        channel_id: int,
        user_id: int,
        text: str,
        *,
        title: str,
        buttons: Sequence[Button] = (),
    ) -> ports.Sent:
        if channel_id in self.missing_channels:
            return ports.SendFailure.UNKNOWN_CHANNEL
        self.threads.append((channel_id, user_id, title))
        return await self.post(channel_id, text, buttons=buttons, ping=(user_id,))

    async def present(self, guild_id: int, user_id: int) -> bool:
        return user_id in self.members.get(guild_id, set())

    async def membership(self, guild_id: int, user_id: int) -> bool | None:
        if guild_id in self.left_guilds or guild_id in self.unsure_guilds:
            return None
        return user_id in self.members.get(guild_id, set())

    async def name(self, guild_id: int, user_id: int, fallback: str = "A member") -> Safe:
        return safe_inline(self.names.get(user_id, fallback), limit=80)

    async def guild_name(self, guild_id: int) -> str:
        return f"Server {guild_id}"

    async def open_thread(
        self, channel_id: int, message_id: int, name: str
    ) -> int | ports.SendFailure:
        if channel_id in self.missing_channels:
            return ports.SendFailure.UNKNOWN_CHANNEL
        self._next_id += 1
        self.post_threads.append((channel_id, message_id, name, self._next_id))
        return self._next_id

    async def in_guild(self, guild_id: int) -> bool:
        return guild_id not in self.left_guilds

    async def owner_id(self, guild_id: int) -> int | None:
        return self.owners.get(guild_id)

    async def can_post(self, channel_id: int) -> ports.SendFailure | None:
        return ports.SendFailure.UNKNOWN_CHANNEL if channel_id in self.missing_channels else None


@dataclass
class FakeJobs:
    """Remembers one-off jobs; ``due(now)`` runs those that are due."""

    jobs: dict[str, tuple[Callable[[datetime], Awaitable[Any]], datetime]] = field(
        default_factory=dict
    )

    def run_at(
        self, job_id: str, run: Callable[[datetime], Awaitable[Any]], when: datetime
    ) -> None:
        self.jobs[job_id] = (run, when)

    def cancel(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)

    async def due(self, now: datetime) -> int:
        """Run every job due at ``now``; how many ran."""
        ready = [(k, run) for k, (run, when) in self.jobs.items() if when <= now]
        for key, run in ready:
            self.jobs.pop(key, None)
            await run(now)
        return len(ready)


@dataclass
class DmSent:
    """One DM the fake DM sender delivered."""

    channel_id: int
    text: str
    buttons: tuple[Button, ...]
    message_id: int


@dataclass
class FakeDmSender:
    """A DM sender that records messages; ``closed`` users refuse DMs, and ``failures`` holds
    refusals to return (in order) for a user's next sends, e.g. ``[SendFailure.SERVER_ERROR]``."""

    closed: set[int] = field(default_factory=set)
    failures: dict[int, list[ports.SendFailure]] = field(default_factory=dict)
    sent: list[DmSent] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)

    @staticmethod
    def channel_of(user_id: int) -> int:
        """The DM channel id the fake gives ``user_id``."""
        return 900_000 + user_id

    async def open_dm(self, user_id: int) -> int | ports.SendFailure:
        self.opened.append(user_id)
        return self.channel_of(user_id)

    async def send(
        self, channel_id: int, text: str, *, buttons: Sequence[Button] = ()
    ) -> int | ports.SendFailure:
        user_id = channel_id - 900_000
        if user_id in self.closed:
            return ports.SendFailure.DMS_CLOSED
        waiting = self.failures.get(user_id)
        if waiting:
            return waiting.pop(0)
        message = DmSent(channel_id, text, tuple(buttons), len(self.sent) + 1)
        self.sent.append(message)
        return message.message_id

    def to(self, user_id: int) -> list[DmSent]:
        """Every DM delivered to ``user_id``."""
        return [m for m in self.sent if m.channel_id == self.channel_of(user_id)]


@dataclass
class FakeSpace:
    """A channel, thread or category the fake made."""

    id: int
    guild_id: int
    name: str
    kind: str  # channel, thread, category
    parent_id: int | None = None
    overwrites: tuple[ports.Overwrite, ...] = ()
    members: tuple[int, ...] = ()
    last_active: datetime = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # made, or last written in
    by_lantern: bool = True  # a thread someone else made is not Lantern's to touch
    archived: bool = False  # a thread quiet long enough leaves the active list


@dataclass
class FakeGuild:
    """What the fake knows of one server."""

    categories: dict[int, str] = field(default_factory=dict)
    thread_parents: set[int] = field(default_factory=set)
    roles: dict[int, str] = field(default_factory=dict)
    other_channels: int = 0


@dataclass
class FakeSpaces:
    """A recording ``Spaces``: servers with categories, the spaces made, every access change.

    ``refuse`` makes the next creates fail with that ``SendFailure`` (``refuse_times`` of them,
    or forever with ``None``); ``vanish`` deletes a space behind Lantern's back; Discord cannot
    say whether the ``flaky`` ones exist.
    """

    guilds: dict[int, FakeGuild] = field(default_factory=dict)
    spaces: dict[int, FakeSpace] = field(default_factory=dict)
    openings: list[tuple[int, str, tuple[Card, ...], tuple[Button, ...], tuple[int, ...]]] = field(
        default_factory=list
    )
    access: list[tuple[int, int, ports.Access]] = field(default_factory=list)
    role_access: list[tuple[int, int, Grant | None]] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    flaky: set[int] = field(default_factory=set)
    no_manage_threads: set[int] = field(default_factory=set)  # thread channels without it
    refuse: ports.SendFailure | None = None
    refuse_times: int | None = None
    refuse_listing: ports.SendFailure | None = None
    listings: list[tuple[int, int | None]] = field(default_factory=list)  # (channel, before)
    creates: int = 0
    _next_id: int = 5000

    def guild(self, guild_id: int, **categories: int) -> FakeGuild:
        """Make a server known, with ``name=category_id`` categories."""
        guild = self.guilds.setdefault(guild_id, FakeGuild())
        guild.categories.update({cid: name for name, cid in categories.items()})
        return guild

    def vanish(self, space_id: int) -> None:
        """Someone deleted the space by hand."""
        self.spaces.pop(space_id, None)

    def made(self, kind: str = "channel") -> list[FakeSpace]:
        """The channels (or threads, categories) made, oldest first."""
        return [s for s in self.spaces.values() if s.kind == kind]

    def _refused(self) -> ports.SendFailure | None:
        if self.refuse is None:
            return None
        failure = self.refuse
        if self.refuse_times is not None:
            self.refuse_times -= 1
            if self.refuse_times <= 0:
                self.refuse, self.refuse_times = None, None
        return failure

    def _make(self, space: FakeSpace) -> ports.Made:
        self.spaces[space.id] = space
        return ports.Made(space.id)

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def layout(
        self,
        guild_id: int,
        *,
        category_ids: Sequence[int],
        thread_parent_id: int | None,
        moderator_role_id: int | None,
    ) -> ports.Layout | None:
        guild = self.guilds.get(guild_id)
        if guild is None:
            return None
        made = [s for s in self.spaces.values() if s.guild_id == guild_id]
        names = {s.name for s in made} | set(guild.categories.values())
        return ports.Layout(
            channels=guild.other_channels + len(guild.categories) + len(made),
            categories={
                cid: ports.Category(
                    guild.categories[cid], len([s for s in made if s.parent_id == cid])
                )
                for cid in category_ids
                if cid in guild.categories
            },
            names=frozenset(names),
            thread_parent=thread_parent_id in guild.thread_parents,
            moderator_role=guild.roles.get(moderator_role_id or 0),
        )

    async def create_category(
        self, guild_id: int, name: str, overwrites: Sequence[ports.Overwrite], *, reason: str
    ) -> ports.Made | ports.SendFailure:
        self.creates += 1
        failure = self._refused()
        if failure is not None:
            return failure
        category_id = self._id()
        self.guilds[guild_id].categories[category_id] = name
        return ports.Made(category_id)

    async def create_channel(
        self,
        guild_id: int,
        category_id: int,
        name: str,
        overwrites: Sequence[ports.Overwrite],
        *,
        reason: str,
    ) -> ports.Made | ports.SendFailure:
        self.creates += 1
        failure = self._refused()
        if failure is not None:
            return failure
        if len([s for s in self.spaces.values() if s.parent_id == category_id]) >= CATEGORY_CAP:
            return ports.SendFailure.CATEGORY_LIMIT  # as Discord refuses a category's 51st channel
        space = FakeSpace(
            self._id(), guild_id, name, "channel", category_id, overwrites=tuple(overwrites)
        )
        return self._make(space)

    async def create_thread(
        self, parent_id: int, name: str, member_ids: Sequence[int], *, reason: str
    ) -> ports.Made | ports.SendFailure:
        self.creates += 1
        failure = self._refused()
        if failure is not None:
            return failure
        guild_id = next(g for g, info in self.guilds.items() if parent_id in info.thread_parents)
        space = FakeSpace(
            self._id(), guild_id, name, "thread", parent_id, members=tuple(member_ids)
        )
        return self._make(space)

    async def post_opening(
        self,
        space_id: int,
        text: str,
        cards: Sequence[Card],
        *,
        buttons: Sequence[Button],
        ping: Sequence[int],
    ) -> ports.Sent:
        if space_id not in self.spaces:
            return ports.SendFailure.UNKNOWN_CHANNEL
        self.openings.append((space_id, text, tuple(cards), tuple(buttons), tuple(ping)))
        return ports.Posted(space_id, self._id())

    async def set_access(
        self, space_id: int, user_id: int, access: ports.Access
    ) -> ports.SendFailure | None:
        if space_id not in self.spaces:
            return ports.SendFailure.UNKNOWN_CHANNEL
        self.access.append((space_id, user_id, access))
        return None

    async def set_role_access(
        self, channel_id: int, role_id: int, grant: Grant | None
    ) -> ports.SendFailure | None:
        known = channel_id in self.spaces or any(
            channel_id in g.categories for g in self.guilds.values()
        )
        if not known:
            return ports.SendFailure.UNKNOWN_CHANNEL
        if self.refuse is not None:
            return self.refuse
        self.role_access.append((channel_id, role_id, grant))
        space = self.spaces.get(channel_id)
        if space is not None:
            kept = tuple(o for o in space.overwrites if o.target != ports.Target("role", role_id))
            added = (ports.Overwrite(ports.Target("role", role_id), grant),) if grant else ()
            space.overwrites = kept + added
        return None

    async def pair_channels(
        self, guild_id: int, category_ids: Sequence[int]
    ) -> list[ports.Seen] | None:
        if guild_id not in self.guilds:
            return None
        return [
            ports.Seen(s.id, s.last_active)
            for s in self.spaces.values()
            if s.kind == "channel"
            and s.guild_id == guild_id
            and s.parent_id in category_ids
            and ports.Target("bot") in {o.target for o in s.overwrites}
            and is_pair_channel_name(s.name)
        ]

    async def pair_threads(
        self, guild_id: int, parent_id: int, *, archived_before: int | None, archived_limit: int
    ) -> ports.SeenThreads | ports.SendFailure | None:
        guild = self.guilds.get(guild_id)
        if guild is None or parent_id not in guild.thread_parents:
            return None
        self.listings.append((parent_id, archived_before))
        if self.refuse_listing is not None:
            return self.refuse_listing
        threads = [
            s for s in self.spaces.values() if s.kind == "thread" and s.parent_id == parent_id
        ]
        archived = sorted(
            (s for s in threads if s.archived and s.id < (archived_before or s.id + 1)),
            key=lambda s: s.id,
            reverse=True,
        )[:archived_limit]
        return ports.SeenThreads(
            [
                ports.Seen(s.id, s.last_active)
                for s in [s for s in threads if not s.archived] + archived
                if s.by_lantern and is_pair_channel_name(s.name)
            ],
            archived[-1].id if len(archived) == archived_limit else None,
        )

    async def exists(self, space_id: int) -> bool | None:
        if space_id in self.flaky:
            return None
        return space_id in self.spaces

    async def can_manage_threads(self, channel_id: int) -> bool | None:
        if not any(channel_id in g.thread_parents for g in self.guilds.values()):
            return None
        return channel_id not in self.no_manage_threads

    async def delete(self, space_id: int, *, reason: str) -> ports.SendFailure | None:
        self.deleted.append(space_id)
        self.spaces.pop(space_id, None)
        return None
