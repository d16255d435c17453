"""The demo's acts, in order. Each feature adds one; each prints what people saw."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.demo.world import World


async def act_setup(world: World) -> None:
    """A moderator sets Lantern up in the server"""
    mei = world.people["Mei (moderator)"]
    world.say("Mei (moderator)", "runs /setup and picks the Community Team as moderators")
    result = await mei.slash(world.general, "setup", moderator_role=world.moderator_role)
    world.show_result("Mei", result)


async def act_members_join(world: World) -> None:
    """Members and mentors join the community"""
    for name in ("Aiko", "Ben", "Grace", "Tomas"):
        world.people[name] = world.guild.add_member(world.env.create_user(name.lower()))
        world.say(name, "joins the server")
    await world.env.settle()


async def act_reflection_prompts(world: World) -> None:
    """A weekly reflection prompt goes out; a member reflects privately and shares an excerpt"""
    from sqlalchemy import select

    from bot.db.models import PromptOccurrence
    from bot.domain.schedule import next_occurrence, parse_schedule

    mei = world.people["Mei (moderator)"]
    aiko = world.people["Aiko"]
    world.say("Aiko", "runs /reflections subscribe")
    world.show_result("Aiko", await aiko.slash(world.general, "reflections subscribe"))
    world.say("Mei (moderator)", "schedules a weekly prompt: every Monday 09:00, Europe/London")
    result = await mei.slash(
        world.general,
        "prompts schedule",
        when="every Monday 09:00",
        timezone="Europe/London",
        areas="identity,culture",
        dm=True,
    )
    world.show_result("Mei", result)
    due = next_occurrence(parse_schedule("every Monday 09:00"), "Europe/London", world.env.now())
    assert due is not None
    await world.env.advance_time((due - world.env.now()).total_seconds() + 30)
    world.say("(time)", f"virtual time moves on to {world.env.now():%A %d %B %H:%M} UTC")
    await world.bot.run_sweeps(world.env.now())
    posts = [
        m
        for m in world.guild.channels["reflections"].history()
        if "A reflection prompt" in (m.content or "")
    ]
    if posts:
        world.show("Everyone", "#reflections, with a thread for answers", world.render(posts[-1]))
    world.show_dm("Aiko", aiko)
    dm = aiko.user.dm_channel.last_message
    assert dm is not None
    world.say("Aiko", "replies to the DM (only Aiko will see this)")
    await aiko.send_dm(
        "My mum's side never talked about why they left Penang. I want to ask her this spring, "
        "before it's too late, and write down the recipes too.",
        reference={"channel_id": str(dm.channel.id), "message_id": str(dm.id)},
    )
    world.show_dm("Aiko", aiko)
    world.say("Aiko", "runs /journal")
    world.show_result("Aiko", await aiko.slash(world.general, "journal"))
    saved = aiko.user.dm_channel.last_message
    world.say("Aiko", "presses 'Post to the prompt thread' and trims the excerpt")
    shown = await aiko.user.click(saved, label="Post to the prompt thread")
    field = shown.modal["components"][0]["components"][0]["custom_id"]
    done = await aiko.user.submit_modal(shown, {field: "I want to ask my mum about Penang."})
    world.show_result("Aiko", done)
    async with world.bot.database.session() as session:
        occurrence = (
            (await session.execute(select(PromptOccurrence).order_by(PromptOccurrence.id.desc())))  # type: ignore[union-attr]
            .scalars()
            .first()
        )
    thread_id = occurrence.thread_id if occurrence else None
    thread = world.bot.get_channel(thread_id) if thread_id else None
    if isinstance(thread, discord.Thread):
        last = [m async for m in thread.history(limit=1)]
        if last:
            world.show("Everyone", f"thread {thread.name[:40]}…", world.render(last[0]))
    world.say("Mei (moderator)", "checks /prompts schedules")
    world.show_result("Mei", await mei.slash(world.general, "prompts schedules"))


ACTS: tuple[Callable[[World], Awaitable[None]], ...] = (
    act_setup,
    act_members_join,
    act_reflection_prompts,
)
