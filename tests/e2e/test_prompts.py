"""Reflection prompts end to end: schedules on virtual time (timezone, DST, restart, catch-up),
moderator gating, @everyone, DMs closed, an interrupted fan-out, private reflections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import simcord
from discord import app_commands
from sqlalchemy import select, text

from bot.db.models import (
    AuditEntry,
    Pair,
    PairStatus,
    PromptDelivery,
    PromptOccurrence,
    PromptSchedule,
    Reflection,
)
from bot.domain.components import Button
from bot.gateway.dm_sender import HttpDmSender
from bot.services.ports import DmSender, SendFailure
from tests.e2e.conftest import Community, close_dms
from tests.e2e.prompts_helpers import create_schedule, set_up_reflections


async def _subscribe(community: Community, *members: simcord.MemberActor) -> None:
    for member in members:
        result = await member.slash(community.general, "reflections subscribe")
        assert result.ephemeral


async def _advance_to(env: simcord.Env, when: datetime) -> None:
    seconds = (when - env.now()).total_seconds()
    assert seconds >= 0
    await env.advance_time(seconds)


def _prompt_posts(channel: simcord.ChannelHandle) -> list[object]:
    return [m for m in channel.history() if "A reflection prompt" in (m.content or "")]


def _prompt_dms(member: simcord.MemberActor) -> list[object]:
    return [
        m for m in member.user.dm_channel.history() if "A reflection prompt" in (m.content or "")
    ]


@dataclass
class CrashingSender:
    """The real DM sender, except that one send crashes like a killed process."""

    crash_on: int
    inner: DmSender | None = None
    calls: int = 0

    async def open_dm(self, user_id: int) -> int | SendFailure:
        assert self.inner is not None
        return await self.inner.open_dm(user_id)

    async def send(
        self, channel_id: int, text: str, *, buttons: Sequence[Button] = ()
    ) -> int | SendFailure:
        assert self.inner is not None
        self.calls += 1
        if self.calls == self.crash_on:
            raise RuntimeError("simulated crash mid fan-out")
        return await self.inner.send(channel_id, text, buttons=buttons)


async def _occurrences(env: simcord.Env) -> list[PromptOccurrence]:
    async with env.bot.database.session() as session:
        return list(
            (await session.execute(select(PromptOccurrence).order_by(PromptOccurrence.id)))
            .scalars()
            .all()
        )


async def test_weekly_schedule_delivers_once_per_occurrence_in_its_zone_across_dst_and_restart(
    community: Community, bot_factory
) -> None:  # type: ignore[no-untyped-def]
    env = community.env
    reflections = await set_up_reflections(community)
    await _subscribe(community, community.member)
    await create_schedule(
        community, when="every Monday 09:00", timezone="America/New_York", dm=True
    )
    # 2026-01-05 is a Monday: 09:00 EST is 14:00 UTC.
    await _advance_to(env, datetime(2026, 1, 5, 13, 59, tzinfo=UTC))
    await env.bot.run_sweeps(env.now())
    assert _prompt_posts(reflections) == []
    await env.advance_time(61)
    await env.bot.run_sweeps(env.now())
    await env.bot.run_sweeps(env.now())  # an overlapping run sends nothing more
    assert len(_prompt_posts(reflections)) == 1
    assert len(_prompt_dms(community.member)) == 1
    (first,) = await _occurrences(env)
    thread = env.bot.get_channel(first.thread_id)
    assert thread is not None and thread.name.startswith("Reflections"), "a thread for answers"

    # A restart with the same database does not resend.
    await env.restart_bot(bot_factory())
    await env.bot.run_sweeps(env.now())
    assert len(_prompt_posts(reflections)) == 1

    # Across New York's spring change (8 March): Monday 9 March 09:00 EDT is 13:00 UTC.
    await _advance_to(env, datetime(2026, 3, 2, 14, 0, 30, tzinfo=UTC))
    await env.bot.run_sweeps(env.now())  # the outage since January: only recent ones go out
    before = len(_prompt_posts(reflections))
    await _advance_to(env, datetime(2026, 3, 9, 12, 59, tzinfo=UTC))
    await env.bot.run_sweeps(env.now())
    assert len(_prompt_posts(reflections)) == before
    await env.advance_time(120)
    await env.bot.run_sweeps(env.now())
    assert len(_prompt_posts(reflections)) == before + 1
    sent = [o for o in await _occurrences(env) if o.status != "skipped"]
    dues = [o.due_at for o in sent]
    assert datetime(2026, 3, 9, 13, tzinfo=UTC) in dues
    assert len(dues) == len(set(dues))
    # Every sent occurrence is a Monday 09:00 in New York.
    from zoneinfo import ZoneInfo

    for due in dues:
        local = due.astimezone(ZoneInfo("America/New_York"))
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    # Rotation: no prompt repeated yet.
    keys = [o.prompt_key for o in sent]
    assert len(keys) == len(set(keys))


async def test_catch_up_sends_a_recent_miss_once_and_skips_older(community: Community) -> None:
    env = community.env
    reflections = await set_up_reflections(community)
    await create_schedule(community, when="daily 09:00", timezone="Europe/London")
    # Down from before 09:00 on the 1st until 09:30 on the 3rd: the 1st and 2nd are too old.
    await _advance_to(env, datetime(2026, 1, 3, 9, 30, tzinfo=UTC))
    await env.bot.run_sweeps(env.now())
    await env.bot.run_sweeps(env.now())
    assert len(_prompt_posts(reflections)) == 1
    occurrences = await _occurrences(env)
    by_status = {o.due_at.day: o.status for o in occurrences}
    assert by_status == {1: "skipped", 2: "skipped", 3: "done"}
    # Down past the window: nothing is sent late, the miss is recorded as skipped.
    await _advance_to(env, datetime(2026, 1, 4, 10, 30, tzinfo=UTC))
    await env.bot.run_sweeps(env.now())
    assert len(_prompt_posts(reflections)) == 1
    assert (await _occurrences(env))[-1].status == "skipped"


async def test_non_moderator_cannot_see_or_use_prompts(community: Community) -> None:
    env = community.env
    assert not any(
        c.startswith("prompts") for c in community.member.available_commands(community.general)
    )
    with pytest.raises(simcord.SetupError):
        await community.member.slash(community.general, "prompts schedule", when="daily 09:00")
    env.bot.tree.get_command("prompts").default_permissions = None
    await env.bot.tree.sync()
    result = await community.member.slash(community.general, "prompts schedule", when="daily 09:00")
    simcord.assert_error(env, app_commands.CheckFailure)
    assert "moderators" in result.response.content
    async with env.bot.database.session() as session:
        assert (await session.execute(select(PromptSchedule))).scalars().all() == []


async def test_moderator_everyone_text_pings_no_one_and_is_audited(community: Community) -> None:
    env = community.env
    reflections = await set_up_reflections(community)
    await _subscribe(community, community.member)
    result = await community.moderator.slash(
        community.general,
        "prompts add",
        area="identity",
        text="@everyone what does home mean to you? <@&123>",
    )
    key = result.response.content.split("`")[1]
    schedule_id = await create_schedule(community, when="daily 09:00", prompt=key, dm=True)
    sent = await community.moderator.slash(
        community.general, "prompts send-now", schedule=schedule_id
    )
    assert "1 sent" in sent.response.content and "posted" in sent.response.content
    post = _prompt_posts(reflections)[-1]
    dm = _prompt_dms(community.member)[-1]
    for message in (post, dm):
        assert "what does home mean" in message.content
        assert not message.mention_everyone
        assert message.role_mentions == []
    posts = [r for r in env.http_requests if r.method == "POST" and r.path.endswith("/messages")]
    assert all((r.json or {}).get("allowed_mentions", {}).get("parse") == [] for r in posts)
    async with env.bot.database.session() as session:
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert {"prompts.add", "prompts.schedule", "prompts.send_now"} <= set(actions)


async def test_dms_closed_member_is_skipped_and_recorded_while_others_receive(
    community: Community,
) -> None:
    env = community.env
    await set_up_reflections(community)
    others = [community.guild.add_member(env.create_user(f"m{i}")) for i in range(3)]
    await env.settle()
    await _subscribe(community, community.member, *others)
    closed = others[1]
    close_dms(env, closed.user)
    schedule_id = await create_schedule(community, when="daily 09:00", dm=True, channel=False)
    result = await community.moderator.slash(
        community.general, "prompts send-now", schedule=schedule_id
    )
    assert "3 sent, 1 DMs closed, 0 failed" in result.response.content
    assert _prompt_dms(closed) == []
    for member in (community.member, others[0], others[2]):
        assert len(_prompt_dms(member)) == 1
    # The member is marked and not retried next time.
    result = await community.moderator.slash(
        community.general, "prompts send-now", schedule=schedule_id
    )
    assert "3 sent, 0 DMs closed" in result.response.content


async def test_interrupted_fan_out_resumes_without_resending(
    community: Community, bot_factory
) -> None:  # type: ignore[no-untyped-def]
    env = community.env
    await set_up_reflections(community)
    members = [community.guild.add_member(env.create_user(f"r{i}")) for i in range(6)]
    await env.settle()
    await _subscribe(community, *members)
    await create_schedule(community, when="daily 09:00", dm=True, channel=False, timezone="UTC")
    # The fan-out's sender is injected: this one crashes on the fourth message.
    crashing = CrashingSender(crash_on=4)
    bot = bot_factory(dm_sender=crashing)
    crashing.inner = HttpDmSender(bot)
    await env.restart_bot(bot)
    await _advance_to(env, datetime(2026, 1, 1, 9, 0, 1, tzinfo=UTC))
    with pytest.raises(RuntimeError):
        await env.bot.run_sweeps(env.now())
    received = sum(len(_prompt_dms(m)) for m in members)
    assert 0 < received < len(members)
    await env.restart_bot(bot_factory())
    await env.bot.run_sweeps(env.now())
    for member in members:
        assert len(_prompt_dms(member)) <= 1
    assert sum(len(_prompt_dms(m)) for m in members) >= len(members) - 1  # the in-flight one
    async with env.bot.database.session() as session:
        statuses = (await session.execute(select(PromptDelivery.status))).scalars().all()
    assert "pending" not in statuses


async def test_reflection_is_encrypted_private_and_shared_only_by_its_author(
    community: Community, database
) -> None:  # type: ignore[no-untyped-def]
    env = community.env
    reflections = await set_up_reflections(community)
    mentor = community.guild.add_member(env.create_user("mentor_ren"))
    await env.settle()
    pair_channel = community.guild.create_text_channel("pair-kai-ren")
    async with env.bot.database.session() as session:
        session.add(
            Pair(
                guild_id=community.guild.id,
                mentee_id=community.member.id,
                mentor_id=mentor.id,
                status=PairStatus.ACTIVE,
                channel_id=pair_channel.id,
                created_at=env.now(),
            )
        )
    await _subscribe(community, community.member)
    schedule_id = await create_schedule(community, when="daily 09:00", dm=True)
    await community.moderator.slash(community.general, "prompts send-now", schedule=schedule_id)
    dm = _prompt_dms(community.member)[-1]
    secret = "My Lola's adobo and my dad's Irish stew on one table"
    await community.member.send_dm(
        secret, reference={"channel_id": str(dm.channel.id), "message_id": str(dm.id)}
    )
    reply = community.member.user.dm_channel.last_message
    assert "private journal" in reply.content
    async with env.bot.database.session() as session:
        rows = (await session.execute(select(Reflection))).scalars().all()
        raw = (await session.execute(text("SELECT text_enc FROM reflection"))).scalars().all()
    assert len(rows) == 1 and rows[0].user_id == community.member.id
    assert all("adobo" not in value for value in raw)
    assert env.bot.cipher.decrypt(raw[0]) == secret
    # Nothing visible anywhere until shared.
    assert not any("adobo" in (m.content or "") for m in pair_channel.history())
    assert not any("adobo" in (m.content or "") for m in reflections.history())
    # The journal shows it to its author only.
    mine = await community.member.slash(community.general, "journal")
    assert mine.ephemeral and "adobo" in mine.response.content
    theirs = await mentor.slash(community.general, "journal")
    assert "adobo" not in theirs.response.content
    moderators = await community.moderator.slash(community.general, "journal")
    assert "adobo" not in moderators.response.content
    share_id = f"lantern:reflections:share:pair:{rows[0].id}"
    # The author shares an excerpt into the pair space.
    shown = await community.member.user.click(reply, custom_id=share_id)
    assert shown.modal is not None
    field = shown.modal["components"][0]["components"][0]["custom_id"]
    done = await community.member.user.submit_modal(shown, {field: "adobo and stew on one table"})
    assert "Shared" in done.followups[-1].content
    posted = [
        m.content for m in pair_channel.history() if "shared from their reflection" in m.content
    ]
    assert len(posted) == 1 and "adobo and stew" in posted[0] and "Lola" not in posted[0]


async def test_crisis_words_show_private_resources_and_alert_no_one(community: Community) -> None:
    env = community.env
    await set_up_reflections(community)
    await _subscribe(community, community.member)
    schedule_id = await create_schedule(community, when="daily 09:00", dm=True, channel=False)
    await community.moderator.slash(community.general, "prompts send-now", schedule=schedule_id)
    dm = _prompt_dms(community.member)[-1]
    before = len(env.http_requests)
    await community.member.send_dm(
        "Some days I want to die",
        reference={"channel_id": str(dm.channel.id), "message_id": str(dm.id)},
    )
    reply = community.member.user.dm_channel.last_message
    assert "findahelpline" in reply.content and "Nobody has been alerted" in reply.content
    new_posts = [
        r for r in env.http_requests[before:] if r.method == "POST" and r.path.endswith("/messages")
    ]
    assert [r.path for r in new_posts] == [f"/channels/{dm.channel.id}/messages"]


async def test_suggestion_queue_approves_once(community: Community) -> None:
    await community.member.slash(
        community.general,
        "reflections suggest",
        area="culture",
        text="Which family recipe would you save first?",
        anonymous=True,
    )
    queue = await community.moderator.slash(community.general, "prompts suggestions")
    message = queue.followups[0] if queue.followups else queue.response.message
    assert "family recipe" in message.content
    first = await community.moderator.click(message, label="Approve")
    assert "Approved" in first.followups[-1].content
    again = await community.moderator.click(message, label="Decline")
    assert "already decided" in again.followups[-1].content
    listing = await community.moderator.slash(community.general, "prompts list", area="culture")
    assert "family recipe" in listing.response.content
    member_view = await community.member.slash(community.general, "journal")
    assert "family recipe" not in member_view.response.content


async def test_concurrent_decisions_give_one_outcome(community: Community) -> None:
    env = community.env
    from bot.db.queries.prompts import add_suggestion, decide_suggestion

    async with env.bot.database.session() as session:
        row = await add_suggestion(
            session,
            guild_id=community.guild.id,
            user_id=community.member.id,
            area="growth",
            text="What would rest look like?",
            anonymous=False,
            cipher=env.bot.cipher,
            now=env.now(),
        )

    async def decide(status: str) -> bool:
        async with env.bot.database.session() as session:
            return (
                await decide_suggestion(session, suggestion_id=row.id, status=status, now=env.now())
                is not None
            )

    import asyncio

    outcomes = await asyncio.gather(*(decide(s) for s in ["approved", "declined"] * 4))
    assert sum(outcomes) == 1


async def test_pair_target_posts_a_prompt_from_the_pairs_shared_areas_once(
    community: Community,
) -> None:
    from bot.domain.prompts import load_library
    from tests.e2e.pairs_helpers import load_pair, pair_world

    env = community.env
    w = await pair_world(community)
    pair_id = await w.accept()
    pair = await load_pair(w.bot, pair_id)
    space = w.channel(pair.channel_id)
    opening = len(space.history())
    await create_schedule(community, when="daily 18:00", timezone="UTC", channel=False, pairs=True)
    await _advance_to(env, datetime(2026, 1, 1, 18, 0, 30, tzinfo=UTC))
    await env.bot.run_sweeps(env.now())
    await env.bot.run_sweeps(env.now())  # an overlapping run sends nothing more
    posted = space.history()[opening:]
    assert len(posted) == 1
    # The mentee wants identity and culture; the mentor offers identity, culture, networking.
    library = {p.text: p.area for p in load_library().prompts.values()}
    area = next(a for text, a in library.items() if text in posted[0].content)
    assert area in {"identity", "culture"}
    # Nobody outside the pair saw it.
    assert _prompt_posts(community.guild.channels["reflections"]) == []


async def test_a_schedule_without_a_zone_uses_the_configured_default(community: Community) -> None:
    bot = community.env.bot
    config = bot.config
    bot.config = bot.services.ctx.config = config.model_copy(
        update={"bot": config.bot.model_copy(update={"default_timezone": "Asia/Manila"})}
    )
    await set_up_reflections(community)
    schedule_id = await create_schedule(community, when="daily 18:00")
    async with bot.database.session() as session:
        row = await session.get(PromptSchedule, schedule_id)
    assert row is not None and row.timezone == "Asia/Manila"
