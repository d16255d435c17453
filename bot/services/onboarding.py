"""Onboarding: the welcome, consent, the questionnaire page by page, the member's own profile.

The member is always the person acting; their state is read back from the database on every
step, so a button pressed after a restart (or by someone else holding the same card) acts on
the presser's own answers. Finishing sets the prompt subscription and lets matching try the
waiting list.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, overload
from zoneinfo import available_timezones

from bot.db.models import ConsentStatus, MemberProfile, SubscriptionStatus
from bot.db.queries.cooldowns import claim_cooldown, release_cooldown
from bot.db.queries.members import (
    erase_answers,
    get_member_profile,
    read_answers,
    record_consent,
    save_answers,
)
from bot.db.queries.onboarding import mark_completed, onboarding_counts, set_step
from bot.db.queries.setup import get_guild_settings
from bot.domain import onboarding as text
from bot.domain.components import (
    Reply,
    consent_buttons,
    declined_answers_buttons,
    page_button,
    profile_edit_button,
    prompts_choice_buttons,
    start_button,
)
from bot.domain.crisis import load_resources, mentions_crisis, resources_for, support_message
from bot.domain.questionnaire import (
    Field,
    Page,
    Questionnaire,
    current_values,
    load_questionnaire,
    validate_page,
)
from bot.domain.text import fit
from bot.domain.timezones import TimezoneResolver, load_aliases, local_time
from bot.errors import TryLaterError, UserFacingError
from bot.services.context import Context, Service
from bot.services.matching import MatchingService
from bot.services.moderation import ModerationService
from bot.services.ports import Posted, SendFailure
from bot.services.prompts import PromptsService

log = logging.getLogger("lantern.onboarding")

# A welcome DM refused for these reasons is posted in the welcome channel instead.
# One welcome per join: the same join heard twice (two processes on one shard during a rolling
# restart, a replayed gateway event) or a leave-and-rejoin within this time is welcomed once.
WELCOME_ONCE = timedelta(minutes=1)
_DM_REFUSED = (SendFailure.DMS_CLOSED, SendFailure.MISSING_ACCESS, SendFailure.MISSING_PERMISSIONS)
_TRY_LATER = (SendFailure.RATE_LIMITED, SendFailure.SERVER_ERROR)


@dataclass(frozen=True)
class Form:
    """One page's form, ready to show: its fields and what to fill them with."""

    guild_id: int
    page_id: str
    title: str
    fields: tuple[Field, ...]
    prefill: Mapping[str, Any]  # field custom id -> text, or a list of option values
    editing: bool


class PageStep(StrEnum):
    """What a submitted page led to."""

    REJECTED = "rejected"
    NEXT = "next"
    EDITED = "edited"
    FINISHED = "finished"


@dataclass(frozen=True)
class PageSubmitted:
    """The answer to a submitted page; after a rejection, ``retry`` keeps what was typed."""

    step: PageStep
    card: Reply
    retry: Form | None = None


@dataclass(frozen=True)
class MemberState:
    """Where a member stands in one server (``exists`` is false before they start)."""

    exists: bool
    consent_status: str | None
    completed: bool
    step: str | None
    answers: dict[str, Any]

    @property
    def consented(self) -> bool:
        return self.consent_status == ConsentStatus.ACCEPTED

    @property
    def role(self) -> str | None:
        value = self.answers.get("role")
        return str(value) if value else None


@dataclass(frozen=True)
class ProfileView(Reply):
    """The member's own profile: the text, a Start button before they begin, editable pages."""

    pages: tuple[tuple[str, str], ...] = ()  # (page id, title) the member may change


