"""The circles service on a real database with a recording ``Spaces``: joining and leaving,
a round's preview and its re-checks at confirmation, one set of circles however many confirm,
the space (skipping who left), members who leave the server or erase their data."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select

from bot.compute import ProcessCompute
from bot.db.models import (
    Circle,
    CircleMember,
    CircleStatus,
    CircleWaiting,
    LeftoverSpace,
    PromptDelivery,
    PromptOccurrence,
)
from bot.domain import circles as d
from bot.errors import UserFacingError
from bot.services.ports import Access, SendFailure, Sent, Target
from tests.factories import count_rows, onboarded
from tests.services.conftest import World
from tests.services.test_matching_rounds import DiesOnce

GUILD = 10
CATEGORY = 100
ALERTS = 77
MODERATOR = 9
PEOPLE = (1, 2, 3, 4)
MENTOR = 20
NAMES = {1: "Ana", 2: "Ben", 3: "Cy", 4: "[evil](http://x) @everyone", MENTOR: "Kenji"}


async def _world(world: World) -> World:
    await world.services.setup.save(
        GUILD, MODERATOR, {"pair_category_id": CATEGORY, "alerts_channel_id": ALERTS}
    )
    world.spaces.guild(GUILD, Mentorship=CATEGORY)
    world.messenger.join(GUILD, *PEOPLE, MENTOR, 5)
    world.messenger.names.update(NAMES)
    cipher, now = world.services.ctx.cipher, world.clock.now
    db, wants = world.database, ["identity", "resilience"]
    for user_id in PEOPLE:
        answers = {"areas_wanted": wants, "about": f"secret story {user_id}"}
        await onboarded(db, cipher, guild_id=GUILD, user_id=user_id, now=now, **answers)
    await onboarded(world.database, cipher, guild_id=GUILD, user_id=MENTOR, now=now, mentor=True)
    return world


async def _join(world: World, people: Sequence[int] = PEOPLE, area: str = "identity") -> None:
    for user_id in people:
        world.clock.advance(minutes=1)
        await world.services.circles.join(GUILD, user_id, area, facilitate=False)


async def _formed(world: World, people: Sequence[int] = PEOPLE) -> Circle:
    """``people`` join, a moderator previews and confirms: the one circle formed."""
    await _join(world, people)
    plan = await world.services.circles.preview_round(GUILD)
    await world.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    [circle] = await world.rows(Circle)
    return circle


async def _members(world: World, circle_id: int) -> set[int]:
    async with world.database.session() as session:
        rows = await session.execute(
            select(CircleMember.user_id).where(CircleMember.circle_id == circle_id)  # type: ignore[arg-type]
        )
        return set(rows.scalars())


async def _waiting(world: World) -> set[int]:
    async with world.database.session() as session:
        rows = await session.execute(select(CircleWaiting.user_id))  # type: ignore[call-overload]
        return set(rows.scalars())


async def test_only_onboarded_consenting_members_join(world: World) -> None:
    w = await _world(world)
    with pytest.raises(UserFacingError) as refused:
        await w.services.circles.join(GUILD, 5, "identity", facilitate=False)
    assert "finished joining" in refused.value.message
    with pytest.raises(UserFacingError) as not_mentor:
        await w.services.circles.join(GUILD, 1, "identity", facilitate=True)
    assert "mentors who offer that area" in not_mentor.value.message
    with pytest.raises(UserFacingError):  # the mentor doesn't offer confidence
        await w.services.circles.join(GUILD, MENTOR, "confidence", facilitate=True)
    assert await _waiting(w) == set()
    text = await w.services.circles.join(GUILD, MENTOR, "identity", facilitate=True)
    assert "Identity exploration" in text and "facilitator" in text


async def test_join_status_switch_and_leave_the_waiting_list(world: World) -> None:
    w = await _world(world)
    circles = w.services.circles
    assert await circles.status(GUILD, 1) == d.STATUS_NONE
    await circles.join(GUILD, 1, "identity", facilitate=False)
    assert "Identity exploration" in await circles.status(GUILD, 1)
    moved = await circles.join(GUILD, 1, "culture", facilitate=False)
    assert "instead of Identity exploration" in moved
    assert "Cultural connection" in await circles.status(GUILD, 1)
    assert await circles.leave(GUILD, 1) == d.LEFT_WAITING
    assert await _waiting(w) == set()
    with pytest.raises(UserFacingError) as nothing:
        await circles.leave(GUILD, 1)
    assert nothing.value.message == d.NOTHING_TO_LEAVE
    assert w.messenger.sent == []  # leaving the list tells nobody


async def test_preview_sends_nothing_and_shows_no_private_field(world: World) -> None:
    w = await _world(world)
    await _join(w)
    plan = await w.services.circles.preview_round(GUILD)
    assert [c.members for c in plan.circles] == [PEOPLE]
    assert "Identity exploration" in plan.text and "Ana" in plan.text
    assert "Resilience" not in plan.text and "secret story" not in plan.text
    assert "](http" not in plan.text and "@everyone" not in plan.text
    assert w.messenger.sent == [] and w.spaces.made() == []
    assert await w.rows(Circle) == []


async def test_confirm_forms_the_circle_and_opens_a_private_space(world: World) -> None:
    w = await _world(world)
    await _join(w)
    plan = await w.services.circles.preview_round(GUILD)
    text = await w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    assert "Formed 1 circle" in text
    [circle] = await w.rows(Circle)
    assert circle.status == CircleStatus.OPEN and await _members(w, circle.id or 0) == set(PEOPLE)
    [space] = w.spaces.made()
    assert circle.channel_id == space.id and space.parent_id == CATEGORY
    assert space.name == f"circle-identity-{circle.id}"
    targets = {o.target for o in space.overwrites}
    assert targets == {Target("everyone", GUILD), Target("bot")} | {
        Target("member", u) for u in PEOPLE
    }
    [(where, opening, cards, _buttons, ping)] = w.spaces.openings
    assert where == space.id and ping == PEOPLE
    assert "Who can see this channel:** the members of this circle, Lantern" in opening
    assert "check in" not in opening  # circles have no check-ins: nothing is noted
    assert "You all chose identity exploration" in opening
    assert "Resilience" not in opening  # nobody's other areas
    card_text = " ".join(f"{c.title} {c.fields}" for c in cards)
    assert "secret story 1" in card_text  # "about" is shared by these members' defaults
    assert "](http" not in card_text and "@everyone" not in card_text
    assert await _waiting(w) == set()


async def test_who_changed_since_the_preview_is_reported_not_regrouped(world: World) -> None:
    w = await _world(world)
    await _join(w)
    plan = await w.services.circles.preview_round(GUILD)
    await w.services.circles.leave(GUILD, 2)  # withdrew from the list
    await w.services.matching.block(GUILD, 4, 3)  # a new block: the later one is left out
    text = await w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    assert "No circle was formed" in text and "fell below 3" in text
    assert "Ben: left the waiting list" in text and "a block was made" in text
    assert await w.rows(Circle) == []
    assert await _waiting(w) == {1, 3, 4}  # rolled back: they keep waiting


async def test_a_member_who_left_the_server_is_dropped_and_the_rest_form(world: World) -> None:
    w = await _world(world)
    await _join(w)
    plan = await w.services.circles.preview_round(GUILD)
    w.messenger.leave(GUILD, 4)
    text = await w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    assert "Formed 1 circle" in text and "left the waiting list or the server" in text
    [circle] = await w.rows(Circle)
    assert await _members(w, circle.id or 0) == {1, 2, 3}


async def test_leftovers_keep_waiting_and_are_told_nothing_changed(world: World) -> None:
    w = await _world(world)
    await _join(w, (1, 2, 3))
    await _join(w, (4,), area="culture")
    plan = await w.services.circles.preview_round(GUILD)
    assert plan.grouping.waiting == (4,)
    await w.services.circles.confirm_round(
        GUILD, MODERATOR, plan.circles, waiting=plan.grouping.waiting
    )
    assert [m.text for m in w.messenger.dms_to(4)] == [d.STILL_WAITING]
    assert await _waiting(w) == {4}


async def test_confirming_twice_forms_one_set_of_circles(world: World) -> None:
    w = await _world(world)
    await _join(w)
    plan = await w.services.circles.preview_round(GUILD)
    await w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    again = await w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    assert "No circle was formed" in again and "already placed" in again
    assert len(await w.rows(Circle)) == 1 and len(w.spaces.made()) == 1


async def test_two_moderators_confirming_at_once_form_one_set_of_circles(world: World) -> None:
    w = await _world(world)
    await _join(w)
    plan = await w.services.circles.preview_round(GUILD)
    await asyncio.gather(
        w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles),
        w.services.circles.confirm_round(GUILD, MODERATOR + 1, plan.circles),
    )
    circles = await w.rows(Circle)
    assert len(circles) == 1 and len(w.spaces.made()) == 1
    assert await count_rows(w.database, CircleMember) == len(PEOPLE)


async def test_a_member_gone_before_the_space_opens_is_skipped(world: World) -> None:
    w = await _world(world)
    await _join(w)
    w.spaces.refuse = SendFailure.MISSING_PERMISSIONS
    plan = await w.services.circles.preview_round(GUILD)
    await w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    [circle] = await w.rows(Circle)
    assert circle.status == CircleStatus.OPENING and circle.space_error == "missing_permissions"
    alerts = [m.text for m in w.messenger.posts_in(ALERTS)]
    assert len(alerts) == 1 and f"circle **#{circle.id}**" in alerts[0]
    w.messenger.leave(GUILD, 2)
    w.spaces.refuse = None
    await w.services.circles.open_pending(w.clock.advance(minutes=5))
    [space] = w.spaces.made()
    assert Target("member", 2) not in {o.target for o in space.overwrites}
    assert await _members(w, circle.id or 0) == {1, 3, 4}
    assert len([m for m in w.messenger.posts_in(ALERTS)]) == 1  # told once


async def test_leaving_a_circle_is_private_and_kind(world: World) -> None:
    w = await _world(world)
    circle = await _formed(w)
    assert circle.channel_id is not None
    assert await w.services.circles.leave(GUILD, 2) == d.LEFT_CIRCLE
    assert (circle.channel_id, 2, Access.REMOVED) in w.spaces.access
    [note] = w.messenger.posts_in(circle.channel_id)
    assert "Someone has stepped away" in note.text and "3 of you" in note.text
    assert "Ben" not in note.text and note.ping == ()
    assert "aren't waiting" in await w.services.circles.status(GUILD, 2)
    assert "circle of 3 around" in await w.services.circles.status(GUILD, 1)


async def test_the_last_two_leaving_closes_the_circle_kindly(world: World) -> None:
    w = await _world(world)
    circle = await _formed(w, (1, 2, 3))
    await w.services.circles.leave(GUILD, 1)
    await w.services.circles.leave(GUILD, 2)
    [closed] = await w.rows(Circle)
    assert closed.status == CircleStatus.CLOSED
    assert [m.text for m in w.messenger.dms_to(3)] == [d.CIRCLE_CLOSED_TEXT]
    assert (circle.channel_id, 3, Access.READ_ONLY) in w.spaces.access
    assert await count_rows(w.database, LeftoverSpace, space_id=circle.channel_id) == 1
    # retention deletes the space on its date
    await w.services.pairs.delete_due(w.clock.advance(days=31))
    assert circle.channel_id in w.spaces.deleted


async def test_leaving_the_server_or_erasing_removes_the_membership_only(world: World) -> None:
    w = await _world(world)
    circle = await _formed(w)
    w.messenger.leave(GUILD, 1)
    await w.services.member_data.member_left(GUILD, 1)
    assert await _members(w, circle.id or 0) == {2, 3, 4}
    export = await w.services.member_data.export(2)
    rows = json.loads(export.content)["data"]["circle_memberships"]
    assert rows == [
        {
            "circle_id": circle.id,
            "user_id": 2,
            "guild_id": GUILD,
            "role": "member",
            "joined_at": rows[0]["joined_at"],
        }
    ]
    await w.services.member_data.erase(3)
    assert await _members(w, circle.id or 0) == {2, 4}
    [kept] = await w.rows(Circle)
    assert kept.status == CircleStatus.OPEN  # the circle stays for the others
    assert (circle.channel_id, 3, Access.REMOVED) in w.spaces.access


async def test_a_facilitator_joins_the_circle_and_its_opening(world: World) -> None:
    w = await _world(world)
    await _join(w, (1, 2, 3))
    await w.services.circles.join(GUILD, MENTOR, "identity", facilitate=True)
    plan = await w.services.circles.preview_round(GUILD)
    assert plan.circles[0].facilitator == MENTOR and "facilitator: Kenji" in plan.text
    await w.services.circles.confirm_round(GUILD, MODERATOR, plan.circles)
    [(_, opening, cards, _, ping)] = w.spaces.openings
    assert ping == (1, 2, 3, MENTOR) and "Kenji has offered to facilitate" in opening
    assert "Facilitator: Kenji" in [c.title for c in cards]


async def test_the_moderator_visibility_choice_applies_to_circle_spaces(world: World) -> None:
    w = await _world(world)
    await w.services.setup.save(GUILD, MODERATOR, {"moderator_role_id": 55})
    w.spaces.guilds[GUILD].roles[55] = "Community Team"
    circle = await _formed(w)
    assert circle.channel_id is not None
    await w.services.pairs.save_settings(GUILD, MODERATOR, {"moderators_see_pairs": True})
    assert Target("role", 55) in {o.target for o in w.spaces.spaces[circle.channel_id].overwrites}
    [note] = w.messenger.posts_in(circle.channel_id)
    assert "Community Team" in note.text and "can now see it" in note.text
    await w.services.pairs.save_settings(GUILD, MODERATOR, {"moderators_see_pairs": False})
    last = w.messenger.posts_in(circle.channel_id)[-1]
    assert "visible only to the members of this circle" in last.text


async def test_two_leaving_at_once_close_the_circle_once(world: World) -> None:
    w = await _world(world)
    circle = await _formed(w, (1, 2, 3))
    await asyncio.gather(w.services.circles.leave(GUILD, 1), w.services.circles.leave(GUILD, 2))
    [closed] = await w.rows(Circle)
    assert closed.status == CircleStatus.CLOSED
    assert [m.text for m in w.messenger.dms_to(3)] == [d.CIRCLE_CLOSED_TEXT]
    assert (circle.channel_id, 3, Access.READ_ONLY) in w.spaces.access


async def test_a_circle_that_never_opened_falls_through_kindly(world: World) -> None:
    w = await _world(world)
    w.spaces.refuse = SendFailure.MISSING_PERMISSIONS
    circle = await _formed(w, (1, 2, 3))
    assert circle.space_id is None
    await w.services.circles.leave(GUILD, 1)
    await w.services.circles.leave(GUILD, 2)
    assert [m.text for m in w.messenger.dms_to(3)] == [d.FELL_THROUGH]
    assert await _waiting(w) == {3}
    w.spaces.refuse = None
    await w.services.circles.open_pending(w.clock.advance(minutes=5))
    assert w.spaces.made() == []  # a closed circle never opens


async def test_meet_suggests_times_in_a_circle_space_for_its_members(world: World) -> None:
    w = await _world(world)
    circle = await _formed(w)
    assert circle.channel_id is not None
    [(_, _opening, cards, _, _)] = w.spaces.openings
    assert cards[-1].title == "🗓️ When you could meet"  # the best overlap for everyone
    answer = await w.services.meeting.suggest(GUILD, circle.channel_id, 1)
    assert "posted the suggested times" in answer
    [post] = w.messenger.posts_in(circle.channel_id)
    assert "asked Lantern for meeting times" in post.text
    with pytest.raises(UserFacingError):
        await w.services.meeting.suggest(GUILD, circle.channel_id, 5)  # not in the circle


async def test_grouping_runs_in_the_worker_process_and_a_dead_worker_changes_nothing(
    world: World,
) -> None:
    """Thousands waiting take seconds of pure Python: the round groups in the bot's worker
    process (the same circles as in a thread), and a worker that dies says so kindly."""
    w = await _world(world)
    await _join(w)
    in_thread = (await w.services.circles.preview_round(GUILD)).circles
    compute = ProcessCompute(poll=0.05)
    w.services.ctx.compute = compute
    try:
        assert (await w.services.circles.preview_round(GUILD)).circles == in_thread
    finally:
        await compute.close()
    dies = DiesOnce()
    w.services.ctx.compute = dies
    try:
        with pytest.raises(UserFacingError) as failed:
            await w.services.circles.preview_round(GUILD)
        assert failed.value.message == d.ROUND_FAILED
        assert (await w.services.circles.preview_round(GUILD)).circles == in_thread
    finally:
        await dies.close()
    assert w.messenger.sent == [] and await w.rows(Circle) == []
    assert await _waiting(w) == set(PEOPLE)


# ------------------------------------------------------------------ a space that vanished


def _told_closed(w: World, user_id: int) -> list[str]:
    """The space-deleted DMs a member got."""
    return [m.text for m in w.messenger.dms_to(user_id) if "space was removed" in m.text]


def _closing_alerts(w: World, circle_id: int | None) -> list[str]:
    return [m.text for m in w.messenger.posts_in(ALERTS) if f"Circle **#{circle_id}**" in m.text]


async def _prompted(w: World) -> tuple[Circle, int]:
    """A circle formed, with a daily 13:00 UTC prompt to circles: the circle and its space."""
    circle = await _formed(w)
    assert circle.channel_id is not None
    await w.services.prompts.create_schedule(
        GUILD, MODERATOR, "daily 13:00", timezone="UTC", channel=False, circles=True
    )
    return circle, circle.channel_id


async def _closed_for_deletion(w: World) -> Circle:
    """The one circle, checked closed because its space was deleted."""
    [closed] = await w.rows(Circle)
    assert closed.status == CircleStatus.CLOSED and closed.close_reason == d.SPACE_DELETED
    return closed


async def test_a_deleted_circle_space_closes_it_and_tells_each_member_once(world: World) -> None:
    w = await _world(world)
    circle = await _formed(w)
    space_id = circle.channel_id
    assert space_id is not None
    w.messenger.leave(GUILD, 4)  # left the server since: nobody to tell
    w.spaces.vanish(space_id)
    await w.services.pairs.space_vanished(space_id)  # the delete event (as the listener calls)
    await w.services.pairs.space_vanished(space_id)  # and again: nothing more happens
    closed = await _closed_for_deletion(w)
    assert closed.space_id is None  # forgotten: nothing posts to it or finds it again
    for user_id in (1, 2, 3):
        [text] = _told_closed(w, user_id)
        assert "Identity exploration" in text and "`/circle join`" in text
        assert "nothing you wrote anywhere else" in text
    assert w.messenger.dms_to(4) == []
    [alert] = _closing_alerts(w, circle.id)
    assert "space was deleted" in alert and "3 of its 4 members" in alert
    assert w.messenger.posts_in(space_id) == []
    status = await w.services.circles.status(GUILD, 1)
    assert "closed on" in status and "removed from the server" in status
    assert "`/circle join`" in status
    with pytest.raises(UserFacingError) as nothing:
        await w.services.circles.leave(GUILD, 2)
    assert nothing.value.message == d.NOTHING_TO_LEAVE
    await w.services.circles.join(GUILD, 2, "identity", facilitate=False)  # a new circle
    assert "waiting list" in await w.services.circles.status(GUILD, 2)


async def test_prompts_skip_a_circle_whose_space_was_deleted(world: World) -> None:
    w = await _world(world)
    _, space_id = await _prompted(w)
    w.spaces.vanish(space_id)
    await w.services.pairs.space_vanished(space_id)
    await w.services.delivery.run_due(w.clock.advance(hours=1))
    assert w.messenger.posts_in(space_id) == []
    assert await count_rows(w.database, PromptOccurrence) == 1  # the prompt was due
    assert await count_rows(w.database, PromptDelivery) == 0  # and no circle was sent it


async def test_a_failing_prompt_and_the_delete_event_at_once_tell_each_member_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete event reaches this process and another one just as a prompt post meets
    Unknown Channel: the circle closes once, each member gets one DM, moderators one line."""
    w = await _world(world)
    circle, space_id = await _prompted(w)
    w.spaces.vanish(space_id)
    other = w.second_process()
    events: list[asyncio.Future[None]] = []
    post = w.messenger.post

    async def deleted_meanwhile(channel_id: int, text: str, **options: Any) -> Sent:
        if channel_id != space_id:
            return await post(channel_id, text, **options)
        for services in (w.services, other):  # the delete events arrive as the post fails
            events.append(asyncio.ensure_future(services.pairs.space_vanished(space_id)))
        return SendFailure.UNKNOWN_CHANNEL

    monkeypatch.setattr(w.messenger, "post", deleted_meanwhile)
    await w.services.delivery.run_due(w.clock.advance(hours=1))
    await asyncio.gather(*events)
    assert len(events) == 2
    await _closed_for_deletion(w)
    for user_id in PEOPLE:
        assert len(_told_closed(w, user_id)) == 1, user_id
    assert len(_closing_alerts(w, circle.id)) == 1
    [delivery] = await w.rows(PromptDelivery)
    assert delivery.status == "no_channel"


