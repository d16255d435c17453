"""Lantern's components on Discord: every one checks who acts and reports errors kindly.

Persistent buttons are ``PersistentButton`` subclasses, one per template in
``bot.domain.components``; the custom id carries the state's key (``lantern:<feature>:<action>:
<id>``) and the state is read back through a service on click, so they keep working after a
restart. ``view_of`` renders the specs the services return.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Self

import discord

from bot.domain.components import (
    CUSTOM_ID_PREFIX,
    EXPIRED_CARD,
    EXPIRED_FORM,
    FORM_LATE,
    FORM_STILL_LATE,
    MAX_CUSTOM_ID,
    MODAL_PREFIX,
    Button,
    custom_id,
)
from bot.domain.text import fit, plain_inline
from bot.errors import NotYourComponentError
from bot.gateway.boundary import report_interaction_error, send_private
from bot.gateway.checks import ensure_moderator

if TYPE_CHECKING:
    from bot.services import Services

__all__ = [
    "CUSTOM_ID_PREFIX",
    "MAX_CUSTOM_ID",
    "MODAL_PREFIX",
    "Defer",
    "LanternModal",
    "OwnedView",
    "PersistentButton",
    "PreviewConfirm",
    "acknowledge",
    "custom_id",
    "first_answer",
    "modal_answer",
    "view_of",
]

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


def button_of(spec: Button) -> discord.ui.Button[Any]:
    """One ``Button`` spec as a discord.py button."""
    return discord.ui.Button(
        label=spec.label,
        style=_STYLES[spec.style],
        custom_id=spec.custom_id,
        disabled=spec.disabled,
    )


def view_of(specs: Iterable[Button]) -> discord.ui.View:
    """A persistent view holding ``specs``; clicks reach the registered ``PersistentButton``."""
    view = discord.ui.View(timeout=None)
    for spec in specs:
        view.add_item(button_of(spec))
    return view


MAX_MODAL_TITLE = 45
_RAW_STYLES = {"primary": 1, "secondary": 2, "success": 3, "danger": 4}


def raw_components(specs: Sequence[Button]) -> list[dict[str, Any]]:
    """``specs`` as raw component JSON in one action row (cheap to build for 10,000 DMs)."""
    if not specs:
        return []
    buttons: list[dict[str, Any]] = []
    for spec in specs:
        raw: dict[str, Any] = {
            "type": 2,
            "style": _RAW_STYLES[spec.style],
            "label": spec.label,
            "custom_id": spec.custom_id,
        }
        if spec.disabled:
            raw["disabled"] = True
        buttons.append(raw)
    return [{"type": 1, "components": buttons}]


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The bot's services, from any interaction (the client is Lantern's bot)."""
    services: Services = interaction.client.services
    return services


class Defer(Enum):
    """How a press is acknowledged before anything waits on the database (``PersistentButton``)."""

    PRIVATE = "private"
    """"Thinking…" that only the presser sees (in a server; a DM is already private)."""
    PUBLIC = "public"
    """"Thinking…" in the channel; the answer is for everyone there."""
    UPDATE = "update"
    """Nothing shown yet: the card is edited in place, or a private follow-up is sent."""


async def acknowledge(interaction: discord.Interaction[Any], how: Defer) -> None:
    """Defer ``interaction`` as ``how`` says (Discord then allows 15 minutes for the answer)."""
    if how is Defer.UPDATE:
        await interaction.response.defer()
    else:
        private = how is Defer.PRIVATE and interaction.guild is not None
        await interaction.response.defer(ephemeral=private, thinking=True)


class PersistentButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """A button that survives restarts: subclass it with ``template=`` (a spec's pattern).

    ``allowed`` says who may press it (anyone else gets a private refusal and nothing changes),
    ``handle`` does the one service call; both see the template's groups as ``self.match``.
    Any error ends in the error boundary as a kind private reply.

    ``defer`` (or ``deferral`` for a choice per press) acknowledges the press before ``allowed``
    runs, so a button whose check or work reads the database answers Discord at once even when
    a hundred presses arrive together; ``handle`` then only follows up. ``None`` is for a press
    whose first answer is a form (which cannot be deferred) or an in-place edit: ``allowed`` and
    ``opening`` then prepare that answer within ``first_answer``'s time budget, and a slow
    database gets the member an Open button instead of a failed interaction
    (``tests/e2e/test_acknowledgement.py``).
    """

    defer: ClassVar[Defer | None] = None

    def __init__(self, item: discord.ui.Button[Any], match: re.Match[str]) -> None:
        super().__init__(item)
        self.match = match

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match)

    def services(self, interaction: discord.Interaction[Any]) -> Services:
        """The bot's services."""
        return services_of(interaction)

    def deferral(self) -> Defer | None:
        """How this press is acknowledged before the checks (the class's ``defer``)."""
        return self.defer

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether this person may press it; anyone by default."""
        return True

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        """What pressing it does once acknowledged; a subclass that defers defines it."""
        raise NotImplementedError

    async def opening(self, interaction: discord.Interaction[Any]) -> Answer:
        """For a press that is not deferred: read what the first answer needs and return it
        (``modal_answer`` for a form). By default ``handle`` gives the first answer itself."""
        return self.handle

    async def _first(self, interaction: discord.Interaction[Any]) -> Answer:
        if not await self.allowed(interaction):
            return self.refuse
        return await self.opening(interaction)

    async def refuse(self, interaction: discord.Interaction[Any]) -> None:
        """The private reply to someone who may not press it."""
        await send_private(interaction, NotYourComponentError().message)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        how = self.deferral()
        if how is None:
            return True  # checked in ``callback``, inside the first answer's time budget
        try:
            await acknowledge(interaction, how)
            if await self.allowed(interaction):
                return True
            await self.refuse(interaction)
        except Exception as error:
            await report_interaction_error(interaction, error, where=type(self).__name__)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if self.deferral() is None:
                await first_answer(interaction, lambda: self._first(interaction))
            else:
                await self.handle(interaction)
        except Exception as error:
            await report_interaction_error(interaction, error, where=type(self).__name__)


TEMPORARY_PREFIX = CUSTOM_ID_PREFIX + "tmp:"


def expired_key(kind: str, key: int | str) -> str:
    """``<kind>:<key>``: what a short-lived component is about, so a click after it expired can
    be answered with the current card (the ``expired`` handlers of ``LanternBot.install``)."""
    return f"{kind}:{key}"


def temporary_id(prefix: str, about: str) -> str:
    """A custom id unique to one opening: ``<prefix><kind>:<key>:<random>``."""
    return custom_id(prefix.removeprefix(CUSTOM_ID_PREFIX).rstrip(":"), about, secrets.token_hex(6))


def expired_said(interaction: discord.Interaction[Any]) -> str:
    """The first line of an answer to an expired click: a form's words differ from a card's."""
    if interaction.type == discord.InteractionType.modal_submit:
        return EXPIRED_FORM
    return EXPIRED_CARD


def expired_about(custom: str) -> tuple[str, str] | None:
    """The (kind, key) a short-lived component's custom id was about, if it says."""
    for prefix in (TEMPORARY_PREFIX, MODAL_PREFIX):
        if custom.startswith(prefix):
            parts = custom.removeprefix(prefix).split(":")
            if len(parts) == 3:
                return parts[0], parts[1]
    return None


class OwnedView(discord.ui.View):
    """A short-lived view that only its owner may use.

    Its components carry ``lantern:tmp:<kind>:<key>:<random>`` ids, so a click after the view
    timed out (or after a restart) is answered as expired, with the current card for ``about``
    (``expired_key``) when a cog registered one for that kind.
    """

    def __init__(
        self, owner_id: int, *, timeout: float | None = 600, about: str = "none:0"
    ) -> None:
        self.about = about
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        for item in self.children:
            self._mark(item)

    def _mark(self, item: discord.ui.Item[Any]) -> None:
        if getattr(item, "url", None) is None and hasattr(item, "custom_id"):
            item.custom_id = temporary_id(TEMPORARY_PREFIX, self.about)

    def add_item(self, item: discord.ui.Item[Any]) -> Self:
        if hasattr(self, "about"):
            self._mark(item)
        return super().add_item(item)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await send_private(interaction, NotYourComponentError().message)
        return False

    async def on_error(
        self,
        interaction: discord.Interaction[Any],
        error: Exception,
        item: discord.ui.Item[Any],
    ) -> None:
        await report_interaction_error(interaction, error, where=type(self).__name__)


Answer = Callable[[discord.Interaction[Any]], Awaitable[None]]
"""A first answer, ready to give to an interaction: a form, a card, a refusal."""

