"""Prompts: the library, schedules, suggestions and subscriptions.

Moderators' use cases (add, edit, retire, schedules, suggestions) are audited through
``moderation.audit``. Delivering what a schedule makes due is ``DeliveryService``'s work: it
subscribes to schedule changes (``on_schedule_changed``) to re-arm the schedule's job.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.members import SubscriptionStatus
from bot.db.models.prompts import PromptSchedule, SuggestionStatus
from bot.db.queries import delivery as dq
from bot.db.queries import prompts as q
from bot.db.queries.cooldowns import claim_cooldown
from bot.db.queries.members import pause_all_subscriptions, set_prompt_subscription
from bot.db.queries.setup import get_guild_settings
from bot.domain.areas import AREA_KEYS, area_label
from bot.domain.components import Reply, suggestion_buttons
from bot.domain.content import ContentError
from bot.domain.moderation import COOLDOWNS, cooldown_text
from bot.domain.prompt_io import (
    ImportPlan,
    export_filename,
    import_preview,
    import_refusal,
    import_summary,
    library_toml,
    plan_import,
    read_import,
)
from bot.domain.prompts import (
    DM_FOOTER,
    MAX_SUGGESTION,
    RUNS_SHOWN,
    Library,
    Prompt,
    all_retired_warning,
    check_prompt_text,
    chunk_lines,
    load_library,
    moderator_text,
    prompt_line,
    prompt_message,
    render_prompt,
    run_report,
    schedule_has_prompts,
    schedule_line,
    suggestion_card,
    when_text,
)
from bot.domain.schedule import (
    ScheduleError,
    check_interval,
    load_zone,
    next_occurrence,
    parse_schedule,
)
from bot.domain.text import clean_input, plain_inline, quoted, safe_block, safe_inline
from bot.errors import UserFacingError
from bot.services.context import Context, Service
from bot.services.moderation import ModerationService

log = logging.getLogger("lantern.prompts")

__all__ = [
    "PromptsService",
    "SubscriptionStatus",
    "UnknownPromptError",
    "UnknownScheduleError",
]

ScheduleListener = Callable[[PromptSchedule], None]


@dataclass(frozen=True)
class LibraryFile:
    """The library as a file for the moderator, with a line to go with it."""

    text: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class ImportPreview:
    """What an import would change; ``ready`` when there is something to apply."""

    text: str
    ready: bool


class UnknownPromptError(UserFacingError):
    """No prompt has that id in this server's library."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"I can't find a prompt with the id `{safe_inline(key, limit=40)}`. "
            "`/prompts list` shows every id."
        )


class UnknownScheduleError(UserFacingError):
    """No (live) schedule has that number in this server."""

    def __init__(self, schedule_id: int) -> None:
        super().__init__(f"There is no schedule #{schedule_id} in this server.")


