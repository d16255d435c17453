"""/meet: weekly times that suit everyone in a private space, posted in that space.

A space's members come from a small lookup (``SpaceResolver``): pair spaces are resolved here;
circles plug in a second resolver with ``add_resolver`` (tried in order, the first that knows
the channel wins). The times themselves are a pure decision (``bot.domain.meeting``) from what
each member lets a match see.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PairStatus
from bot.db.queries import pairs as pq
from bot.db.queries.cooldowns import claim_cooldown
from bot.db.queries.members import load_profile
from bot.domain import meeting as d
from bot.domain.moderation import in_words
from bot.domain.profile import Profile
from bot.domain.text import user_mention
from bot.errors import UserFacingError
from bot.services.context import Context, Service
from bot.services.ports import Posted

log = logging.getLogger("lantern.meeting")


@dataclass(frozen=True)
class MeetingSpace:
    """A private space whose members meet: who is in it, and whether it is still going.

    ``everyone`` is how the answer addresses them ("you both", "all of you").
    """

    kind: str
    member_ids: tuple[int, ...]
    ended: bool = False
    paused: bool = False  # contact paused after a report: no scheduling until a moderator acts
    everyone: str = "you both"


class SpaceResolver(Protocol):
    """Finds the space ``channel_id`` (a channel or thread) is, or ``None`` if it is not one."""

    async def __call__(
        self, session: AsyncSession, *, guild_id: int, channel_id: int
    ) -> MeetingSpace | None: ...


async def pair_space(
    session: AsyncSession, *, guild_id: int, channel_id: int
) -> MeetingSpace | None:
    """A pair space: its mentee and mentor."""
    pair = await pq.pair_for_channel(session, channel_id=channel_id)
    if pair is None or pair.guild_id != guild_id:
        return None
    return MeetingSpace(
        "pair",
        (pair.mentee_id, pair.mentor_id),
        ended=pair.status == PairStatus.ENDED,
        paused=pair.status == PairStatus.PAUSED,
    )


NOT_A_SPACE = (
    "`/meet` works inside your private pair space or circle space, where it suggests weekly "
    "times that suit everyone there. Run it there. Nothing was posted here."
)
NOT_YOURS = "`/meet` is for the members of this space, so nothing was posted."
ENDED = (
    "This mentorship has ended, so Lantern won't suggest meeting times here. Nothing was posted."
)
PARTNER_LEFT = (
    "Your partner isn't in the server anymore, so there is no one to schedule with here. "
    "Nothing was posted. If you'd like a new match, `/match request` is there whenever you are "
    "ready."
)
PAUSED = (
    "Contact in this space is paused while a moderator looks into a report, so Lantern won't "
    "suggest meeting times for now. Nothing was posted."
)
EVERYONE_LEFT = (
    "Everyone else has left this space, so there is no one to schedule with here. Nothing was "
    "posted."
)
AGAIN_AFTER = timedelta(seconds=30)
POSTED = "I've posted the suggested times in this space so everyone here sees them."


def just_asked(wait: timedelta) -> str:
    """The answer to asking again at once: the post is already there."""
    return (
        "You asked a moment ago, so the suggested times are just above. You can ask again "
        f"{in_words(wait)}."
    )


def couldnt_post(text: str) -> str:
    """The private answer when the space refused the post: the times, so nothing is lost."""
    return (
        "Lantern couldn't post in this space just now (a permission may be missing), so here "
        "are the times, just for you:\n\n" + text
    )


class MeetingService(Service):
    """Suggests weekly meeting times in a pair space (and, through a resolver, circles)."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._resolvers: list[SpaceResolver] = [pair_space]

    def add_resolver(self, resolver: SpaceResolver) -> None:
        """Let another kind of space (a circle) answer ``/meet``: tried after pair spaces."""
        self._resolvers.append(resolver)

    async def _space(
        self, session: AsyncSession, guild_id: int, channel_id: int
    ) -> MeetingSpace | None:
        for resolver in self._resolvers:
            space = await resolver(session, guild_id=guild_id, channel_id=channel_id)
            if space is not None:
                return space
        return None

    async def suggest(self, guild_id: int, channel_id: int, user_id: int) -> str:
        """Post up to three weekly times in the space ``channel_id``; the private answer.

        Refuses kindly (``UserFacingError``) outside a space, to non-members, in an ended
        space, and when the partner has left.
        """
        cipher = self.ctx.cipher
        async with self.ctx.transaction() as session:
            space = await self._space(session, guild_id, channel_id)
            if space is None:
                raise UserFacingError(NOT_A_SPACE)
            if user_id not in space.member_ids:
                raise UserFacingError(NOT_YOURS)
            profiles = [
                await load_profile(session, guild_id=guild_id, user_id=member, cipher=cipher)
                or Profile(user_id=member)
                for member in space.member_ids
            ]
        present = [
            member
            for member in space.member_ids
            if member == user_id or await self.ctx.messenger.present(guild_id, member)
        ]
        if len(present) < 2:
            raise UserFacingError(PARTNER_LEFT if space.kind == "pair" else EVERYONE_LEFT)
        if space.ended:
            raise UserFacingError(ENDED)
        if space.paused:
            raise UserFacingError(PAUSED)
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            retry_at = await claim_cooldown(
                session, subject_id=user_id, action="meet", now=now, every=AGAIN_AFTER
            )
        if retry_at is not None:  # a double click, or asked again at once
            return just_asked(retry_at - now)
        by_id = {p.user_id: p for p in profiles}
        text = meeting_text(
            [by_id[m] for m in present],
            now,
            asked_by=user_id,
            everyone=space.everyone,
        )
        sent = await self.ctx.messenger.post(channel_id, text)
        if not isinstance(sent, Posted):
            log.warning("meet post failed channel=%s reason=%s", channel_id, sent.value)
            return couldnt_post(text)
        log.info("meet posted kind=%s channel=%s", space.kind, channel_id)
        return POSTED


def meeting_text(
    profiles: Sequence[Profile], now: datetime, *, asked_by: int, everyone: str
) -> str:
    """The message posted in the space: who asked, then the times (members as mentions)."""
    plan = d.plan_for(profiles, now)
    names = {p.user_id: user_mention(p.user_id) for p in profiles}
    lines = [f"{user_mention(asked_by)} asked Lantern for meeting times.", ""]
    lines.extend(d.render_plan(plan, names, everyone=everyone))
    return "\n".join(lines)