async def test_a_failing_prompt_alone_finds_the_deleted_space(world: World) -> None:
    w = await _world(world)
    _, space_id = await _prompted(w)
    w.spaces.vanish(space_id)  # no delete event ever came
    w.messenger.missing_channels.add(space_id)
    await w.services.delivery.run_due(w.clock.advance(hours=1))
    await _closed_for_deletion(w)
    assert all(len(_told_closed(w, u)) == 1 for u in PEOPLE)


async def test_a_passing_fault_never_closes_a_circle(world: World) -> None:
    """A post refused as "not found" while Discord still has the space (or can't say)."""
    w = await _world(world)
    _, space_id = await _prompted(w)
    w.messenger.post_failures[space_id] = [SendFailure.NOT_FOUND]
    await w.services.delivery.run_due(w.clock.advance(hours=1))
    assert w.messenger.post_failures[space_id] == []  # the post was tried, and refused
    w.spaces.flaky.add(space_id)
    assert await w.services.circles.find_vanished(w.clock.advance(hours=1)) == 0
    [kept] = await w.rows(Circle)
    assert kept.status == CircleStatus.OPEN and kept.channel_id == space_id
    assert not any(_told_closed(w, u) for u in PEOPLE)


async def test_a_space_deleted_while_lantern_was_away_is_found_by_the_sweep(
    world: World,
) -> None:
    w = await _world(world)
    circle = await _formed(w)
    assert circle.channel_id is not None
    assert await w.services.circles.find_vanished(w.clock.now) == 0
    w.spaces.vanish(circle.channel_id)
    assert await w.services.circles.find_vanished(w.clock.advance(hours=1)) == 1
    assert await w.services.circles.find_vanished(w.clock.advance(hours=1)) == 0
    await _closed_for_deletion(w)
    assert all(len(_told_closed(w, u)) == 1 for u in PEOPLE)


