"""Reflections service: a DM reply becomes a private reflection (and nothing else does), only
the author reads or shares it, the journal pages, crisis words reach the member alone."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.db.models import Pair, PairStatus, PromptDelivery, Reflection
from bot.errors import UserFacingError
from bot.services.reflections import NotTheAuthorError, NotYourPromptError
from tests.factories import add_row, onboarded
from tests.services.conftest import World

GUILD = 10
MOD = 7
CHANNEL = 77
AUTHOR = 101
OTHER = 102
PAIR_CHANNEL = 500


async def _pair(world: World) -> Pair:
    """AUTHOR's active pair, whose space is PAIR_CHANNEL."""
    pair = Pair(
        guild_id=GUILD,
        mentee_id=AUTHOR,
        mentor_id=300,
        status=PairStatus.ACTIVE,
        channel_id=PAIR_CHANNEL,
        created_at=world.clock.now,
    )
    return await add_row(world.database, pair)


async def _delivered(world: World, *, pair: bool = False) -> dict[int, PromptDelivery]:
    """A prompt sent to the channel and by DM to AUTHOR and OTHER; their DM deliveries."""
    await world.services.setup.save(GUILD, MOD, {"reflections_channel_id": CHANNEL})
    world.messenger.join(GUILD, AUTHOR, OTHER)
    for user_id in (AUTHOR, OTHER):
        await world.services.prompts.set_subscription(GUILD, user_id, "subscribed")
    if pair:
        await _pair(world)
    await world.services.prompts.create_schedule(
        GUILD, MOD, "daily 09:00", timezone="UTC", dm=True, prompt="identity-01"
    )
    await world.services.delivery.send_now(GUILD, MOD, 1)
    async with world.database.session() as session:
        rows = (await session.execute(select(PromptDelivery))).scalars().all()
    return {r.user_id: r for r in rows if r.kind == "dm" and r.user_id is not None}


def _thread(world: World) -> int:
    ((_, _, _, thread_id),) = world.messenger.post_threads
    return thread_id


async def test_a_reply_to_a_prompt_dm_becomes_an_encrypted_private_reflection(
    world: World,
) -> None:
    dms = await _delivered(world)
    secret = "My Lola's adobo and my dad's stew on one table"
    saved = await world.services.reflections.save_reply(AUTHOR, dms[AUTHOR].message_id, secret)
    assert saved is not None and "private journal" in saved.text
    assert [b.label for b in saved.buttons] == ["Post to the prompt thread"]
    async with world.database.session() as session:
        (row,) = (await session.execute(select(Reflection))).scalars().all()
        raw = (await session.execute(text("SELECT text_enc FROM reflection"))).scalar_one()
    assert (row.user_id, row.prompt_key, row.area) == (AUTHOR, "identity-01", "identity")
    assert "adobo" not in raw and world.services.ctx.cipher.decrypt(raw) == secret
    assert not any("adobo" in m.text for m in world.messenger.sent), "nothing posted anywhere"


async def test_a_reply_to_anything_else_is_not_a_reflection(world: World) -> None:
    dms = await _delivered(world)
    reflections = world.services.reflections
    assert await reflections.save_reply(AUTHOR, 999_999, "hello") is None
    # Replying to someone else's prompt DM id is not theirs either.
    assert await reflections.save_reply(AUTHOR, dms[OTHER].message_id, "hello") is None
    async with world.database.session() as session:
        assert (await session.execute(select(Reflection))).scalars().all() == []


async def test_an_empty_reply_is_refused_kindly(world: World) -> None:
    dms = await _delivered(world)
    with pytest.raises(UserFacingError, match="empty"):
        await world.services.reflections.save_reply(AUTHOR, dms[AUTHOR].message_id, "  \u200b ")


async def test_a_dm_prompt_is_answered_only_by_its_recipient(world: World) -> None:
    dms = await _delivered(world)
    reflections = world.services.reflections
    delivery_id = dms[AUTHOR].id or 0
    assert await reflections.may_reflect(delivery_id, AUTHOR)
    assert not await reflections.may_reflect(delivery_id, OTHER)
    with pytest.raises(NotYourPromptError):
        await reflections.save(OTHER, delivery_id, "sneaky")
    context = await reflections.context(delivery_id)
    assert context.guild_id == GUILD and context.question
    with pytest.raises(UserFacingError, match="expired"):
        await reflections.context(999_999)


async def test_a_pair_prompt_is_answered_by_either_member_only(world: World) -> None:
    await _pair(world)
    await world.services.prompts.create_schedule(
        GUILD, MOD, "daily 09:00", timezone="UTC", channel=False, pairs=True, prompt="growth-01"
    )
    await world.services.delivery.send_now(GUILD, MOD, 1)
    async with world.database.session() as session:
        (delivery,) = (await session.execute(select(PromptDelivery))).scalars().all()
    reflections = world.services.reflections
    assert await reflections.may_reflect(delivery.id or 0, AUTHOR)
    assert await reflections.may_reflect(delivery.id or 0, 300)
    assert not await reflections.may_reflect(delivery.id or 0, OTHER)


