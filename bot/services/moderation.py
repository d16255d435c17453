"""Moderation: the audit trail of moderator actions, alerts to the moderators' channel, blocks,
and the queue of reports and calls for help.

A report or call for help is stored first (by the pairs service), then delivered here; what did
not arrive is retried by ``deliver_pending`` until it does, and the server's owner is told (at
most daily) while no alerts channel works.
"""

from __future__ import annotations

import builtins
import logging
from datetime import datetime, timedelta
from typing import Any

from bot.db.models import PairStatus, ReportStatus
from bot.db.queries import moderation as q
from bot.db.queries.cooldowns import claim_cooldown
from bot.db.queries.moderation import add_block, record_audit
from bot.db.queries.setup import get_guild_settings
from bot.domain import moderation as m
from bot.domain.components import Reply, case_buttons
from bot.domain.pairs import help_alert, report_alert
from bot.errors import UserFacingError
from bot.services.context import Context, Service
from bot.services.ports import Posted, SendFailure

log = logging.getLogger("lantern.moderation")


class ModerationService(Service):
    """Audit and alert; both are used by every other service."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)

    async def audit(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        *,
        target_user_id: int | None = None,
        target_id: int | None = None,
    ) -> None:
        """Leave one audit entry for a moderator action: ids and the action name, no content."""
        async with self.ctx.transaction() as session:
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action=action,
                now=self.ctx.now(),
                target_user_id=target_user_id,
                target_id=target_id,
            )

    async def alert(self, guild_id: int, text: str) -> bool:
        """Post to the server's alerts channel, pinging no one; false if that is impossible."""
        return await self._post_alert(guild_id, text) is None

    async def _post_alert(self, guild_id: int, text: str, buttons: Any = ()) -> str | None:
        """Post an alert; ``None`` when it arrived, else why not (a key of ``ALERT_PROBLEMS``)."""
        async with self.ctx.transaction() as session:
            settings = await get_guild_settings(session, guild_id=guild_id)
        if settings is None or not settings.alerts_channel_id:
            log.warning("no alerts channel guild=%s", guild_id)
            return "no_channel"
        sent = await self.ctx.messenger.post(settings.alerts_channel_id, text, buttons=buttons)
        if not isinstance(sent, Posted):
            log.warning("could not alert moderators guild=%s reason=%s", guild_id, sent.value)
            return sent.value
        return None

    # ------------------------------------------------------------ reports and calls for help

    async def deliver(self, kind: str, case_id: int) -> bool:
        """Send a stored report or call for help to the alerts channel, with Acknowledge and
        Resolve; record when it arrived. False (and the owner told) if it could not."""
        async with self.ctx.transaction() as session:
            found = await q.get_case(session, kind=kind, case_id=case_id)
        if found is None:
            return False
        row, pair = found
        assert pair.id is not None
        if row.alerted_at is not None:
            return True
        if kind == "report":
            paused = pair.status == PairStatus.PAUSED
            text = report_alert(
                pair.id,
                row.reporter_id,
                row.reported_id,
                self.ctx.cipher.decrypt(row.reason_enc) or "",
                paused=paused,
                pause_failed=row.pause_contact and not paused,
                block=row.block,
            )
        else:
            text = help_alert(
                pair.id, pair.mentee_id, pair.mentor_id, row.user_id, at_checkin=row.at_checkin
            )
        problem = await self._post_alert(row.guild_id, text, case_buttons(kind, case_id))
        if problem is not None:
            log.warning("%s not delivered case=%s reason=%s", kind, case_id, problem)
            await self._warn_owner(row.guild_id, problem)
            return False
        async with self.ctx.transaction() as session:
            await q.mark_case_delivered(session, kind=kind, case_id=case_id, now=self.ctx.now())
        log.info("%s delivered case=%s", kind, case_id)
        return True

    async def _warn_owner(self, guild_id: int, problem: str) -> None:
        """No alerts channel works: tell the server's owner by DM, at most once a day."""
        async with self.ctx.transaction() as session:
            held = await claim_cooldown(
                session,
                subject_id=guild_id,
                action="alerts_broken",
                now=self.ctx.now(),
                every=m.OWNER_WARNING_EVERY,
            )
            waiting = await q.count_undelivered(session, guild_id=guild_id)
        if held is not None:
            return
        owner = await self.ctx.messenger.owner_id(guild_id)
        if owner is None:
            return
        name = await self.ctx.messenger.guild_name(guild_id)
        sent = await self.ctx.messenger.dm(owner, m.owner_warning(name, problem, waiting))
        log.warning(
            "alerts channel broken, owner told guild=%s told=%s", guild_id, isinstance(sent, Posted)
        )

    async def deliver_pending(self, now: datetime) -> int:
        """Sweep: retry every report and call for help that has not reached the moderators
        (one process per attempt); how many arrived."""
        async with self.ctx.transaction() as session:
            waiting = await q.undelivered_cases(session, now=now, retry=m.ALERT_RETRY)
        delivered = 0
        broken: set[int] = set()
        for kind, case_id in waiting:
            async with self.ctx.transaction() as session:
                found = await q.get_case(session, kind=kind, case_id=case_id)
                if found is None or found[0].guild_id in broken:
                    continue
                won = await q.claim_case_delivery(
                    session, kind=kind, case_id=case_id, now=now, retry=m.ALERT_RETRY
                )
            if not won:
                continue
            if await self.deliver(kind, case_id):
                delivered += 1
            else:
                broken.add(found[0].guild_id)  # the rest of this server waits for the next round
        return delivered

    async def alerts_check(self, guild_id: int) -> str | None:
        """For /setup: whether alerts reach the moderators; delivers what was waiting."""
        async with self.ctx.transaction() as session:
            settings = await get_guild_settings(session, guild_id=guild_id)
            waiting = await q.undelivered_in(session, guild_id=guild_id)
        problem: str | None = "no_channel"
        if settings is not None and settings.alerts_channel_id:
            failure = await self.ctx.messenger.can_post(settings.alerts_channel_id)
            problem = failure.value if isinstance(failure, SendFailure) else None
        if problem is not None:
            return m.setup_alerts_warning(problem, len(waiting))
        delivered = 0
        for kind, case_id in waiting:
            async with self.ctx.transaction() as session:
                won = await q.claim_case_delivery(
                    session, kind=kind, case_id=case_id, now=self.ctx.now(), retry=timedelta(0)
                )
            if won and await self.deliver(kind, case_id):
                delivered += 1
        return m.setup_alerts_delivered(delivered) if delivered else None

    async def queue(self, guild_id: int, *, limit: int = 10) -> builtins.list[Reply]:
        """/reports: open reports and calls for help, newest first, each with its buttons.
        Shown to moderators only (a report's words are in it)."""
        async with self.ctx.transaction() as session:
            rows = await q.open_cases(session, guild_id=guild_id)
        now = self.ctx.now()
        if not rows:
            return [Reply(m.NO_CASES)]
        replies = [Reply(m.queue_header(min(limit, len(rows)), len(rows)))]
        for kind, row in rows[:limit]:
            case = m.Case(
                kind=kind,
                case_id=row.id,
                pair_id=row.pair_id,
                person_id=row.reporter_id if kind == "report" else row.user_id,
                other_id=row.reported_id if kind == "report" else None,
                status=row.status,
                created_at=row.created_at,
                delivered=row.alerted_at is not None,
                reason=self.ctx.cipher.decrypt(row.reason_enc) if kind == "report" else None,
            )
            replies.append(Reply(m.case_card(case, now), case_buttons(kind, row.id)))
        return replies

    async def work_case(
        self, guild_id: int, actor_id: int, action: str, kind: str, case_id: int
    ) -> str:
        """Acknowledge (the member is told privately that a moderator is on it) or resolve a
        report or call for help of this server; one audit entry per change."""
        to = ReportStatus.ACKNOWLEDGED if action == "ack" else ReportStatus.RESOLVED
        async with self.ctx.transaction() as session:
            found = await q.get_case(session, kind=kind, case_id=case_id)
            if found is None or found[0].guild_id != guild_id:
                raise UserFacingError("That report is no longer in this server's queue.")
            moved = await q.move_case(
                session, kind=kind, case_id=case_id, guild_id=guild_id, to=to, now=self.ctx.now()
            )
            if moved:
                await record_audit(
                    session,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action=f"{kind}_{action}",
                    now=self.ctx.now(),
                    target_id=case_id,
                )
        row, pair = found
        assert pair.id is not None
        told = True
        if moved and action == "ack":
            person = row.reporter_id if kind == "report" else row.user_id
            sent = await self.ctx.messenger.dm(person, m.acknowledged_text(kind, pair.id))
            told = isinstance(sent, Posted)
        log.info("%s %s case=%s moved=%s", kind, action, case_id, moved)
        return m.case_done(kind, case_id, action, changed=moved, told=told)

    async def block(self, guild_id: int, blocker_id: int, blocked_id: int) -> bool:
        """``blocker_id`` is never paired with ``blocked_id`` again; false if already blocked."""
        async with self.ctx.transaction() as session:
            new = await add_block(
                session,
                guild_id=guild_id,
                blocker_id=blocker_id,
                blocked_id=blocked_id,
                now=self.ctx.now(),
            )
        log.info("blocked guild=%s new=%s", guild_id, new)
        return new
