"""Member data: export, erase, consent withdrawal, and a member leaving a server.

Erasing and leaving close what the member is part of kindly before anything is deleted:
pending introductions are withdrawn (a mentee rolls on to another mentor), pairs end like a
departure (the other person is told, the mentor's place comes back, and everything listening to
``PairEnded`` has finished) — only then are the rows erased.

Export gives the member their own side of every record (``bot.db.registry``); erase removes
what they said and chose and keeps what others recorded about them (blocks and reports by
someone else, moderators' audit entries) without their id.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.db.models import ConsentStatus, SubscriptionStatus
from bot.db.queries.members import (
    get_member_profile,
    get_prompt_subscription,
    involved_members,
    record_consent,
)
from bot.db.registry import delete_member, export_member, guilds_of_member, left_out
from bot.domain import onboarding as text
from bot.domain.member_data import LEFT_OUT_WHY
from bot.domain.pairs import STEPPED_AWAY_TEXT, kind_departure_text
from bot.errors import UserFacingError
from bot.services.circles import CirclesService
from bot.services.context import Context, Service
from bot.services.matching import MatchingService
from bot.services.onboarding import OnboardingService
from bot.services.pairs import PairsService
from bot.services.prompts import PromptsService

log = logging.getLogger("lantern.mydata")

EXPORT_FILENAME = "lantern-my-data.json"


@dataclass(frozen=True)
class Export:
    """A member's data as a file to hand them, and what to say with it."""

    filename: str
    content: bytes
    text: str
    tables: int


class MemberDataService(Service):
    """Member data: export, erase, consent withdrawal, a member leaving."""

    def __init__(
        self,
        ctx: Context,
        onboarding: OnboardingService,
        matching: MatchingService,
        circles: CirclesService,
        pairs: PairsService,
        prompts: PromptsService,
    ) -> None:
        super().__init__(ctx)
        self.onboarding = onboarding
        self.matching = matching
        self.circles = circles
        self.pairs = pairs
        self.prompts = prompts

    async def export(self, user_id: int) -> Export:
        """Everything of ``user_id``'s that Lantern holds, decrypted, as one JSON file: their
        own side of every record, and what was left out (other people's data) and why."""
        async with self.ctx.transaction() as session:
            data = await export_member(session, user_id=user_id, cipher=self.ctx.cipher)
        payload = {
            "user_id": str(user_id),
            "exported_at": self.ctx.now().isoformat(),
            "data": data,
            "left_out": {"why": LEFT_OUT_WHY, "tables": left_out()},
        }
        blob = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
        log.info("member data exported user=%s tables=%d", user_id, len(data))
        summary = text.EXPORTED if data else text.EXPORTED_NOTHING
        return Export(EXPORT_FILENAME, blob, summary, len(data))

    async def known_guilds(self, user_id: int) -> list[int]:
        """The servers where Lantern holds anything about ``user_id``, whichever process owns
        them (a DM is answered by one process for every server)."""
        async with self.ctx.transaction() as session:
            return sorted(await guilds_of_member(session, user_id=user_id))

    async def erase(self, user_id: int) -> dict[str, int]:
        """Close what the member is part of kindly, then erase what they said and chose.

        In every server: they stop being matchable (consent withdrawn, so a place their pair
        frees is not offered back to them), their introductions are withdrawn and their pairs
        end (the other person is told; ``PairEnded``'s listeners finish). Only then does the
        registry erase every table (others' blocks and reports about them, and moderators'
        audit entries, stay without their id; the pairs' spaces stay listed for retention to
        delete on the pair's date); then mentors whose pairs vanished get their
        places back. Returns how many rows each table lost or changed.
        """
        async with self.ctx.transaction() as session:
            guild_ids = sorted(await guilds_of_member(session, user_id=user_id))
            for guild_id in guild_ids:
                row = await get_member_profile(
                    session, guild_id=guild_id, user_id=user_id, for_update=True
                )
                if row is not None and row.consent_status == ConsentStatus.ACCEPTED:
                    row.consent_status = ConsentStatus.WITHDRAWN
                    row.consent_at = self.ctx.now()
        mentors: dict[int, set[int]] = {}
        for guild_id in guild_ids:
            await self.matching.withdraw(guild_id, user_id)
            await self.circles.member_gone(guild_id, user_id)
            ended = await self.pairs.end_all_of(
                guild_id, user_id, cause="data_deleted", tell_other=STEPPED_AWAY_TEXT
            )
            mentors[guild_id] = {p.mentor_id for p in ended if p.mentor_id != user_id}
        await self.pairs.keep_leftover_spaces(user_id)
        async with self.ctx.transaction() as session:
            counts = await delete_member(session, user_id=user_id, cipher=self.ctx.cipher)
        log.info("member data deleted user=%s tables=%s", user_id, ",".join(sorted(counts)))
        for guild_id, mentor_ids in mentors.items():
            if mentor_ids:
                await self.matching.recount(guild_id, mentor_ids)
        return counts

    async def withdraw_consent(self, guild_id: int, user_id: int) -> str:
        """Withdraw consent to matching in one server; the member is then offered deletion."""
        async with self.ctx.transaction() as session:
            row = await get_member_profile(session, guild_id=guild_id, user_id=user_id)
            if row is None or row.consent_status != ConsentStatus.ACCEPTED:
                raise UserFacingError(text.NOTHING_TO_WITHDRAW)
            await record_consent(
                session,
                guild_id=guild_id,
                user_id=user_id,
                status=ConsentStatus.WITHDRAWN,
                version=self.onboarding.consent_version,
                now=self.ctx.now(),
            )
        log.info("consent withdrawn guild=%s user=%s", guild_id, user_id)
        await self.matching.withdraw(guild_id, user_id)
        await self.circles.member_gone(guild_id, user_id)
        return text.WITHDRAWN

    async def find_departed(self, now: datetime) -> int:
        """Sweep (and at start-up): people who left a server while Lantern was away (or whose
        departure event was lost) are handled as ``member_left`` would have; how many.

        Only those something is still open for are checked, and only a "not a member" from
        Discord (or the complete member cache) counts: a server that is unavailable or a failing
        request decides nothing."""
        async with self.ctx.transaction() as session:
            involved = await involved_members(session)
        departed = 0
        for guild_id in sorted(involved):
            for user_id in sorted(involved[guild_id]):
                if await self.ctx.messenger.membership(guild_id, user_id) is False:
                    log.info("member left while away guild=%s user=%s", guild_id, user_id)
                    await self.member_left(guild_id, user_id)
                    departed += 1
        return departed

    async def member_left(self, guild_id: int, user_id: int) -> None:
        """A member left a server: their pairs end (the other is told kindly), their
        introductions and request are withdrawn, they leave the circle waiting list and their
        circle (the others told kindly), and their DM prompts there stop.

        Withdrawn first: an Accept racing the departure either loses to the withdrawal or made a
        pair that is then ended here, never a pair left open with someone who left."""
        await self.matching.withdraw(guild_id, user_id)
        await self.circles.member_gone(guild_id, user_id)
        await self.pairs.end_all_of(
            guild_id, user_id, cause="member_left", tell_other=kind_departure_text(left=True)
        )
        async with self.ctx.transaction() as session:
            subscription = await get_prompt_subscription(
                session, guild_id=guild_id, user_id=user_id
            )
            receiving = (
                subscription is not None and subscription.status != SubscriptionStatus.UNSUBSCRIBED
            )
        if receiving:
            await self.prompts.set_subscription(guild_id, user_id, SubscriptionStatus.UNSUBSCRIBED)
        log.info("member left guild=%s user=%s", guild_id, user_id)
