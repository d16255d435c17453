"""Test helpers for reflection prompts end to end: a server set up with its reflections
channel, and schedules created the way moderators create them."""

from __future__ import annotations

import simcord
from sqlalchemy import select

from bot.db.models import PromptSchedule
from tests.e2e.conftest import Community


async def set_up_reflections(community: Community) -> simcord.ChannelHandle:
    """Run /setup (which makes the reflections channel); that channel."""
    await community.moderator.slash(community.general, "setup")
    return community.guild.channels["reflections"]


async def create_schedule(community: Community, **options: object) -> int:
    """``/prompts schedule`` with ``options`` as the moderator; the new schedule's id."""
    result = await community.moderator.slash(community.general, "prompts schedule", **options)
    assert "created" in result.response.content, result.response.content
    async with community.env.bot.database.session() as session:
        rows = (await session.execute(select(PromptSchedule))).scalars().all()
    return max(r.id for r in rows)
