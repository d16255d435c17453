"""Reflections: private answers to prompts, the journal, sharing an excerpt.

A reflection is stored encrypted and only its author can read it back (``journal``) or share
an excerpt of it, which they trim first, into their pair space or the prompt's thread.
Crisis words in a member's own reflection show them resources privately; nobody is alerted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.prompts import DeliveryKind, PromptDelivery, PromptOccurrence
from bot.db.queries import reflections as q
from bot.db.queries.delivery import get_delivery, get_occurrence
from bot.db.queries.members import load_profile
from bot.db.queries.pairs import get_pair, pair_of_member
from bot.domain.components import Button, Reply, share_button
from bot.domain.crisis import (
    Region,
    load_resources,
    mentions_crisis,
    resources_for,
    support_message,
)
from bot.domain.prompts import (
    JOURNAL_PAGE,
    SAVED,
    JournalEntry,
    Prompt,
    excerpt,
    journal_pages,
    render_journal,
    shared_text,
)
from bot.domain.text import clean_input
from bot.errors import UserFacingError
from bot.services.context import Context, Service
from bot.services.ports import Posted, SendFailure
from bot.services.prompts import PromptsService

log = logging.getLogger("lantern.reflections")

SHARE_PLACES = ("pair", "thread")


class NotTheAuthorError(UserFacingError):
    """Only a reflection's author may share it."""

    def __init__(self) -> None:
        super().__init__("Only the person who wrote this can share it.")


class NotYourPromptError(UserFacingError):
    """A prompt DM (or pair prompt) is answered only by the people it was sent to."""

    def __init__(self) -> None:
        super().__init__("This prompt was sent to someone else, so nothing changed.")


@dataclass(frozen=True)
class ReflectContext:
    """What a reflection form needs to know about the prompt it answers."""

    delivery_id: int
    guild_id: int
    question: str


@dataclass(frozen=True)
class Saved(Reply):
    """A saved reflection: the private reply and its share buttons."""

    reflection_id: int = field(kw_only=True)


@dataclass(frozen=True)
class JournalPage:
    """One page of a member's journal: its text, share buttons per reflection, paging."""

    text: str
    rows: tuple[tuple[Button, ...], ...]
    page: int
    pages: int


