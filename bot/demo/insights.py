"""The feedback and insights act: both members of the pair that ended are asked, privately,
how it went; a moderator then sees the program's health as a chart (saved next to the
transcript) and a CSV, in totals only."""

from __future__ import annotations

from typing import Any

import simcord

from bot.demo.world import World
from bot.domain import feedback as d
from bot.domain.text import fit_lines


def _card(actor: simcord.MemberActor) -> Any:
    """The newest feedback card in ``actor``'s DMs."""
    for message in reversed(actor.user.dm_channel.history()):
        if any(
            getattr(c, "custom_id", "").startswith("lantern:feedback:")
            for row in message.components
            for c in getattr(row, "children", ())
        ):
            return message
    raise RuntimeError("the pair's ending should have sent a feedback card")


def _same(actor: simcord.MemberActor, message_id: int) -> Any:
    """The message ``message_id`` in ``actor``'s DMs as it reads now (cards edit in place)."""
    return next(m for m in actor.user.dm_channel.history() if m.id == message_id)


async def play_feedback_and_insights(world: World) -> None:
    """Aiko answers the three questions and shares a few words; Grace skips; Mei looks."""
    aiko, grace = world.people["Aiko"], world.people["Grace"]
    card = _card(aiko)
    world.show("Aiko", "direct message, sent when the mentorship ended", world.render(card))
    world.say("Aiko", "presses 5 (the card moves on to the next question)")
    await aiko.user.click(card, label="5")
    world.show("Aiko", "the same direct message, now", world.render(_card(aiko)))
    world.say("Aiko", "answers Yes, she would recommend mentoring here")
    await aiko.user.click(_card(aiko), label="Yes")
    form = await aiko.user.click(_card(aiko), label="Add words moderators may read")
    world.show_result("Aiko", form)
    await aiko.user.submit_modal(
        form, {"words": "Grace helped me talk to my mum about Penang. Thank you!"}
    )
    world.show("Aiko", "the same direct message, now", world.render(_same(aiko, card.id)))
    grace_card = _card(grace)
    world.say("Grace", "skips both questions and presses Finish (Aiko never sees either card)")
    await grace.user.click(grace_card, label="Skip")
    await grace.user.click(_card(grace), label="Skip")
    await grace.user.click(_card(grace), label="Finish")
    world.show("Grace", "her direct message, now", world.render(_same(grace, grace_card.id)))

    mei = world.people["Mei (moderator)"]
    world.say("Mei (moderator)", "runs /insights chart for all time")
    # Drawing takes a second or two of real time in a worker thread (more on a busy machine):
    # let the simulated Discord wait for it as long as the real one does for a deferred answer.
    world.env.settle_timeout = max(world.env.settle_timeout, 60.0)
    result = await mei.slash(world.general, "insights chart", period="all")
    world.show_result("Mei", result)
    message = result.followups[0] if result.followups else result.response
    if message is not None and message.attachments:
        png = await message.attachments[0].read()
        saved = world.save("insights.png", png)
        world.say("(demo)", f"saved the chart Mei received: {saved}")
    world.say("Mei (moderator)", "runs /insights export for the last 30 days")
    exported = await mei.slash(world.general, "insights export", period="30")
    world.show_result("Mei", exported)
    message = exported.followups[0] if exported.followups else exported.response
    if message is not None and message.attachments:
        sheet = (await message.attachments[0].read()).decode()
        world.show("Mei", "insights.csv (first lines)", fit_lines(sheet.splitlines(), 400))
    world.say("(note)", d.PRIVACY)