class OnboardingService(Service):
    """Onboarding: welcome, consent, questionnaire pages, the profile."""

    def __init__(
        self,
        ctx: Context,
        matching: MatchingService,
        prompts: PromptsService,
        moderation: ModerationService,
        questionnaire: Questionnaire | None = None,
    ) -> None:
        super().__init__(ctx)
        self.matching = matching
        self.prompts = prompts
        self.moderation = moderation
        self.q = questionnaire or load_questionnaire()
        self.zones = TimezoneResolver(available_timezones(), load_aliases())
        self.crisis_regions = load_resources()

    @property
    def consent_version(self) -> str:
        """The version of the consent text members see now."""
        return self.q.consent.version

    # --- reading ------------------------------------------------------------------------------

    def _state_of(self, row: MemberProfile | None) -> MemberState:
        if row is None:
            return MemberState(False, None, False, None, {})
        return MemberState(
            True,
            row.consent_status,
            row.completed_at is not None,
            row.step,
            read_answers(row, self.ctx.cipher),
        )

    async def state(self, guild_id: int, user_id: int) -> MemberState:
        """Where the member stands in ``guild_id``: consent, progress and answers."""
        async with self.ctx.transaction() as session:
            row = await get_member_profile(session, guild_id=guild_id, user_id=user_id)
            return self._state_of(row)

    async def _require_member(self, guild_id: int, user_id: int) -> None:
        if not await self.ctx.messenger.present(guild_id, user_id):
            raise UserFacingError(text.NOT_IN_SERVER)

    @property
    def _order(self) -> list[str]:
        """Every page id in questionnaire order, then ``done``: progress only moves along it."""
        return [p.id for p in self.q.pages] + [text.DONE]

    def _current_page(self, state: MemberState) -> Page:
        """The page the member stopped at; after a change of role, the first page of theirs
        at or after it (never back to the start)."""
        pages = self.q.pages_for(state.role)
        order = self._order
        if state.step not in order:
            return self.q.first_page()
        reached = order.index(state.step)
        later = [p for p in pages if order.index(p.id) >= reached]
        return later[0] if later else pages[-1]

    # --- cards and forms ----------------------------------------------------------------------

    def _consent_card(self, guild_id: int, note: str = "") -> Reply:
        return Reply(fit(note + text.consent_card(self.q)), consent_buttons(guild_id))

    def _page_card(
        self, guild_id: int, page: Page, role: str | None, notes: Sequence[str] = ()
    ) -> Reply:
        buttons = [page_button("answer", guild_id, page.id)]
        if page.skippable(role):
            buttons.append(page_button("skip", guild_id, page.id))
        if self.q.previous_page_id(role, page.id) is not None:
            buttons.append(page_button("back", guild_id, page.id))
        return Reply(text.page_card(self.q, page, role, notes=notes), tuple(buttons))

    def _form(self, guild_id: int, page: Page, state: MemberState, *, editing: bool) -> Form:
        fields = self.q.fields(page, state.role, state.answers)
        prefill: dict[str, Any] = {}
        for f in fields:
            values = current_values(f, state.answers)
            prefill[f.custom_id] = values[0] if f.is_text and values else values
        title = page.title if editing else f"{self.q.progress(state.role, page.id)}: {page.title}"
        return Form(guild_id, page.id, title, tuple(fields), prefill, editing)

    # --- the welcome --------------------------------------------------------------------------

    async def welcome(
        self,
        guild_id: int,
        user_id: int,
        *,
        joined_at: datetime | None = None,
        fallback_channel_id: int | None = None,
    ) -> bool:
        """DM a new member the welcome with Start; if their DMs are closed, greet them in the
        welcome channel (else ``fallback_channel_id``). Whether the welcome reached them.

        Claimed first in the database (keyed by the join time Discord gives, else now), so
        however many processes hear the same join, one of them welcomes. If Discord is busy or
        failing (a rate limit, a 5xx), the claim is given back and ``TryLaterError`` raised, so
        the caller can try again whole.
        """
        action, claimed_at = f"welcome:{guild_id}", joined_at or self.ctx.now()
        async with self.ctx.transaction() as session:
            again = await claim_cooldown(
                session, subject_id=user_id, action=action, now=claimed_at, every=WELCOME_ONCE
            )
        if again is not None:
            log.info("welcome already sent guild=%s user=%s", guild_id, user_id)
            return False
        guild_name = await self.ctx.messenger.guild_name(guild_id)
        sent = await self.ctx.messenger.dm(
            user_id, text.welcome_text(guild_name), buttons=(start_button(guild_id),)
        )
        if isinstance(sent, Posted):
            log.info("welcome sent guild=%s user=%s", guild_id, user_id)
            return True
        if sent in _TRY_LATER:
            # Discord is busy or failing: give the claim back so the next try (the listener's
            # ``retrying``, maybe in another process) welcomes them.
            async with self.ctx.transaction() as session:
                await release_cooldown(
                    session, subject_id=user_id, action=action, claimed_at=claimed_at
                )
            raise TryLaterError(f"welcome DM {sent}")
        if sent not in _DM_REFUSED:
            log.warning("welcome DM failed guild=%s user=%s reason=%s", guild_id, user_id, sent)
            return False
        if sent is not SendFailure.DMS_CLOSED:
            log.warning("welcome DM refused guild=%s user=%s reason=%s", guild_id, user_id, sent)
        async with self.ctx.transaction() as session:
            settings = await get_guild_settings(session, guild_id=guild_id)
        candidates = [settings.welcome_channel_id if settings else None, fallback_channel_id]
        for channel_id in dict.fromkeys(c for c in candidates if c):
            posted = await self.ctx.messenger.post(
                channel_id, text.fallback_text(f"<@{user_id}>"), ping=(user_id,)
            )
            if isinstance(posted, Posted):
                log.info(
                    "welcome posted in channel guild=%s user=%s channel=%s",
                    guild_id,
                    user_id,
                    channel_id,
                )
                return True
            log.warning(
                "welcome fallback failed guild=%s channel=%s reason=%s",
                guild_id,
                channel_id,
                posted,
            )
        log.warning("no welcome channel for DMs-closed member guild=%s user=%s", guild_id, user_id)
        return False

    # --- where the member is ------------------------------------------------------------------

    @overload
    async def where(self, guild_id: int, user_id: int) -> Reply: ...

    @overload
    async def where(self, guild_id: int, user_id: int, *, form: bool) -> Reply | Form: ...

    async def where(self, guild_id: int, user_id: int, *, form: bool = False) -> Reply | Form:
        """Consent first; then the page they stopped at (its form, if ``form``); or 'all done'."""
        await self._require_member(guild_id, user_id)
        state = await self.state(guild_id, user_id)
        if not state.consented:
            declined = state.consent_status == ConsentStatus.DECLINED
            return self._consent_card(guild_id, text.DECLINED_NOTE if declined else "")
        if state.completed:
            return Reply(text.finished_here(await self.ctx.messenger.guild_name(guild_id)))
        page = self._current_page(state)
        if form:
            return self._form(guild_id, page, state, editing=False)
        return self._page_card(guild_id, page, state.role)

    async def decide_consent(self, guild_id: int, user_id: int, *, accepted: bool) -> Reply:
        """Record I agree / No thanks with the consent text's version; what comes next."""
        await self._require_member(guild_id, user_id)
        status = ConsentStatus.ACCEPTED if accepted else ConsentStatus.DECLINED
        async with self.ctx.transaction() as session:
            row = await record_consent(
                session,
                guild_id=guild_id,
                user_id=user_id,
                status=status,
                version=self.consent_version,
                now=self.ctx.now(),
            )
            state = self._state_of(row)
        log.info(
            "consent recorded guild=%s user=%s status=%s version=%s",
            guild_id,
            user_id,
            status,
            self.consent_version,
        )
        if not accepted:
            if state.answers:
                return Reply(text.DECLINED_WITH_ANSWERS, declined_answers_buttons(guild_id))
            return Reply(text.CONSENT_DECLINED, prompts_choice_buttons(guild_id))
        if state.completed:
            return Reply(text.CONSENT_ALREADY_COMPLETE)
        return self._page_card(guild_id, self._current_page(state), state.role, [text.LETS_BEGIN])

    async def keep_or_erase(self, guild_id: int, user_id: int, *, erase: bool) -> Reply:
        """After "No thanks" with answers given: erase them, or keep them; then the prompts
        choice. Pressed after agreeing again, nothing is erased."""
        await self._require_member(guild_id, user_id)
        async with self.ctx.transaction() as session:
            row = await get_member_profile(session, guild_id=guild_id, user_id=user_id)
            if row is None or row.consent_status != ConsentStatus.DECLINED:
                return Reply(text.DECLINE_CHANGED)
            if erase:
                await erase_answers(session, guild_id=guild_id, user_id=user_id, now=self.ctx.now())
        log.info("declined answers guild=%s user=%s erased=%s", guild_id, user_id, erase)
        said = text.ANSWERS_ERASED if erase else text.ANSWERS_KEPT
        return Reply(f"{said}\n\n{text.PROMPTS_QUESTION}", prompts_choice_buttons(guild_id))

    async def choose_prompts(self, guild_id: int, user_id: int, *, wanted: bool) -> str:
        """A member who declined matching chooses community prompts by DM, or none."""
        await self._require_member(guild_id, user_id)
        status = SubscriptionStatus.SUBSCRIBED if wanted else SubscriptionStatus.UNSUBSCRIBED
        await self.prompts.set_subscription(guild_id, user_id, status)
        return text.PROMPTS_CHOSEN if wanted else text.PROMPTS_REFUSED

    # --- pages --------------------------------------------------------------------------------

    async def open_page(
        self, guild_id: int, user_id: int, page_id: str, *, editing: bool = False
    ) -> Form | Reply:
        """The form for ``page_id`` filled with the saved answers (the consent card first)."""
        await self._require_member(guild_id, user_id)
        if not self.q.has_page(page_id):
            raise UserFacingError(text.PAGE_CHANGED)
        state = await self.state(guild_id, user_id)
        if not state.consented:
            return self._consent_card(guild_id)
        return self._form(guild_id, self.q.page(page_id), state, editing=editing or state.completed)

    async def submit_page(self, user_id: int, form: Form, raw: Mapping[str, Any]) -> PageSubmitted:
        """Validate and save one page: rejected (nothing lost), the next page, edited, or done."""
        guild_id = form.guild_id
        await self._require_member(guild_id, user_id)
        if not self.q.has_page(form.page_id):
            raise UserFacingError(text.PAGE_CHANGED)
        page = self.q.page(form.page_id)
        state = await self.state(guild_id, user_id)
        if not state.consented:
            raise UserFacingError(text.NEEDS_CONSENT)
        outcome = validate_page(
            self.q, page, state.role, raw, answers=state.answers, zones=self.zones
        )
        if not outcome.ok:
            log.info(
                "onboarding page rejected guild=%s user=%s page=%s problems=%d",
                guild_id,
                user_id,
                page.id,
                len(outcome.errors),
            )
            return PageSubmitted(
                PageStep.REJECTED,
                Reply(text.rejected_text(outcome.errors)),
                retry=replace(form, prefill=dict(raw)),
            )
        new_role = outcome.answers.get("role", state.role)
        editing = form.editing or state.completed
        next_id = None if editing else self.q.next_page_id(new_role, page.id)
        now = self.ctx.now()
        first = False
        async with self.ctx.transaction() as session:
            saved = await save_answers(
                session,
                guild_id=guild_id,
                user_id=user_id,
                answers=outcome.answers,
                cipher=self.ctx.cipher,
                now=now,
                next_step=None if editing else (next_id or text.DONE),
                order=self._order,
            )
            merged = read_answers(saved, self.ctx.cipher)
            stored_step = saved.step
            if not editing and next_id is None:
                first = await mark_completed(session, guild_id=guild_id, user_id=user_id, now=now)
        log.info(
            "onboarding page saved guild=%s user=%s page=%s next=%s",
            guild_id,
            user_id,
            page.id,
            next_id or text.DONE,
        )
        notes = list(outcome.notes)
        if any(isinstance(v, str) and mentions_crisis(v) for v in outcome.answers.values()):
            # Only this member sees it; nobody is alerted (RELIABILITY.md promise 17).
            notes.append(
                support_message(resources_for(self.crisis_regions, merged.get("timezone")))
            )
        zone = outcome.answers.get("timezone")
        if zone:
            notes.append(text.timezone_note(zone, local_time(zone, now), editing=editing))
        if editing:
            card = await self._after_edit(form, user_id, merged, notes, completed=state.completed)
            if not state.completed:
                # Changed from /profile before finishing: back to where the member was.
                current = self._current_page(replace(state, step=stored_step, answers=merged))
                card = self._page_card(guild_id, current, new_role, [card.text])
            return PageSubmitted(PageStep.EDITED, card)
        if next_id is None:
            card = await self._finish(guild_id, user_id, merged, notes, first=first)
            return PageSubmitted(PageStep.FINISHED, card)
        if stored_step != next_id:
            # An earlier page saved again: the member goes on from where they had reached.
            current = self._current_page(replace(state, step=stored_step, answers=merged))
            notes.append(text.BACK_TO_WHERE_YOU_WERE)
            return PageSubmitted(PageStep.NEXT, self._page_card(guild_id, current, new_role, notes))
        return PageSubmitted(
            PageStep.NEXT, self._page_card(guild_id, self.q.page(next_id), new_role, notes)
        )

    def _missing_pages(self, role: str | None, answers: Mapping[str, Any]) -> list[Page]:
        """Pages with a required answer missing for ``role`` (after a change of role)."""
        out = []
        for page in self.q.pages_for(role):
            for question in page.questions_for(role):
                if question.required and answers.get(question.id) in (None, "", []):
                    out.append(page)
                    break
        return out

    async def _after_edit(
        self,
        form: Form,
        user_id: int,
        answers: dict[str, Any],
        notes: list[str],
        *,
        completed: bool,
    ) -> Reply:
        role = answers.get("role")
        if "prompts_dm" in answers:
            wanted = bool(answers["prompts_dm"])
            status = SubscriptionStatus.SUBSCRIBED if wanted else SubscriptionStatus.UNSUBSCRIBED
            await self.prompts.set_subscription(form.guild_id, user_id, status)
        missing = self._missing_pages(role, answers) if completed else []
        if missing:
            return self._page_card(form.guild_id, missing[0], role, [*notes, text.EDIT_NEEDS_PAGE])
        return Reply(fit("\n".join([*notes, text.EDIT_SAVED])))

    async def _finish(
        self,
        guild_id: int,
        user_id: int,
        answers: Mapping[str, Any],
        notes: list[str],
        *,
        first: bool,
    ) -> Reply:
        """The one call that finished sets prompts as chosen and tells matching a profile is
        ready; a racing duplicate only repeats the message."""
        wanted = bool(answers.get("prompts_dm"))
        if first:
            status = SubscriptionStatus.SUBSCRIBED if wanted else SubscriptionStatus.UNSUBSCRIBED
            await self.prompts.set_subscription(guild_id, user_id, status)
            log.info("onboarded guild=%s user=%s", guild_id, user_id)
            try:
                await self.matching.fill_waiting(guild_id)
            except Exception:
                # The member's profile is saved: a matching problem is not theirs to see.
                log.exception("could not fill the waiting list after onboarding guild=%s", guild_id)
        return Reply(text.finished_text(notes, prompts_dm=wanted))

    async def skip_page(self, guild_id: int, user_id: int, page_id: str) -> Reply:
        """Skip an optional page: the next page, or the end."""
        await self._require_member(guild_id, user_id)
        state = await self.state(guild_id, user_id)
        if not state.consented or not self.q.has_page(page_id):
            raise UserFacingError(text.PAGE_EXPIRED)
        page = self.q.page(page_id)
        if not page.skippable(state.role):
            raise UserFacingError(text.NOT_SKIPPABLE)
        next_id = self.q.next_page_id(state.role, page_id)
        now = self.ctx.now()
        first = False
        async with self.ctx.transaction() as session:
            moved = await set_step(
                session,
                guild_id=guild_id,
                user_id=user_id,
                step=next_id or text.DONE,
                now=now,
                order=self._order,
            )
            if next_id is None:
                first = await mark_completed(session, guild_id=guild_id, user_id=user_id, now=now)
        log.info("onboarding page skipped guild=%s user=%s page=%s", guild_id, user_id, page_id)
        if next_id is None:
            return await self._finish(guild_id, user_id, state.answers, [], first=first)
        if not moved and not state.completed:
            # Skipped a page the member had already passed: on from where they had reached.
            current = self._current_page(state)
            return self._page_card(guild_id, current, state.role, [text.SKIPPED])
        return self._page_card(guild_id, self.q.page(next_id), state.role, [text.SKIPPED])

    async def go_back(self, guild_id: int, user_id: int, page_id: str) -> Reply:
        """The card of the page before ``page_id``; the member's progress stays where it is
        (later pages stay answered, and ``/onboard`` still resumes where they had reached)."""
        await self._require_member(guild_id, user_id)
        state = await self.state(guild_id, user_id)
        previous = (
            self.q.previous_page_id(state.role, page_id) if self.q.has_page(page_id) else None
        )
        if not state.exists or previous is None:
            raise UserFacingError(text.NO_EARLIER_PAGE)
        return self._page_card(guild_id, self.q.page(previous), state.role)

    # --- the profile and the totals -----------------------------------------------------------

    async def profile(self, guild_id: int, user_id: int) -> ProfileView:
        """The member's own profile in ``guild_id`` (``/profile`` and "my profile" alike)."""
        state = await self.state(guild_id, user_id)
        if not state.exists:
            return ProfileView(text.NO_PROFILE, (start_button(guild_id),))
        summary = text.profile_summary(
            self.q,
            state.answers,
            consent_status=state.consent_status,
            completed=state.completed,
            guild_name=await self.ctx.messenger.guild_name(guild_id),
        )
        if not state.consented:
            return ProfileView(summary)
        pages = tuple((p.id, p.title) for p in self.q.pages_for(state.role))
        return ProfileView(summary, (profile_edit_button(guild_id),), pages=pages)

    async def counts(self, guild_id: int, actor_id: int) -> str:
        """Moderators' totals (small groups hidden); the look is audited."""
        async with self.ctx.transaction() as session:
            counts = await onboarding_counts(session, guild_id=guild_id)
        await self.moderation.audit(guild_id, actor_id, "onboarding_status")
        return text.counts_text(counts)

    # --- prompts by plain words ---------------------------------------------------------------

    async def pause_prompts(self, user_id: int) -> str:
        """'pause prompts': pause them in every server; say which, and how to resume one."""
        guild_ids = await self.prompts.pause_everywhere(user_id)
        if not guild_ids:
            return text.NOTHING_TO_PAUSE
        names = [await self.ctx.messenger.guild_name(g) for g in guild_ids]
        return text.paused_text(names)

    async def resume_prompts(self, guild_id: int, user_id: int) -> str:
        """'resume prompts' in one server."""
        await self.prompts.set_subscription(guild_id, user_id, SubscriptionStatus.SUBSCRIBED)
        return text.resumed_text(await self.ctx.messenger.guild_name(guild_id))
