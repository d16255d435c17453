"""/meet end to end: the times are posted in the pair space for both (each reads them in their
own zone), the answer to the invoker stays private, elsewhere a private error, a partner who
left is said plainly, and a new space's opening message carries the best overlap."""

from __future__ import annotations

import re
from typing import Any

import simcord

from bot.errors import UserFacingError
from tests.e2e.conftest import Community
from tests.e2e.pairs_helpers import MENTOR_ANSWERS, give_profile, pair_world
from tests.factories import MENTEE_DEFAULTS

STAMP = re.compile(r"<t:(\d+):F>, then every week on that day at <t:\1:t>")

MANILA: dict[str, Any] = {
    **MENTEE_DEFAULTS,
    "timezone": "Asia/Manila",
    "meeting_times": ["weekday_morning"],
}
VANCOUVER: dict[str, Any] = {
    **MENTOR_ANSWERS,
    "timezone": "America/Vancouver",
    "meeting_times": ["weekday_evening"],
    "share": [*MENTOR_ANSWERS["share"], "timezone", "cadence"],
}


async def _sharing_pair(community: Community) -> Any:
    w = await pair_world(community)
    await give_profile(w.bot, community.guild.id, w.mentee.id, MANILA)
    await give_profile(w.bot, community.guild.id, w.mentor.id, VANCOUVER)
    return w


async def test_meet_in_a_pair_space_posts_times_both_can_read(community: Community) -> None:
    w = await _sharing_pair(community)
    pair = await w.opened()
    space = w.channel(pair.channel_id)
    shown = await w.mentee.slash(space, "meet")
    assert shown.ephemeral and "posted the suggested times" in shown.response.content
    post = space.history()[-1]
    assert post.content.startswith(f"<@{w.mentee.id}> asked Lantern for meeting times.")
    assert len(STAMP.findall(post.content)) == 3
    [sent] = [
        r.json
        for r in w.env.http_requests
        if r.method == "POST"
        and r.path == f"/channels/{space.id}/messages"
        and r.json
        and "asked Lantern" in r.json.get("content", "")
    ]
    assert sent["allowed_mentions"] == {"parse": []}  # a suggestion pings no one
    assert "Manila" not in post.content and "Vancouver" not in post.content
    read = await w.mentor.send(space, "Tuesday works for me")  # the partner is right there
    assert read is not None


async def test_meet_outside_a_space_is_a_private_error(community: Community) -> None:
    w = await _sharing_pair(community)
    await w.opened()
    before = len(community.general.history())
    shown = await w.mentee.slash(community.general, "meet")
    simcord.assert_error(w.env, UserFacingError)
    assert (
        shown.ephemeral
        and "works inside your private pair space or circle space" in shown.response.content
    )
    assert len(community.general.history()) == before


async def test_meet_when_the_partner_left(community: Community) -> None:
    w = await _sharing_pair(community)
    pair = await w.opened()
    space = w.channel(pair.channel_id)
    community.guild.remove_member(w.mentor)
    await w.env.settle()
    shown = await w.mentee.slash(space, "meet")
    simcord.assert_error(w.env, UserFacingError)
    assert shown.ephemeral and "isn't in the server anymore" in shown.response.content
    assert not any("asked Lantern for meeting times" in m.content for m in space.history())


async def test_the_opening_message_has_the_best_overlap(community: Community) -> None:
    w = await _sharing_pair(community)
    pair = await w.opened()
    opening = w.channel(pair.channel_id).history()[0]
    cards = {e.title: {f.name: f.value for f in e.fields} for e in opening.embeds}
    [value] = cards["🗓️ When you could meet"].values()
    assert STAMP.search(value) and "`/meet`" in value
    assert sum(len(e) for e in opening.embeds) <= 6000


async def test_a_space_that_refuses_the_post_gives_the_times_privately(
    community: Community,
) -> None:
    w = await _sharing_pair(community)
    pair = await w.opened()
    space = w.channel(pair.channel_id)
    w.env.inject_error(
        "POST",
        f"/channels/{space.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
    )
    shown = await w.mentor.slash(space, "meet")
    assert shown.ephemeral and "couldn't post in this space" in shown.response.content
    assert len(STAMP.findall(shown.response.content)) == 3
