"""The demo's acts, in order. Each feature adds one; each prints what people saw."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
import simcord

from bot.demo.world import World
from bot.domain.text import fit


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


_ANSWERS: dict[str, dict[str, dict[str, Any]]] = {
    "Aiko": {
        "you": {"role": ["mentee"], "languages": ["english", "japanese"], "career_stage": ["mid"]},
        "areas": {"areas_wanted:1": ["identity"], "areas_wanted:2": ["confidence"]},
        "heritage": {
            "heritage_regions": ["east_asia", "europe"],
            "heritage_preference": ["similar"],
        },
        "heritage_more": {"heritage_details:east_asia": ["japanese"]},
        "rhythm": {
            "timezone": "Vancouver",
            "cadence": ["fortnightly"],
            "meeting_times": ["weekday_evening", "weekend_morning"],
        },
        "story": {
            "about": "Nurse in Vancouver, Japanese and Irish, learning to cook my oba's food."
        },
        "privacy": {
            "prompts_dm": ["yes"],
            "share": ["heritage", "about", "timezone", "cadence"],
        },
    },
    "Ben": {
        "you": {"role": ["mentee"], "career_field": "Software"},
        "areas": {"areas_wanted:1": ["networking"], "areas_wanted:2": ["culture"]},
        "heritage": {},
        "heritage_more": {},
        "rhythm": {"timezone": "Manila"},
        "story": {"about": "Developer, Filipino and Danish."},
        "privacy": {"prompts_dm": ["no"], "share": ["about"]},
    },
    "Grace": {
        "you": {"role": ["mentor"], "languages": ["english", "cantonese"]},
        "areas": {"areas_offered": ["identity", "resilience"], "capacity": ["2"]},
        "heritage": {"heritage_regions": ["east_asia"]},
        "heritage_more": {"heritage_details:east_asia": ["hong_kong"]},
        "rhythm": {
            "timezone": "London",
            "cadence": ["monthly"],
            "meeting_times": ["weekday_evening", "weekend_evening"],
        },
        "story": {"about": "Architect in London.", "brings": "Twenty years of finding my place."},
        "privacy": {
            "prompts_dm": ["yes"],
            "share": ["about", "heritage", "timezone", "cadence"],
        },
    },
    "Tomas": {
        "you": {"role": ["both"]},
        "areas": {
            "areas_wanted:1": ["growth"],
            "areas_offered": ["networking"],
            "capacity": ["1"],
        },
        "heritage": {},
        "heritage_more": {},
        "rhythm": {"timezone": "São Paulo"},
        "story": {"about": "Teacher, Brazilian and Korean."},
        "privacy": {"prompts_dm": ["no"]},
    },
    "Lea": {
        "you": {"role": ["mentee"], "languages": ["english", "french"]},
        "areas": {"areas_wanted:1": ["identity"]},
        "heritage": {},
        "heritage_more": {},
        "rhythm": {"timezone": "Toronto"},
        "story": {"about": "Student in Toronto, Haitian and Vietnamese."},
        "privacy": {"prompts_dm": ["no"], "share": ["about", "timezone"]},
    },
    "Sam": {
        "you": {"role": ["mentee"]},
        "areas": {"areas_wanted:1": ["identity"]},
        "heritage": {},
        "heritage_more": {},
        "rhythm": {"timezone": "Mexico City"},
        "story": {"about": "Baker, Mexican and Lebanese."},
        "privacy": {"prompts_dm": ["no"], "share": ["about"]},
    },
}


async def _answer(world: World, name: str, card: Any, page_id: str, *, verbose: bool) -> Any:
    person = world.people[name]
    form = await person.user.click(card, label="Continue")
    if verbose:
        world.show_result(name, form)
    result = await person.user.submit_modal(form, _ANSWERS[name][page_id])
    if verbose:
        world.show(name, "direct message", world.render(result.response))
    return result.response


async def _start(world: World, name: str, *, verbose: bool) -> Any:
    person: simcord.MemberActor = world.people[name]
    if verbose:
        world.show_dm(name, person)
    world.say(name, "presses Start, reads what Lantern keeps and why, and agrees")
    consent = await person.user.click(person.user.dm_channel.last_message, label="Start")
    if verbose:
        world.show(name, "direct message", world.render(consent.response))
    agreed = await person.user.click(consent.response, label="I agree")
    return agreed.response


async def act_onboarding(world: World) -> None:
    """Two mentees and two mentors onboard; Grace resumes after Lantern restarts"""
    card = await _start(world, "Aiko", verbose=True)
    world.show("Aiko", "direct message", world.render(card))
    for page_id in _ANSWERS["Aiko"]:
        world.say("Aiko", f"fills in the '{page_id}' page")
        card = await _answer(world, "Aiko", card, page_id, verbose=page_id in ("rhythm", "privacy"))
    for name in ("Ben", "Tomas"):
        card = await _start(world, name, verbose=False)
        for page_id in _ANSWERS[name]:
            card = await _answer(world, name, card, page_id, verbose=False)
        world.say(name, "answers every page")
        world.show(name, "direct message", world.render(card).splitlines()[0])
    card = await _start(world, "Grace", verbose=False)
    for page_id in ("you", "areas", "heritage"):
        card = await _answer(world, "Grace", card, page_id, verbose=False)
    world.say("Grace", "answers three pages, then Lantern restarts")
    await world.env.restart_bot(world.build_bot())
    world.say("Grace", "presses Continue on the message from before the restart")
    for page_id in ("heritage_more", "rhythm", "story", "privacy"):
        card = await _answer(world, "Grace", card, page_id, verbose=False)
    world.show("Grace", "direct message", world.render(card))
    mei = world.people["Mei (moderator)"]
    world.say("Mei (moderator)", "checks /onboarding status")
    world.show_result("Mei", await mei.slash(world.general, "onboarding status"))


async def act_matching(world: World) -> None:
    """A mentee asks for a mentor and the best fit accepts; then a moderator runs a batch round"""
    aiko, grace = world.people["Aiko"], world.people["Grace"]
    world.say("Aiko", "runs /match request")
    result = await aiko.slash(world.general, "match request")
    world.show_result("Aiko", result)
    cards = [m for m in grace.user.dm_channel.history() if "would like a mentor" in m.content]
    if not cards:
        raise RuntimeError("Grace should have received an introduction")
    world.show("Grace (mentor)", "direct message", world.render(cards[-1]))
    world.say("Grace", "presses Accept")
    await grace.user.click(cards[-1], label="Accept")
    await world.env.settle()
    world.show_dm("Aiko", aiko)
    status = await aiko.slash(world.general, "match status")
    world.show_result("Aiko", status)
    mei = world.people["Mei (moderator)"]
    world.say("Mei (moderator)", "switches to batch rounds: /matching mode rounds")
    world.show_result(
        "Mei", await mei.slash(world.general, "matching mode", introductions="rounds")
    )
    ben, tomas = world.people["Ben"], world.people["Tomas"]
    world.say("Ben", "runs /match request")
    world.show_result("Ben", await ben.slash(world.general, "match request"))
    world.say("Mei (moderator)", "checks /matching queue, then previews /matching round")
    world.show_result("Mei", await mei.slash(world.general, "matching queue"))
    preview = await mei.slash(world.general, "matching round")
    world.show_result("Mei", preview)
    if preview.response is None:
        raise RuntimeError("the round preview should have been shown")
    world.say("Mei (moderator)", "presses Send introductions")
    sent = await mei.click(preview.response.message, label="Send introductions")
    world.show_result("Mei", sent)
    await world.env.settle()
    cards = [m for m in tomas.user.dm_channel.history() if "would like a mentor" in m.content]
    if cards:
        world.show("Tomas (mentor)", "direct message", world.render(cards[-1]))


async def act_pair_space(world: World) -> None:
    """A matched pair gets a private space: the opening message, a check-in, an ending"""
    from bot.demo.pairs import play_pair_space

    await play_pair_space(world)


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
    grace = world.people["Grace"]
    world.say("Grace", "subscribes to prompts by DM, then closes her DMs to the server")
    await grace.slash(world.general, "reflections subscribe")
    world.env.inject_error(
        "POST",
        f"/channels/{grace.user.dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
    )
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
            world.show("Everyone", f"thread {fit(thread.name, 40)}", world.render(last[0]))
    world.say("Mei (moderator)", "checks /prompts schedules: what went out, and what did not")
    world.show_result("Mei", await mei.slash(world.general, "prompts schedules"))


async def act_prompt_library(world: World) -> None:
    """Moderators take the prompt library away, edit it, and bring it back (preview first)"""
    mei = world.people["Mei (moderator)"]
    world.say("Mei (moderator)", "runs /prompts export")
    exported = await mei.slash(world.general, "prompts export")
    world.show_result("Mei", exported)
    assert exported.response is not None
    (attachment,) = exported.response.attachments
    text = (await attachment.read()).decode()
    world.say("Mei (moderator)", f"downloads {attachment.filename} ({len(text):,} characters)")
    start = text.index('[[prompt]]\nid = "growth-03"')
    edited = text[:start] + text[text.index("[[prompt]]", start + 5) :]
    edited += (
        '\n[[prompt]]\nid = "custom-lunar01"\narea = "culture"\n'
        'text = "Which new-year food did your family never skip, and who made it?"\n'
    )
    world.say("Mei (moderator)", "adds a prompt, drops growth-03, and runs /prompts import")
    preview = await mei.slash(
        world.general, "prompts import", file=("library.toml", edited.encode())
    )
    world.show_result("Mei", preview)
    assert preview.response is not None
    world.say("Mei (moderator)", "presses Apply import")
    world.show_result("Mei", await mei.click(preview.response.message, label="Apply import"))


async def act_feedback_and_insights(world: World) -> None:
    """The ended pair is asked how it went, privately; a moderator sees totals in /insights"""
    from bot.demo.insights import play_feedback_and_insights

    await play_feedback_and_insights(world)


async def act_circles(world: World) -> None:
    """Peer circles: members wait for one around an area; a moderator forms a round"""
    from bot.demo.circles import play_circles

    for name in ("Lea", "Sam"):
        world.people[name] = world.guild.add_member(world.env.create_user(name.lower()))
        await world.env.settle()
        card = await _start(world, name, verbose=False)
        for page_id in _ANSWERS[name]:
            card = await _answer(world, name, card, page_id, verbose=False)
        world.say(name, "joins the server and answers every page")
    await play_circles(world)


ACTS: tuple[Callable[[World], Awaitable[None]], ...] = (
    act_setup,
    act_members_join,
    act_onboarding,
    act_matching,
    act_pair_space,
    act_reflection_prompts,
    act_prompt_library,
    act_feedback_and_insights,
    act_circles,
)