async def test_only_the_author_can_read_an_excerpt_or_share(world: World) -> None:
    dms = await _delivered(world, pair=True)
    saved = await world.services.reflections.save_reply(
        AUTHOR, dms[AUTHOR].message_id, "adobo and stew on one table, always"
    )
    assert saved is not None
    assert [b.label for b in saved.buttons] == [
        "Share an excerpt with my pair",
        "Post to the prompt thread",
    ]
    reflections = world.services.reflections
    with pytest.raises(NotTheAuthorError):
        await reflections.excerpt(saved.reflection_id, OTHER)
    with pytest.raises(NotTheAuthorError):
        await reflections.share(OTHER, saved.reflection_id, "thread", "stolen")
    assert world.messenger.posts_in(_thread(world)) == []
    assert await reflections.excerpt(saved.reflection_id, AUTHOR) == (
        "adobo and stew on one table, always"
    )
    world.messenger.names[AUTHOR] = "Kai"
    done = await reflections.share(AUTHOR, saved.reflection_id, "pair", "adobo and stew")
    assert done.startswith("Shared.")
    (post,) = world.messenger.posts_in(PAIR_CHANNEL)
    assert post.text.startswith("**Kai** shared from their reflection on *")
    assert "adobo and stew" in post.text and "always" not in post.text
    await reflections.share(AUTHOR, saved.reflection_id, "thread", "on one table")
    assert len(world.messenger.posts_in(_thread(world))) == 1
    async with world.database.session() as session:
        row = await session.get(Reflection, saved.reflection_id)
    assert row is not None and row.shared_pair_at is not None and row.shared_thread_at is not None


async def test_sharing_needs_somewhere_to_share_into(world: World) -> None:
    dms = await _delivered(world)
    saved = await world.services.reflections.save_reply(AUTHOR, dms[AUTHOR].message_id, "mine")
    assert saved is not None
    reflections = world.services.reflections
    with pytest.raises(UserFacingError, match="active pair space"):
        await reflections.share(AUTHOR, saved.reflection_id, "pair", "mine")
    with pytest.raises(UserFacingError, match="empty"):
        await reflections.share(AUTHOR, saved.reflection_id, "thread", " ")
    world.messenger.missing_channels.add(_thread(world))
    with pytest.raises(UserFacingError, match="can't reach that space"):
        await reflections.share(AUTHOR, saved.reflection_id, "thread", "mine")
    async with world.database.session() as session:
        row = await session.get(Reflection, saved.reflection_id)
    assert row is not None and row.shared_thread_at is None


async def test_crisis_words_show_resources_to_the_member_alone(world: World) -> None:
    await onboarded(
        world.database,
        world.services.ctx.cipher,
        guild_id=GUILD,
        user_id=AUTHOR,
        now=world.clock.now,
        timezone="Europe/London",
    )
    dms = await _delivered(world)
    before = len(world.messenger.sent)
    saved = await world.services.reflections.save_reply(
        AUTHOR, dms[AUTHOR].message_id, "Some days I want to die"
    )
    assert saved is not None
    assert "Nobody has been alerted" in saved.text and "Samaritans" in saved.text
    assert len(world.messenger.sent) == before, "no alert, no post"


async def test_the_journal_pages_the_authors_reflections_newest_first(world: World) -> None:
    dms = await _delivered(world, pair=True)
    for n in range(4):
        world.clock.advance(days=1)
        await world.services.reflections.save_reply(AUTHOR, dms[AUTHOR].message_id, f"note {n}")
    await world.services.reflections.save_reply(OTHER, dms[OTHER].message_id, "someone else's")
    journal = world.services.reflections.journal
    first = await journal(GUILD, AUTHOR)
    assert (first.page, first.pages) == (0, 2)
    assert "page 1 of 2, 4 reflections" in first.text
    assert first.text.index("note 3") < first.text.index("note 1")
    assert "note 0" not in first.text and "someone else" not in first.text
    assert len(first.rows) == 3
    assert [b.label for b in first.rows[0]] == ["Share #4 with my pair", "Post #4 to its thread"]
    second = await journal(GUILD, AUTHOR, page=1)
    assert "note 0" in second.text and len(second.rows) == 1
    assert "empty" in (await journal(GUILD, AUTHOR, area="culture")).text
    assert "4 reflections" in (await journal(GUILD, AUTHOR, area="identity")).text
    assert "empty" in (await journal(GUILD + 1, AUTHOR)).text
