"""End-of-mentorship feedback: when a pair ends, each member still in the server is asked
privately, once, three short questions; answers are theirs (export, erase) and reach
moderators only counted, through /insights. Subscribed to ``PairEnded`` in ``build_services``."""

from __future__ import annotations

import logging

from bot.db.models import FeedbackStatus, MentorshipFeedback
from bot.db.queries import insights as q
from bot.domain import feedback as d
from bot.domain.components import Reply
from bot.domain.text import clean_input, fit
from bot.errors import UserFacingError
from bot.services.context import Service
from bot.services.events import PairEnded
from bot.services.ports import SendFailure

log = logging.getLogger("lantern.feedback")


class FeedbackService(Service):
    """Asks once, records each answer once, and shows each member only their own card."""

    async def pair_ended(self, event: PairEnded) -> None:
        """Ask both members (each once, privately), except whoever erased their data or left."""
        for user_id in (event.mentee_id, event.mentor_id):
            if event.cause in d.NOT_ASKED_AFTER and user_id == event.ended_by:
                continue
            if not await self.ctx.messenger.present(event.guild_id, user_id):
                continue
            await self._ask(event, user_id)

    async def _ask(self, event: PairEnded, user_id: int) -> None:
        async with self.ctx.transaction() as session:
            feedback_id = await q.claim_feedback(
                session,
                guild_id=event.guild_id,
                pair_id=event.pair_id,
                user_id=user_id,
                now=self.ctx.now(),
            )
        if feedback_id is None:
            return  # asked before: once only
        server = await self.ctx.messenger.guild_name(event.guild_id)
        card = d.card(self._state_of_new(feedback_id), self.ctx.now(), server=server)
        sent = await self.ctx.messenger.dm(user_id, card.text, buttons=card.buttons)
        if isinstance(sent, SendFailure):
            async with self.ctx.transaction() as session:
                await q.mark_undelivered(session, feedback_id=feedback_id)
            log.info("feedback not delivered feedback=%s reason=%s", feedback_id, sent.value)
            return
        log.info("feedback asked feedback=%s pair=%s", feedback_id, event.pair_id)

    def _state_of_new(self, feedback_id: int) -> d.CardState:
        return d.CardState(feedback_id, None, None, True, self.ctx.now())

    async def _row(self, feedback_id: int) -> MentorshipFeedback | None:
        async with self.ctx.transaction() as session:
            return await q.get_feedback(session, feedback_id=feedback_id)

    @staticmethod
    def _state(row: MentorshipFeedback) -> d.CardState:
        assert row.id is not None
        return d.CardState(
            row.id, row.helpful, row.recommend, row.status == FeedbackStatus.ASKED, row.asked_at
        )

    async def _set(self, feedback_id: int, user_id: int, unanswered: str, **values: object) -> bool:
        """Write ``values`` once (compare-and-set on ``unanswered``); whether this call won."""
        async with self.ctx.transaction() as session:
            return await q.set_feedback(
                session,
                feedback_id=feedback_id,
                user_id=user_id,
                unanswered=unanswered,
                now=self.ctx.now(),
                **values,
            )

    async def may_answer(self, feedback_id: int, user_id: int) -> bool:
        """Whether ``user_id`` may press this card: it is theirs, or it is gone (then the
        card only says it has closed)."""
        row = await self._row(feedback_id)
        return row is None or row.user_id == user_id

    async def card(self, feedback_id: int, user_id: int) -> Reply:
        """The member's card as it stands now (closed when answered, old or erased)."""
        row = await self._row(feedback_id)
        if row is None or row.user_id != user_id:
            return Reply(d.CLOSED)
        return d.card(self._state(row), self.ctx.now())

    async def answer(
        self, feedback_id: int, user_id: int, step: str, value: str
    ) -> tuple[bool, Reply]:
        """Record one answer, once: whether this click changed anything, and the card now."""
        if not d.valid_answer(step, value):
            raise UserFacingError(d.CLOSED)
        row = await self._row(feedback_id)
        if row is None or row.user_id != user_id or not d.is_open(self._state(row), self.ctx.now()):
            return False, Reply(d.CLOSED)
        now = self.ctx.now()
        values: dict[str, object]
        if step == "helpful":
            column = "helpful"
            values = {"helpful": d.SKIPPED_HELPFUL if value == d.SKIPPED else int(value)}
        elif step == "recommend":
            column, values = "recommend", {"recommend": value}
        else:
            column, values = "", {"status": FeedbackStatus.DONE}
        if step == "recommend" and row.helpful is None:
            return False, d.card(self._state(row), now)  # an old card's button: ask in order
        won = await self._set(feedback_id, user_id, column, **values)
        if won:
            log.info("feedback answered feedback=%s step=%s", feedback_id, step)
        if step == "finish" and won:
            return True, Reply(d.THANKS)
        return won, await self.card(feedback_id, user_id)

    async def words(self, feedback_id: int, user_id: int, text: str, *, share: bool) -> str:
        """Save the member's optional words (shared with moderators or kept), closing the
        card; what to answer."""
        words = fit(clean_input(text), d.MAX_WORDS)
        if not words:
            return d.WORDS_EMPTY
        row = await self._row(feedback_id)
        if row is None or row.user_id != user_id or not d.is_open(self._state(row), self.ctx.now()):
            return d.CLOSED
        sealed = self.ctx.cipher.encrypt(words)
        won = await self._set(
            feedback_id,
            user_id,
            "words_enc",
            words_enc=sealed,
            share_words=share,
            status=FeedbackStatus.DONE,
        )
        if not won:
            return d.CLOSED
        log.info("feedback words saved feedback=%s shared=%s", feedback_id, share)
        return d.WORDS_SAVED_SHARED if share else d.WORDS_SAVED_KEPT