async def test_stepping_away_from_a_deleted_space_closes_the_circle_for_the_rest(
    world: World,
) -> None:
    """The note that someone left meets Unknown Channel: the others learn what happened."""
    w = await _world(world)
    circle = await _formed(w)
    assert circle.channel_id is not None
    w.spaces.vanish(circle.channel_id)
    w.messenger.missing_channels.add(circle.channel_id)
    assert await w.services.circles.leave(GUILD, 1) == d.LEFT_CIRCLE
    assert _told_closed(w, 1) == []
    assert all(len(_told_closed(w, u)) == 1 for u in (2, 3, 4))
    [alert] = _closing_alerts(w, circle.id)
    assert "3 of its 3 members" in alert


async def test_a_closed_circle_whose_space_is_deleted_tells_nobody_again(world: World) -> None:
    w = await _world(world)
    circle = await _formed(w, (1, 2, 3))
    await w.services.circles.leave(GUILD, 1)
    await w.services.circles.leave(GUILD, 2)
    assert circle.channel_id is not None
    w.spaces.vanish(circle.channel_id)
    await w.services.pairs.space_vanished(circle.channel_id)
    [closed] = await w.rows(Circle)
    assert closed.close_reason == d.TOO_FEW and closed.space_id is None
    assert [m.text for m in w.messenger.dms_to(3)] == [d.CIRCLE_CLOSED_TEXT]
    assert _closing_alerts(w, circle.id) == []
    assert await count_rows(w.database, LeftoverSpace, space_id=circle.channel_id) == 0
    assert "as the others stepped away" in await w.services.circles.status(GUILD, 3)