class ReflectionsService(Service):
    """Reflections: private answers to prompts, the journal, sharing."""

    def __init__(
        self, ctx: Context, prompts: PromptsService, *, regions: list[Region] | None = None
    ) -> None:
        super().__init__(ctx)
        self.prompts = prompts
        self.regions = regions if regions is not None else load_resources()

    async def _delivered(
        self, session: AsyncSession, delivery_id: int
    ) -> tuple[PromptDelivery, PromptOccurrence, Prompt | None]:
        """The delivery, its occurrence and the prompt it carried; refuses a vanished one."""
        delivery = await get_delivery(session, delivery_id=delivery_id)
        occurrence = (
            await get_occurrence(session, occurrence_id=delivery.occurrence_id)
            if delivery is not None
            else None
        )
        if delivery is None or occurrence is None:
            raise UserFacingError("This prompt has expired, so nothing changed.")
        library = await self.prompts.library(delivery.guild_id, session=session)
        return delivery, occurrence, library.get(delivery.prompt_key or occurrence.prompt_key or "")

    async def context(self, delivery_id: int) -> ReflectContext:
        """The prompt a delivery carried; refuses one that no longer exists."""
        async with self.ctx.transaction() as session:
            delivery, _, prompt = await self._delivered(session, delivery_id)
        return ReflectContext(
            delivery_id, delivery.guild_id, prompt.text if prompt else "Your reflection"
        )

    async def may_reflect(self, delivery_id: int, user_id: int) -> bool:
        """The DM's recipient, either member of the pair, or anyone for a channel post."""
        async with self.ctx.transaction() as session:
            delivery = await get_delivery(session, delivery_id=delivery_id)
            if delivery is None:
                return True  # ``context`` explains it has expired
            if delivery.kind == DeliveryKind.DM:
                return delivery.user_id == user_id
            if delivery.kind == DeliveryKind.PAIR:
                pair = await get_pair(session, pair_id=delivery.recipient_id)
                return pair is not None and user_id in (pair.mentee_id, pair.mentor_id)
        return True

    async def save(self, user_id: int, delivery_id: int, text: str) -> Saved:
        """Save a reflection encrypted; the reply offers sharing and, if needed, resources."""
        cleaned = clean_input(text)
        if not cleaned:
            raise UserFacingError("Your reflection was empty, so nothing was saved.")
        if not await self.may_reflect(delivery_id, user_id):
            raise NotYourPromptError()
        async with self.ctx.transaction() as session:
            delivery, occurrence, prompt = await self._delivered(session, delivery_id)
            guild_id = delivery.guild_id
            row = await q.save_reflection(
                session,
                guild_id=guild_id,
                user_id=user_id,
                text=cleaned,
                cipher=self.ctx.cipher,
                now=self.ctx.now(),
                prompt_key=prompt.key if prompt else None,
                area=prompt.area if prompt else None,
                occurrence_id=occurrence.id,
                delivery_id=delivery.id,
            )
            pair = await pair_of_member(session, guild_id=guild_id, user_id=user_id)
            crisis = mentions_crisis(cleaned)
            profile = (
                await load_profile(
                    session, guild_id=guild_id, user_id=user_id, cipher=self.ctx.cipher
                )
                if crisis
                else None
            )
        log.info("reflection saved id=%s guild=%s", row.id, guild_id)
        parts = [SAVED]
        if crisis:
            region = resources_for(self.regions, profile.timezone if profile else None)
            parts.append(support_message(region))
        buttons: list[Button] = []
        if pair is not None:
            buttons.append(share_button("pair", row.id or 0))
        if occurrence.thread_id is not None:
            buttons.append(share_button("thread", row.id or 0))
        return Saved("\n\n".join(parts), tuple(buttons), reflection_id=row.id or 0)

    async def save_reply(self, user_id: int, replied_to_message_id: int, text: str) -> Saved | None:
        """A DM reply to a prompt DM becomes a private reflection.

        ``None`` when the message replied to is not one of Lantern's prompt DMs to this member;
        raises ``UserFacingError`` for an empty reply.
        """
        async with self.ctx.transaction() as session:
            delivery = await q.find_dm_delivery(
                session, user_id=user_id, message_id=replied_to_message_id
            )
        if delivery is None:
            return None
        return await self.save(user_id, delivery.id or 0, text)

    async def excerpt(self, reflection_id: int, user_id: int) -> str:
        """The start of the author's reflection, for them to trim before sharing."""
        async with self.ctx.transaction() as session:
            reflection = await q.get_reflection(session, reflection_id=reflection_id)
        if reflection is None or reflection.user_id != user_id:
            raise NotTheAuthorError()
        return excerpt(self.ctx.cipher.decrypt(reflection.text_enc) or "")

    async def share(self, user_id: int, reflection_id: int, where: str, text: str) -> str:
        """Post the excerpt the author chose into their pair space or the prompt's thread."""
        if where not in SHARE_PLACES:
            raise ValueError(f"unknown place to share {where!r}")
        cleaned = clean_input(text)
        if not cleaned:
            raise UserFacingError("The excerpt was empty, so nothing was shared.")
        async with self.ctx.transaction() as session:
            reflection = await q.get_reflection(session, reflection_id=reflection_id)
            if reflection is None or reflection.user_id != user_id:
                raise NotTheAuthorError()
            library = await self.prompts.library(reflection.guild_id, session=session)
            target_id: int | None = None
            if where == "pair":
                pair = await pair_of_member(session, guild_id=reflection.guild_id, user_id=user_id)
                target_id = (pair.channel_id or pair.thread_id) if pair else None
                if target_id is None:
                    raise UserFacingError("You don't have an active pair space to share into.")
            else:
                occurrence = (
                    await get_occurrence(session, occurrence_id=reflection.occurrence_id)
                    if reflection.occurrence_id
                    else None
                )
                target_id = occurrence.thread_id if occurrence else None
                if target_id is None:
                    raise UserFacingError("This prompt has no community thread to post in.")
        prompt = library.get(reflection.prompt_key or "")
        name = await self.ctx.messenger.name(reflection.guild_id, user_id)
        sent = await self.ctx.messenger.post(
            target_id,
            shared_text(name=name, prompt_text=prompt.text if prompt else None, excerpt=cleaned),
        )
        if sent in (SendFailure.UNKNOWN_CHANNEL, SendFailure.NOT_FOUND):
            raise UserFacingError("I can't reach that space any more, so nothing was shared.")
        if not isinstance(sent, Posted):
            raise UserFacingError("Discord wouldn't let me post there, so nothing was shared.")
        async with self.ctx.transaction() as session:
            await q.mark_reflection_shared(
                session, reflection_id=reflection_id, where=where, now=self.ctx.now()
            )
        log.info("reflection shared id=%s where=%s", reflection_id, where)
        return "Shared. Only the excerpt you chose was posted; the rest stays private."

    async def journal(
        self, guild_id: int, user_id: int, *, area: str | None = None, page: int = 0
    ) -> JournalPage:
        """A page of the member's own reflections, newest first, with share buttons."""
        page = max(0, page)
        async with self.ctx.transaction() as session:
            rows, total = await q.list_reflections(
                session,
                guild_id=guild_id,
                user_id=user_id,
                area=area,
                offset=page * JOURNAL_PAGE,
                limit=JOURNAL_PAGE,
            )
            library = await self.prompts.library(guild_id, session=session)
            pair = await pair_of_member(session, guild_id=guild_id, user_id=user_id)
        entries: list[JournalEntry] = []
        buttons: list[tuple[Button, ...]] = []
        for reflection in rows:
            prompt = library.get(reflection.prompt_key or "")
            entries.append(
                JournalEntry(
                    reflection_id=reflection.id or 0,
                    created_at=reflection.created_at,
                    area=reflection.area,
                    prompt_text=prompt.text if prompt else None,
                    text=self.ctx.cipher.decrypt(reflection.text_enc) or "",
                )
            )
            number = reflection.id or 0
            row: list[Button] = []
            if pair:
                row.append(share_button("pair", number, f"Share #{number} with my pair"))
            if reflection.occurrence_id:
                row.append(share_button("thread", number, f"Post #{number} to its thread"))
            buttons.append(tuple(row))
        text = render_journal(entries, area=area, page=page, total=total)
        return JournalPage(text, tuple(buttons), page, journal_pages(total))
