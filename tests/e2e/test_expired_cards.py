"""Old cards of short-lived views (issue 13): a click after a restart or after the view timed out
answers "this card has expired" with the current card, never "This interaction failed" — the
/pair end confirmation and its form, "How it's going", the round preview, /journal pages and the
/prompts import preview."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.db.models import Introduction, PairStatus, PromptEntry, Reflection
from tests.e2e.conftest import Community
from tests.e2e.onboarding_flow import labels as _labels
from tests.e2e.pairs_helpers import load_pair, pair_world
from tests.e2e.test_matching import Matchable, _count, round_preview_of_a_former_moderator
from tests.e2e.test_matching import world as world  # the shared fixture

EXPIRED = "This card has expired, so nothing changed."


# --- /pair end -----------------------------------------------------------------------------------


async def test_an_end_confirmation_after_a_restart_asks_again_then_says_it_ended(
    community: Community, bot_factory: Any
) -> None:
    w = await pair_world(community)
    pair, handle = await w.opened_space()
    shown = await w.mentee.slash(handle, "pair end")
    await w.env.restart_bot(bot_factory())
    late = await w.mentee.click(shown.response.message, label="Yes, end the mentorship")
    assert late.acknowledged and late.ephemeral
    said = late.response.content
    assert said.startswith(EXPIRED) and "end this mentorship" in said
    assert _labels(late.response) == ["Yes, end the mentorship", "Keep it"]
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE, "nothing changed"
    # the card it offers works...
    await w.mentee.click(late.response.message, label="Yes, end the mentorship")
    await w.env.settle()
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ENDED
    # ...and the old one, once the mentorship ended, says so instead of asking.
    again = await w.mentee.click(shown.response.message, label="Keep it")
    assert again.response.content.startswith(EXPIRED)
    assert "already ended" in again.response.content and _labels(again.response) == []


async def test_an_end_form_sent_after_a_restart_asks_again(
    community: Community, bot_factory: Any
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    opening = w.channel(pair.channel_id).history()[0]
    shown = await w.mentee.click(opening, label="End mentorship")
    assert shown.modal is not None
    await w.env.restart_bot(bot_factory())
    late = await w.mentee.submit_modal(shown, {"reason": "busy"})
    assert late.acknowledged
    said = late.response.content
    assert said.startswith("This form was open too long") and "end this mentorship" in said
    assert _labels(late.response) == ["Yes, end the mentorship", "Keep it"]
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE


async def test_how_its_going_answers_that_timed_out_are_offered_again(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    opening = w.channel(pair.channel_id).history()[0]
    shown = await w.mentee.click(opening, label="How it's going")
    choices = _labels(shown.response)
    await w.env.advance_time(601)
    late = await w.mentee.click(shown.response.message, label=choices[0])
    assert late.acknowledged and late.response.content.startswith(EXPIRED)
    assert _labels(late.response) == choices


# --- the round preview ----------------------------------------------------------------------------


async def test_a_round_preview_that_timed_out_is_previewed_again(world: Matchable) -> None:
    env, general = world.c.env, world.c.general
    await world.c.moderator.slash(general, "matching mode", introductions="rounds")
    await world.mentee.slash(general, "match request")
    preview = await world.c.moderator.slash(general, "matching round")
    await env.advance_time(901)
    late = await world.c.moderator.click(preview.response.message, label="Send introductions")
    assert late.acknowledged and late.ephemeral
    said = late.response.content
    assert said.startswith(EXPIRED) and "1 introduction" in said
    assert _labels(late.response) == ["Send introductions", "Discard"]
    assert await _count(env, Introduction) == 0, "an expired preview sends nothing"
    await world.c.moderator.click(late.response.message, label="Send introductions")
    await env.settle()
    assert await _count(env, Introduction) == 1


async def test_an_old_round_preview_rechecks_the_moderator(
    world: Matchable, bot_factory: Any
) -> None:
    env = world.c.env
    helper, preview = await round_preview_of_a_former_moderator(world)
    await env.restart_bot(bot_factory())
    pressed = await helper.click(preview.response.message, label="Send introductions")
    assert pressed.acknowledged and "1 introduction" not in pressed.response.content
    assert "for this server's Lantern moderators" in pressed.response.content
    assert await _count(env, Introduction) == 0


# --- /journal ----------------------------------------------------------------------------------


async def test_a_journal_page_after_a_restart_shows_that_page_again(
    community: Community, bot_factory: Any
) -> None:
    env, member = community.env, community.member
    bot = env.bot
    async with bot.database.session() as session:
        for n in range(5):
            session.add(
                Reflection(
                    guild_id=community.guild.id,
                    user_id=member.id,
                    text_enc=bot.cipher.encrypt(f"thought number {n}"),
                    created_at=env.now(),
                )
            )
        await session.commit()
    first = await member.slash(community.general, "journal")
    page_one = first.response.content
    assert "page 1 of 2" in page_one
    older = await member.click(first.response.message, label="Older")
    page_two = older.response.content
    assert "page 2 of 2" in page_two
    await env.restart_bot(bot_factory())
    late = await member.click(first.response.message, label="Newer")
    assert late.acknowledged and late.ephemeral
    said = late.response.content
    assert said.startswith(EXPIRED)
    assert said.removeprefix(EXPIRED).split("\n\n", 1)[1].strip() == page_two.strip()
    assert "Newer" in _labels(late.response) and "Older" in _labels(late.response)
    back = await member.click(late.response.message, label="Newer")
    assert back.response.content == page_one


# --- the import preview ----------------------------------------------------------------------


async def test_an_import_preview_after_a_restart_asks_for_the_file_again(
    community: Community, bot_factory: Any
) -> None:
    mod = community.moderator
    data = b'version = 1\n[[prompt]]\nid = "custom-zz01"\narea = "culture"\ntext = "New one"\n'
    preview = await mod.slash(community.general, "prompts import", file=("lib.toml", data))
    assert "Import preview" in preview.response.content
    await community.env.restart_bot(bot_factory())
    late = await mod.click(preview.response.message, label="Apply import")
    assert late.acknowledged and late.ephemeral
    assert late.response.content.startswith(EXPIRED)
    assert "Run `/prompts import` again with your file" in late.response.content
    async with community.env.bot.database.session() as session:
        keys = (await session.execute(select(PromptEntry.key))).scalars().all()
    assert "custom-zz01" not in keys
