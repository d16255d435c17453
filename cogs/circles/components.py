"""The circles round preview: form or discard, only the moderator who asked; an expired
preview is answered with a fresh one (who waits may have changed)."""

from __future__ import annotations

from bot.gateway.components import PreviewConfirm, Progress, expired_key
from bot.gateway.messenger import Preview, expired_preview
from bot.services import Services

FORM_LABELS = ("Form these circles", "Forming circles…")


async def circle_round(services: Services, guild_id: int, owner_id: int) -> Preview:
    """A circles round's preview, with Form and Discard buttons when it would form a circle."""
    plan = await services.circles.preview_round(guild_id)
    waiting = plan.grouping.waiting

    async def form(actor_id: int, progress: Progress) -> str:
        circles = services.circles
        return await circles.confirm_round(
            guild_id, actor_id, plan.circles, waiting=waiting, progress=progress
        )

    view = PreviewConfirm(owner_id, expired_key("circleround", guild_id), FORM_LABELS, form)
    return plan.text, view if plan.circles else None


expired_circle_round = expired_preview(circle_round)