class PromptsService(Service):
    """Prompts: the library, schedules, suggestions and subscriptions."""

    def __init__(
        self, ctx: Context, moderation: ModerationService, *, shipped: Library | None = None
    ) -> None:
        super().__init__(ctx)
        self.moderation = moderation
        self.shipped = shipped if shipped is not None else load_library()
        self._schedule_listeners: list[ScheduleListener] = []

    def on_schedule_changed(self, listener: ScheduleListener) -> None:
        """Call ``listener`` with every schedule created, paused, resumed or deleted."""
        self._schedule_listeners.append(listener)

    def _changed(self, schedule: PromptSchedule) -> None:
        for listener in self._schedule_listeners:
            listener(schedule)

    # ------------------------------------------------------------------------- library

    async def library(self, guild_id: int, *, session: AsyncSession | None = None) -> Library:
        """This server's library: shipped prompts with its edits (in ``session`` if given)."""
        if session is not None:
            return await q.load_guild_library(session, guild_id=guild_id, shipped=self.shipped)
        async with self.ctx.transaction() as own:
            return await q.load_guild_library(own, guild_id=guild_id, shipped=self.shipped)

    async def find(self, guild_id: int, key: str) -> Prompt:
        """The prompt ``key`` (retired ones included); refuses an unknown id."""
        prompt = (await self.library(guild_id)).get(key.strip())
        if prompt is None:
            raise UnknownPromptError(key)
        return prompt

    async def search(self, guild_id: int, current: str, *, limit: int = 25) -> list[Prompt]:
        """Prompts whose id or text contains ``current`` (for autocomplete), in id order."""
        library = await self.library(guild_id)
        current = current.lower()
        found = [
            p
            for p in sorted(library.prompts.values(), key=lambda p: p.key)
            if current in p.key or current in p.text.lower()
        ]
        return found[:limit]

    @staticmethod
    def _check(prompt: Prompt) -> None:
        problems = check_prompt_text(prompt.text, prompt.follow_ups)
        if problems:
            raise UserFacingError("That prompt can't be saved yet: " + "; ".join(problems) + ".")

    async def _save(self, guild_id: int, prompt: Prompt, action: str) -> int:
        """Store this server's version of a prompt; how many versions it now has."""
        async with self.ctx.transaction() as session:
            await q.save_prompt(
                session, guild_id=guild_id, prompt=prompt, action=action, now=self.ctx.now()
            )
            versions = await q.prompt_revisions(session, guild_id=guild_id, key=prompt.key)
        return len(versions)

    async def add(
        self, guild_id: int, actor_id: int, area: str, text: str, follow_up: str | None = None
    ) -> str:
        """Add a prompt to this server's library (audited); the reply shows it as sent."""
        prompt = Prompt(
            key=q.new_custom_key(),
            area=area,
            text=clean_input(text),
            follow_ups=(clean_input(follow_up),) if follow_up else (),
            custom=True,
        )
        self._check(prompt)
        await self._save(guild_id, prompt, "add")
        await self.moderation.audit(guild_id, actor_id, "prompts.add")
        shown = render_prompt(prompt, area_label(prompt.area)).replace(
            prompt.text, moderator_text(prompt.text)
        )
        return f"Added `{prompt.key}`. Members will see:\n\n" + shown

    async def edit(
        self,
        guild_id: int,
        actor_id: int,
        key: str,
        *,
        text: str | None = None,
        area: str | None = None,
        follow_up: str | None = None,
    ) -> str:
        """Edit a prompt (``follow_up='-'`` removes it); earlier versions are kept. Audited."""
        current = await self.find(guild_id, key)
        follow_ups = current.follow_ups
        if follow_up is not None:
            follow_ups = () if follow_up.strip() == "-" else (clean_input(follow_up),)
        edited = Prompt(
            key=current.key,
            area=area or current.area,
            text=clean_input(text) if text else current.text,
            follow_ups=follow_ups,
            retired=current.retired,
            custom=current.custom,
            suggested_by=current.suggested_by,
        )
        self._check(edited)
        versions = await self._save(guild_id, edited, "edit")
        await self.moderation.audit(guild_id, actor_id, "prompts.edit")
        return f"Saved `{edited.key}` (version {versions}; the shipped text is never changed)."

    async def retire(self, guild_id: int, actor_id: int, key: str, *, restore: bool = False) -> str:
        """Stop sending a prompt, or bring it back (audited)."""
        current = await self.find(guild_id, key)
        changed = Prompt(
            key=current.key,
            area=current.area,
            text=current.text,
            follow_ups=current.follow_ups,
            retired=not restore,
            custom=current.custom,
            suggested_by=current.suggested_by,
        )
        await self._save(guild_id, changed, "restore" if restore else "retire")
        await self.moderation.audit(
            guild_id, actor_id, "prompts.restore" if restore else "prompts.retire"
        )
        word = "back in rotation" if restore else "retired; it won't be sent again"
        answer = f"`{current.key}` is {word}."
        if not restore:
            warning = await self._warn_empty_schedules(guild_id, {current.key})
            if warning:
                answer += "\n" + warning
        return answer

    async def _warn_empty_schedules(self, guild_id: int, retired: set[str]) -> str | None:
        """Schedules that just lost their last prompt are flagged to moderators (the alerts
        channel, and the returned line for the moderator who retired it)."""
        async with self.ctx.transaction() as session:
            rows = await q.list_schedules(session, guild_id=guild_id)
            library = await self.library(guild_id, session=session)
        before = Library(
            {
                k: (p if k not in retired else replace(p, retired=False))
                for k, p in library.prompts.items()
            }
        )
        emptied = [
            row.id or 0
            for row in rows
            if not schedule_has_prompts(library, prompt_key=row.prompt_key, areas=row.areas)
            and schedule_has_prompts(before, prompt_key=row.prompt_key, areas=row.areas)
        ]
        if not emptied:
            return None
        warning = all_retired_warning(emptied)
        await self.moderation.alert(guild_id, warning)
        log.warning("schedules left without prompts guild=%s schedules=%s", guild_id, emptied)
        return warning

    # ----------------------------------------------------------------- import, export

    async def export_library(self, guild_id: int, actor_id: int) -> LibraryFile:
        """This server's whole library (retired prompts marked) as a TOML file; audited."""
        library = await self.library(guild_id)
        data = library_toml(library).encode("utf-8")
        await self.moderation.audit(guild_id, actor_id, "prompts.export")
        count = len(library.prompts)
        return LibraryFile(
            f"This server's prompt library ({count} prompts). Edit it and bring it back "
            "with `/prompts import`.",
            export_filename(guild_id),
            data,
        )

    async def preview_import(
        self, guild_id: int, filename: str, data: bytes | None
    ) -> ImportPreview:
        """Check an import file and say what it would add, change, retire and restore."""
        plan, source = await self._plan_import(guild_id, filename, data)
        return ImportPreview(import_preview(plan, source), bool(plan.changes))

    async def apply_import(
        self, guild_id: int, actor_id: int, filename: str, data: bytes | None
    ) -> str:
        """Apply an import file (checked again against the library as it is now); audited."""
        plan, _ = await self._plan_import(guild_id, filename, data)
        if not plan.changes:
            return "Nothing to change: the library already matches the file."
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            for prompt in plan.changes:
                await q.save_prompt(
                    session, guild_id=guild_id, prompt=prompt, action="import", now=now
                )
        await self.moderation.audit(guild_id, actor_id, "prompts.import")
        log.info("prompt library imported guild=%s changes=%d", guild_id, len(plan.changes))
        answer = import_summary(plan)
        warning = await self._warn_empty_schedules(guild_id, {p.key for p in plan.retired})
        return answer + ("\n" + warning if warning else "")

    async def _plan_import(
        self, guild_id: int, filename: str, data: bytes | None
    ) -> tuple[ImportPlan, str]:
        source = plain_inline(filename or "import.toml", limit=80)
        if data is None:
            raise UserFacingError("That file is too large to be a prompt library (at most 512 KB).")
        try:
            incoming = read_import(data, source)
        except ContentError as error:
            raise UserFacingError(import_refusal(error.problems)) from None
        return plan_import(await self.library(guild_id), incoming), source

    async def list(self, guild_id: int, area: str | None = None) -> builtins.list[str]:
        """Prompts with their ids, as messages of at most about 1,900 characters (10 at most)."""
        library = await self.library(guild_id)
        lines = [
            prompt_line(p)
            for p in sorted(library.prompts.values(), key=lambda p: p.key)
            if area is None or p.area == area
        ]
        return chunk_lines(lines or ["No prompts yet."])[:10]

    async def preview(self, guild_id: int, key: str) -> str:
        """A prompt exactly as members receive it by DM."""
        return prompt_message(await self.find(guild_id, key), DM_FOOTER)

    # ----------------------------------------------------------------------- schedules

    async def create_schedule(
        self,
        guild_id: int,
        actor_id: int,
        when: str,
        *,
        timezone: str | None = None,
        areas: str | None = None,
        prompt: str | None = None,
        channel: bool = True,
        dm: bool = False,
        pairs: bool = False,
        circles: bool = False,
    ) -> str:
        """Create a schedule (audited); its job is armed. Refuses what would never work."""
        timezone = (timezone or "").strip() or self.ctx.config.bot.default_timezone
        try:
            recurrence = parse_schedule(when)
            check_interval(recurrence)
            load_zone(timezone)
        except ScheduleError as error:
            raise UserFacingError(str(error)) from None
        chosen = [a.strip().lower() for a in (areas or "").split(",") if a.strip()]
        unknown = [a for a in chosen if a not in AREA_KEYS]
        if unknown:
            raise UserFacingError(
                f"I don't know the area {quoted(unknown[0], limit=30)}. "
                f"Use any of: {', '.join(AREA_KEYS)}."
            )
        fixed = (await self.find(guild_id, prompt)).key if prompt else None
        if not (channel or dm or pairs or circles):
            raise UserFacingError("Choose at least one place: channel, dm, pairs or circles.")
        now = self.ctx.now()
        first = next_occurrence(recurrence, timezone, now)
        if first is None:
            raise UserFacingError("That schedule never fires. Please check the date parts.")
        async with self.ctx.transaction() as session:
            settings = await get_guild_settings(session, guild_id=guild_id)
            schedule = await q.create_schedule(
                session,
                guild_id=guild_id,
                areas=",".join(chosen),
                prompt_key=fixed,
                expression=recurrence.expression,
                timezone=timezone,
                to_channel=channel,
                to_dm=dm,
                to_pairs=pairs,
                to_circles=circles,
                next_run_at=first,
                created_at=now,
                updated_at=now,
            )
        self._changed(schedule)
        await self.moderation.audit(guild_id, actor_id, "prompts.schedule", target_id=schedule.id)
        log.info("prompt schedule created id=%s guild=%s", schedule.id, guild_id)
        warn = ""
        if channel and not (settings and settings.reflections_channel_id):
            warn = "\n⚠️ No reflections channel is set yet: run `/setup` to choose one."
        return (
            f"Schedule **#{schedule.id}** created: {recurrence.expression} ({timezone}). "
            f"Next: {when_text(first, timezone)}.{warn}"
        )

    async def schedules(self, guild_id: int) -> str:
        """Every schedule with its next run and its last delivery's numbers."""
        reports: dict[int, builtins.list[str]] = {}
        async with self.ctx.transaction() as session:
            rows = await q.list_schedules(session, guild_id=guild_id)
            library = await self.library(guild_id, session=session)
            for row in rows:
                runs = await dq.recent_occurrences(
                    session, schedule_id=row.id or 0, limit=RUNS_SHOWN
                )
                reports[row.id or 0] = [
                    run_report(
                        due_at=run.due_at,
                        zone=row.timezone,
                        status=run.status,
                        manual=run.manual,
                        counts=await dq.delivery_counts(session, occurrence_id=run.id or 0),
                    )
                    for run in runs
                ]
        if not rows:
            return "No schedules yet. Create one with `/prompts schedule`."
        lines = []
        for row in rows:
            places = [
                w
                for w, on in (
                    ("channel", row.to_channel),
                    ("DMs", row.to_dm),
                    ("pair spaces", row.to_pairs),
                    ("circle spaces", row.to_circles),
                )
                if on
            ]
            lines.append(
                schedule_line(
                    schedule_id=row.id or 0,
                    expression=row.expression,
                    zone=row.timezone,
                    places=places,
                    prompt_key=row.prompt_key,
                    areas=row.areas,
                    paused=row.paused,
                    next_run_at=row.next_run_at,
                )
            )
            if not row.paused and not schedule_has_prompts(
                library, prompt_key=row.prompt_key, areas=row.areas
            ):
                lines.append("  ⚠️ every prompt this schedule can use is retired: it sends nothing")
            if reports.get(row.id or 0):
                lines.append("  last runs:")
                lines.extend(f"  • {line}" for line in reports[row.id or 0])
        return "\n".join(lines)

    async def set_schedule_state(
        self, guild_id: int, actor_id: int, schedule_id: int | None, verb: str
    ) -> str:
        """Pause, resume or delete a schedule of this server (audited); its job follows."""
        if verb not in ("pause", "resume", "delete"):
            raise ValueError(f"unknown schedule action {verb!r}")
        if schedule_id is None:
            raise UserFacingError("Please give the schedule number (see `/prompts schedules`).")
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            current = await q.get_schedule(session, schedule_id=schedule_id)
            next_run = None
            if verb == "resume" and current is not None and current.guild_id == guild_id:
                next_run = next_occurrence(
                    parse_schedule(current.expression), current.timezone, now
                )
            row = await q.update_schedule_state(
                session,
                guild_id=guild_id,
                schedule_id=schedule_id,
                now=now,
                paused={"pause": True, "resume": False}.get(verb),
                deleted=True if verb == "delete" else None,
                next_run_at=next_run,
            )
        if row is None:
            raise UnknownScheduleError(schedule_id)
        self._changed(row)
        await self.moderation.audit(
            guild_id, actor_id, f"prompts.schedule.{verb}", target_id=schedule_id
        )
        done = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[verb]
        return f"Schedule #{schedule_id} {done}."

    # --------------------------------------------------------------------- suggestions

    async def suggest(
        self, guild_id: int, user_id: int, area: str, text: str, *, anonymous: bool = False
    ) -> str:
        """A member suggests a prompt to the moderators (stored encrypted)."""
        cleaned = clean_input(text)
        problems = check_prompt_text(cleaned)
        if len(cleaned) > MAX_SUGGESTION:
            problems.append(f"it is {len(cleaned)} characters (at most {MAX_SUGGESTION})")
        if problems:
            raise UserFacingError("That suggestion can't be sent yet: " + "; ".join(problems) + ".")
        now = self.ctx.now()
        async with self.ctx.transaction() as session:
            retry_at = await claim_cooldown(
                session,
                subject_id=user_id,
                action="suggestion",
                now=now,
                every=COOLDOWNS["suggestion"],
            )
            if retry_at is not None:
                raise UserFacingError(cooldown_text("suggestion", retry_at, now))
            await q.add_suggestion(
                session,
                guild_id=guild_id,
                user_id=user_id,
                area=area,
                text=cleaned,
                anonymous=anonymous,
                cipher=self.ctx.cipher,
                now=self.ctx.now(),
            )
        name = " without your name" if anonymous else ""
        return f"Thank you! Your suggestion went to the moderators{name}."

    async def pending_suggestions(self, guild_id: int, *, limit: int = 10) -> builtins.list[Reply]:
        """The moderators' queue, oldest first, each with Approve and Decline."""
        async with self.ctx.transaction() as session:
            rows = await q.pending_suggestions(session, guild_id=guild_id)
        return [
            Reply(
                suggestion_card(
                    suggestion_id=row.id or 0,
                    user_id=row.user_id,
                    anonymous=row.anonymous,
                    area=row.area,
                    text=self.ctx.cipher.decrypt(row.text_enc) or "",
                ),
                suggestion_buttons(row.id or 0),
            )
            for row in rows[:limit]
        ]

    async def decide_suggestion(
        self, guild_id: int, actor_id: int, suggestion_id: int, *, approve: bool
    ) -> str:
        """Approve (the suggestion becomes a prompt) or decline, exactly once; audited."""
        now = self.ctx.now()
        status = SuggestionStatus.APPROVED if approve else SuggestionStatus.DECLINED
        async with self.ctx.transaction() as session:
            row = await q.decide_suggestion(
                session, suggestion_id=suggestion_id, status=status, now=now
            )
            if row is None:
                return "This suggestion was already decided, so nothing changed."
            if row.guild_id != guild_id:
                raise UserFacingError("This suggestion belongs to another server.")
            if approve:
                # A member's words become a prompt everyone receives: stored escaped, so they
                # show as written (no masked links, formatting or mentions).
                words = self.ctx.cipher.decrypt(row.text_enc) or ""
                prompt = Prompt(
                    key=q.new_custom_key(),
                    area=row.area,
                    text=safe_block(words, limit=MAX_SUGGESTION),
                    custom=True,
                    suggested_by=None if row.anonymous else row.user_id,
                )
                await q.save_prompt(
                    session, guild_id=row.guild_id, prompt=prompt, action="approve", now=now
                )
                row.prompt_key = prompt.key
        action = "approve" if approve else "decline"
        await self.moderation.audit(
            guild_id, actor_id, f"prompts.suggestion.{action}", target_id=suggestion_id
        )
        if approve:
            return f"Approved: it is now prompt `{row.prompt_key}`."
        return "Declined. The member isn't notified."

    # ------------------------------------------------------------------- subscriptions

    async def set_subscription(self, guild_id: int, user_id: int, status: str) -> None:
        """Subscribe, pause or unsubscribe a member from DM prompts in one server."""
        async with self.ctx.transaction() as session:
            await set_prompt_subscription(
                session, guild_id=guild_id, user_id=user_id, status=status, now=self.ctx.now()
            )
        log.info("prompts %s guild=%s user=%s", status, guild_id, user_id)

    async def pause_everywhere(self, user_id: int) -> builtins.list[int]:
        """Pause DM prompts in every server where the member receives them; those servers."""
        async with self.ctx.transaction() as session:
            guild_ids = await pause_all_subscriptions(session, user_id=user_id, now=self.ctx.now())
        log.info("prompts paused everywhere user=%s servers=%d", user_id, len(guild_ids))
        return guild_ids