FORM_BUDGET = 2.0
"""Seconds the reads before a first answer that cannot be deferred may take. Discord drops a
first answer after 3 s, and sending it is a round trip of its own."""


def modal_answer(make: Callable[[], discord.ui.Modal]) -> Answer:
    """The first answer that opens the form ``make`` builds (a new one each time it is given)."""

    async def answer(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(make())

    return answer


async def first_answer(
    interaction: discord.Interaction[Any], prepare: Callable[[], Awaitable[Answer]]
) -> None:
    """Give the answer ``prepare`` reads the database for, if it is ready within
    ``FORM_BUDGET``; otherwise answer at once with a private Open button that gives it when it
    is ready (a form must be the first answer, so it cannot wait behind a "thinking…")."""
    task = asyncio.ensure_future(prepare())
    await asyncio.wait({task}, timeout=FORM_BUDGET)
    if not task.done():
        view = LateAnswerView(interaction.user.id, prepare, task)
        await send_private(interaction, FORM_LATE, view=view)
        return
    answer = task.result()
    await answer(interaction)


class LateAnswerView(OwnedView):
    """ "Open", for an answer that was not ready in time: it gives the answer once it is, and
    reads again if the first reading failed (the error was reported on the click)."""

    def __init__(
        self,
        owner_id: int,
        prepare: Callable[[], Awaitable[Answer]],
        task: asyncio.Future[Answer],
    ) -> None:
        super().__init__(owner_id, timeout=900)
        self.prepare = prepare
        self.task = task
        task.add_done_callback(_retrieved)

    @discord.ui.button(label="Open", style=discord.ButtonStyle.primary)
    async def open(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        reading = self.task
        if reading.done() and (reading.cancelled() or reading.exception() is not None):
            # This click reports the failure (the error boundary); the next one gets a new read.
            self.task = asyncio.ensure_future(self.prepare())
            self.task.add_done_callback(_retrieved)
        await asyncio.wait({reading}, timeout=FORM_BUDGET)
        if not reading.done():
            await interaction.response.edit_message(content=FORM_STILL_LATE, view=self)
            return
        answer = reading.result()
        await answer(interaction)


def _retrieved(task: asyncio.Future[Answer]) -> None:
    """Mark a late reading's failure as seen (asyncio would log it as never retrieved); the
    next click on Open reports it."""
    if not task.cancelled():
        task.exception()


Progress = Callable[[str], Awaitable[None]]


class PreviewConfirm(OwnedView):
    """A moderator's previewed batch (a matching round, a circles round): confirm it, or
    discard it; only the moderator who asked. Confirming re-checks that they are still a
    moderator, shows ``working`` (then ``run``'s progress) and ends with ``run``'s summary."""

    def __init__(
        self,
        owner_id: int,
        about: str,
        labels: tuple[str, str],
        run: Callable[[int, Progress], Awaitable[str]],
    ) -> None:
        """``labels``: the confirm button's label and what shows while ``run`` works."""
        super().__init__(owner_id, timeout=900, about=about)
        self.confirm.label, self.working = labels
        self.run = run

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await ensure_moderator(interaction)  # they may have lost the role since the preview
        await interaction.response.edit_message(content=self.working, view=None)
        self.stop()

        async def progress(text: str) -> None:
            await interaction.edit_original_response(content=text)

        text = await self.run(interaction.user.id, progress)
        await interaction.edit_original_response(content=fit(text))

    @discord.ui.button(label="Discard", style=discord.ButtonStyle.secondary)
    async def discard(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Discarded. Nothing was sent.", view=None)


class LanternModal(discord.ui.Modal):
    """A modal with a custom id unique to this opening, answered only by its owner."""

    live: ClassVar[weakref.WeakValueDictionary[str, LanternModal]] = weakref.WeakValueDictionary()

    def __init__(
        self,
        *,
        title: str,
        owner_id: int,
        timeout: float | None = 1800,
        about: str = "none:0",
    ) -> None:
        super().__init__(
            title=plain_inline(title, limit=MAX_MODAL_TITLE),
            timeout=timeout,
            custom_id=temporary_id(MODAL_PREFIX, about),
        )
        self.owner_id = owner_id
        LanternModal.live[self.custom_id] = self

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await send_private(interaction, NotYourComponentError().message)
        return False

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        await report_interaction_error(interaction, error, where=type(self).__name__)
