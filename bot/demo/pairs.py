"""The pair-space act: the pair matched in the matching act gets its own space, a check-in,
and a private ending."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.db.models import Pair, PairStatus
from bot.demo.world import World

DAY = 86400


async def _matched_pair(world: World) -> Pair:
    """The pair the matching act made (mentor accepted; the space may already be open)."""
    async with world.bot.database.session() as session:
        pair = (
            await session.execute(
                select(Pair).where(Pair.guild_id == world.guild.id)  # type: ignore[arg-type]
            )
        ).scalar()
    if pair is None or pair.id is None:
        raise RuntimeError("the matching act should have matched a pair before this act")
    return pair


async def play_pair_space(world: World) -> None:
    """Open the space, show the opening message, a check-in and a private ending."""
    env: Any = world.env
    bot = world.bot
    pair = await _matched_pair(world)
    if pair.status != PairStatus.ACTIVE or pair.channel_id is None:
        raise RuntimeError(f"the pair space did not open (status {pair.status})")
    handle = next(h for h in world.guild.channels.values() if h.id == pair.channel_id)
    mentee = next(p for p in world.people.values() if p.id == pair.mentee_id)
    mentor = next(p for p in world.people.values() if p.id == pair.mentor_id)
    world.show("both", f"#{handle.name}", world.render(handle.history()[0]))
    await mentee.send(handle, "Hi! So glad to meet you.")
    world.say(mentee.name, "says hi in the space (Lantern only notes that it was active)")

    world.say(mentee.name, "runs /meet to find a weekly time that suits them both")
    met = await mentee.slash(handle, "meet")
    world.show_result(mentee.name, met)
    world.show(
        "both",
        f"#{handle.name} (each reads the times in their own zone)",
        world.render(handle.history()[-1]),
    )

    await env.advance_time(14 * DAY + 1)
    world.say("Two weeks later,", "Lantern's check-in sweep runs")
    await bot.run_sweeps(env.now())
    await env.settle()
    checkin = handle.history()[-1]
    world.show("both", f"#{handle.name}", world.render(checkin))
    result = await mentee.click(checkin, label="Going well")
    world.show_result(mentee.name, result)

    world.say(mentor.name, "runs /pair end with a private note for moderators")
    shown = await mentor.slash(handle, "pair end", reason="Moving abroad, sadly")
    world.show_result(mentor.name, shown)
    assert shown.response is not None
    done = await mentor.click(shown.response.message, label="Yes, end the mentorship")
    world.show_result(mentor.name, done)
    world.show("both", f"#{handle.name}", world.render(handle.history()[-1]))
    try:
        await mentee.send(handle, "one more thing...")
    except Exception as exc:  # simcord refuses like Discord does
        world.say(mentee.name, f"tries to post again and Discord refuses ({exc})")
    world.say("Everyone else", "sees nothing: no announcement anywhere in the server")
