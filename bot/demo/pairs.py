"""The pair-space act: Aiko (mentee) and Ben (mentor) get their own space, a check-in, and a
private ending. If the matching act already matched a pair, that pair is used."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.db.models import ConsentStatus, Introduction, IntroStatus, Pair, PairStatus
from bot.db.queries.members import record_consent, save_answers
from bot.demo.world import World

DAY = 86400

AIKO = {
    "role": "mentee",
    "areas_wanted": ["identity", "culture", "confidence"],
    "languages": ["English", "Japanese"],
    "about": "Japanese-Scottish, 38, rediscovering my mum's side of the family.",
    "share": ["languages", "about"],
}
BEN = {
    "role": "mentor",
    "capacity": 2,
    "areas_offered": ["identity", "culture", "networking"],
    "career_field": "Architecture",
    "about": "Chinese-Welsh; I've walked this road and love company on it.",
    "share": ["career", "about"],
}


async def _matched_pair(world: World) -> int:
    """The pair matching made in an earlier act, or one made here the way matching would."""
    bot = world.bot
    guild_id = world.guild.id
    aiko, ben = world.people["Aiko"], world.people["Ben"]
    now = bot.now()
    async with bot.database.session() as session:
        found = (
            await session.execute(
                select(Pair).where(Pair.guild_id == guild_id)  # type: ignore[arg-type]
            )
        ).scalar()
        if found is not None and found.id is not None:
            return found.id
        for user, answers in ((aiko, AIKO), (ben, BEN)):
            await record_consent(
                session,
                guild_id=guild_id,
                user_id=user.id,
                status=ConsentStatus.ACCEPTED,
                version="v1",
                now=now,
            )
            await save_answers(
                session,
                guild_id=guild_id,
                user_id=user.id,
                answers=answers,
                cipher=bot.cipher,
                now=now,
            )
        reasons = ["You both chose identity exploration and cultural connection"]
        intro = Introduction(
            guild_id=guild_id,
            mentee_id=aiko.id,
            mentor_id=ben.id,
            score=0.92,
            reasons_enc=bot.cipher.encrypt(json.dumps(reasons)),
            status=IntroStatus.ACCEPTED,
            created_at=now,
            expires_at=now + timedelta(days=3),
            decided_at=now,
        )
        session.add(intro)
        await session.flush()
        pair = Pair(
            guild_id=guild_id,
            introduction_id=intro.id,
            mentee_id=aiko.id,
            mentor_id=ben.id,
            status=PairStatus.OPENING,
            created_at=now,
        )
        session.add(pair)
        await session.flush()
        assert pair.id is not None
        return pair.id


async def play_pair_space(world: World) -> None:
    """Open the space, show the opening message, a check-in and a private ending."""
    env: Any = world.env
    bot = world.bot
    pair_id = await _matched_pair(world)
    async with bot.database.session() as session:
        pair = await session.get(Pair, pair_id)
    assert pair is not None
    if pair.status == PairStatus.OPENING:
        world.say("Lantern", "hears that Ben accepted Aiko and opens their private space")
        with env._bot_scope():  # matching dispatches from inside the bot's own work
            bot.dispatch("lantern_pair_accepted", pair_id)
        await env.settle()
    async with bot.database.session() as session:
        pair = await session.get(Pair, pair_id, populate_existing=True)
    assert pair is not None and pair.channel_id is not None
    handle = next(h for h in world.guild.channels.values() if h.id == pair.channel_id)
    mentee = next(p for p in world.people.values() if p.id == pair.mentee_id)
    mentor = next(p for p in world.people.values() if p.id == pair.mentor_id)
    world.show("both", f"#{handle.name}", world.render(handle.history()[0]))
    await mentee.send(handle, "Hi! So glad to meet you.")
    world.say(mentee.name, "says hi in the space (Lantern only notes that it was active)")

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
