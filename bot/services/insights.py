"""/insights: the program's health for moderators, counted in SQL and passed through the
domain's privacy rules (bands, no totals beside their parts, feedback only from five
answers) before anyone sees it. Also counts joins, the one figure Lantern did not record."""

from __future__ import annotations

import logging

from bot.db.queries import insights as q
from bot.domain import insights as d
from bot.services.context import Service

log = logging.getLogger("lantern.insights")


class InsightsService(Service):
    """Aggregates only; never a name, an id or an exact small count."""

    async def count_join(self, guild_id: int) -> None:
        """Someone joined the server: one more on today's count (no id is kept)."""
        day = self.ctx.now().replace(hour=0, minute=0, second=0, microsecond=0)
        async with self.ctx.transaction() as session:
            await q.count_join(session, guild_id=guild_id, day=day)

    async def counts(self, guild_id: int, period: str) -> d.Counts:
        """The exact counts of one server and period (never shown as they are)."""
        now = self.ctx.now()
        start = d.period_start(period, now)
        async with self.ctx.transaction() as session:
            joined, since = await q.joins(session, guild_id=guild_id, start=start)
            started, consented, finished = await q.onboarding_steps(
                session, guild_id=guild_id, start=start
            )
            waits = await q.waits(session, guild_id=guild_id, now=now)
            intros = await q.intro_answers(session, guild_id=guild_id, start=start)
            active = await q.active_pairs(session, guild_id=guild_id)
            ended = await q.endings(session, guild_id=guild_id, start=start)
            delivered, reflected, shared = await q.participation(
                session, guild_id=guild_id, start=start
            )
            answers, helpful, recommend = await q.feedback_counts(
                session, guild_id=guild_id, start=start
            )
            sealed = await q.shared_words(session, guild_id=guild_id, start=start)
        endings: dict[str, int] = {}
        for cause, n in ended.items():
            category = d.ending_category(cause)
            endings[category] = endings.get(category, 0) + n
        words = [w for w in (self.ctx.cipher.decrypt(s) for s in sealed) if w]
        return d.Counts(
            start=start,
            now=now,
            joined=joined,
            joins_counted_since=since,
            started=started,
            consented=consented,
            finished=finished,
            waiting=len(waits),
            waits=waits,
            intro_answers=intros,
            active_pairs=active,
            endings=endings,
            delivered=delivered,
            reflected=reflected,
            shared=shared,
            feedback_answers=answers,
            helpful=helpful,
            recommend=recommend,
            words=words,
        )

    async def insights(self, guild_id: int, actor_id: int, period: str) -> d.Insights:
        """What a moderator may see for ``period``: banded figures, no names."""
        figures = d.build(await self.counts(guild_id, period), period)
        log.info("insights viewed guild=%s actor=%s period=%s", guild_id, actor_id, period)
        return figures
