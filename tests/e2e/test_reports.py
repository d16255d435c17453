"""Reports and calls for help end to end: stored first and told truthfully, delivered later by
the sweep when the alerts channel was broken, worked by moderators in /reports, and limited per
member so that a burst of presses makes one alert."""

from __future__ import annotations

import discord
import simcord
from sqlalchemy import select

from bot.db.models import AuditEntry, HelpCall, PairReport, PairStatus, ReportStatus
from bot.errors import UserFacingError
from tests.e2e.conftest import Community, assert_members_cannot_run
from tests.e2e.pairs_helpers import PairWorld, give_profile, in_bot, load_pair, pair_world
from tests.factories import MENTEE_DEFAULTS

HOSTILE = "[click here](https://example.com) @everyone\n**he** keeps <@&1> " + "x" * 900


def _alerts_fault(w: PairWorld) -> dict[str, object]:
    """The alerts channel refuses Lantern's posts (403 Missing Access) until the fault goes."""
    alerts = w.c.guild.channels["lantern-alerts"]
    w.env.inject_error(
        "POST",
        f"/channels/{alerts.id}/messages",
        status=403,
        code=50001,
        message="Missing Access",
        times=None,
    )
    return w.env.backend.faults[-1]


async def _report_row(w: PairWorld) -> PairReport:
    async with w.bot.database.session() as session:
        return (await session.execute(select(PairReport))).scalar_one()


async def test_a_report_to_a_broken_alerts_channel_is_saved_told_truthfully_and_delivered_later(
    community: Community,
) -> None:
    w = await pair_world(community)
    _pair, handle = await w.opened_space()
    before = len(w.alerts())
    fault = _alerts_fault(w)
    owner_before = len(community.guild.owner.dm_channel.history())

    sent = await w.mentee.slash(handle, "pair report", reason=HOSTILE)
    text = sent.response.content
    assert sent.ephemeral
    assert "moderators will see it as soon as their alerts channel works" in text
    assert "went privately to the moderators" not in text
    report = await _report_row(w)
    assert report.alerted_at is None and report.status == ReportStatus.OPEN
    # the server's owner hears that no channel works (once), never the report's words
    owner_dms = community.guild.owner.dm_channel.history()[owner_before:]
    assert len(owner_dms) == 1 and "can't reach the moderators" in owner_dms[0].content
    assert "click here" not in owner_dms[0].content

    # Still broken: the sweep retries, nothing arrives, the owner is not told again.
    await w.env.advance_time(180)
    await in_bot(w.env, w.bot.services.moderation.deliver_pending(w.env.now()))
    assert len(w.alerts()) == before and (await _report_row(w)).alerted_at is None
    assert len(community.guild.owner.dm_channel.history()) == owner_before + 1

    # The moderators fix the channel; the next sweep delivers it once, with its buttons.
    w.env.backend.faults.remove(fault)
    await w.env.advance_time(180)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    await in_bot(w.env, w.bot.services.moderation.deliver_pending(w.env.now()))
    arrived = w.alerts()[before:]
    assert len(arrived) == 1 and "Private report" in arrived[0].content
    assert "[click here](https://example.com)" not in arrived[0].content
    assert "@everyone" not in arrived[0].content.replace("@\u200beveryone", "")
    labels = [c.label for row in arrived[0].components for c in row.children]
    assert labels == ["Acknowledge", "Resolve"]
    assert (await _report_row(w)).alerted_at is not None


async def test_setup_says_when_alerts_cannot_reach_moderators_and_delivers_what_waited(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    me = community.guild.me
    assert me is not None
    hidden = community.guild.create_text_channel(
        "mods-private", overwrites={me: discord.PermissionOverwrite(view_channel=False)}
    )
    await w.env.settle()
    told = await community.moderator.slash(community.general, "setup", alerts_channel=hidden)
    assert "Alerts can't reach you" in told.response.content
    assert "can't see the alerts channel" in told.response.content
    sent = await w.mentee.slash(w.channel(pair.channel_id), "pair report", reason="unkind")
    assert "saved" in sent.response.content and "Lantern keeps trying" in sent.response.content
    again = await community.moderator.slash(community.general, "setup")
    assert "1 saved report(s) or call(s) for help are waiting" in again.response.content
    alerts = community.guild.channels["lantern-alerts"]
    fixed = await community.moderator.slash(community.general, "setup", alerts_channel=alerts)
    assert "1 saved report(s) or call(s) for help were just delivered" in fixed.response.content
    assert "Private report" in (alerts.last_message.content if alerts.last_message else "")
    assert (await _report_row(w)).alerted_at is not None


async def test_a_pause_that_fails_is_told_and_the_alert_still_goes(community: Community) -> None:
    w = await pair_world(community)
    pair, handle = await w.opened_space()
    before = len(w.alerts())
    w.env.inject_error(
        "PUT",
        f"/channels/{pair.channel_id}/permissions/{w.mentor.id}",
        status=403,
        code=50013,
        message="Missing Permissions",
    )
    sent = await w.mentee.slash(handle, "pair report", reason="scared", pause_contact=True)
    text = sent.response.content
    assert "went privately to the moderators" in text
    assert "couldn't pause contact" in text and "can still see it" in text
    assert "can't see your space" not in text
    alerts = w.alerts()[before:]
    assert len(alerts) == 1 and "asked for, but not in place" in alerts[0].content
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE  # the truth
    await w.mentor.send(handle, "still here")  # the space did not change


async def test_moderators_work_the_queue_and_the_reporter_hears_privately(
    community: Community,
) -> None:
    w = await pair_world(community)
    # the team's alerts channel is also seen by helpers, who are not Lantern moderators
    guild = community.guild
    helpers = guild.create_role("Helpers")
    helper = guild.add_member(w.env.create_user("hal_helper"), roles=[helpers])
    me = guild.me
    assert me is not None
    team = guild.create_text_channel(
        "team-alerts",
        overwrites={
            guild.default_role: discord.PermissionOverwrite(view_channel=False),
            helpers: discord.PermissionOverwrite(view_channel=True),
            community.moderator_role: discord.PermissionOverwrite(view_channel=True),
            me: discord.PermissionOverwrite(view_channel=True, send_messages=True),
        },
    )
    await w.env.settle()
    await community.moderator.slash(community.general, "setup", alerts_channel=team)
    _pair, handle = await w.opened_space()
    await w.mentee.slash(handle, "pair report", reason=HOSTILE)
    alert = team.last_message
    assert alert is not None and "Private report" in alert.content
    refused = await helper.click(alert, label="Acknowledge")
    assert "Only this server's moderators" in refused.response.content
    assert (await _report_row(w)).status == ReportStatus.OPEN
    await w.env.advance_time(300)
    opening = handle.history()[0]
    shown = await w.mentor.click(opening, label="How it's going")
    await w.mentor.click(shown.response.message, label="We need help")

    await assert_members_cannot_run(community, "reports")
    listed = await community.moderator.slash(community.general, "reports")
    texts = [listed.response.content] + [f.content for f in listed.followups]
    assert listed.ephemeral and all(f.flags.ephemeral for f in listed.followups)
    assert "2 open report(s)" in texts[0]
    assert texts[1].startswith("🙋 **Call for help") and "just now" in texts[1]  # newest first
    assert texts[2].startswith("🚩 **Report") and "5 min ago" in texts[2]
    assert "[click here](https://example.com)" not in texts[2] and "click here" in texts[2]
    report_card = listed.followups[1]

    dms_before = len(w.mentee.user.dm_channel.history())
    acked = await community.moderator.click(report_card, label="Acknowledge")
    assert "is acknowledged" in acked.response.content
    dms = w.mentee.user.dm_channel.history()[dms_before:]
    assert len(dms) == 1 and "A moderator has seen your report" in dms[0].content
    assert "click here" not in dms[0].content  # the report's words go to moderators only
    twice = await community.moderator.click(report_card, label="Acknowledge")
    assert "already acknowledged" in twice.response.content
    assert len(w.mentee.user.dm_channel.history()) == dms_before + 1

    resolved = await community.moderator.click(report_card, label="Resolve")
    assert "is resolved" in resolved.response.content
    after = await community.moderator.slash(community.general, "reports")
    remaining = [after.response.content] + [f.content for f in after.followups]
    assert "1 open report(s)" in remaining[0] and len(remaining) == 2
    assert remaining[1].startswith("🙋")
    async with w.bot.database.session() as session:
        actions = list(
            (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars()
        )
    assert actions[-2:] == ["report_ack", "report_resolve"]


async def test_twelve_presses_of_we_need_help_make_one_alert(community: Community) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    opening = w.channel(pair.channel_id).history()[0]
    shown = await w.mentee.click(opening, label="How it's going")
    before = len(w.alerts())
    answers = []
    for _ in range(12):
        pressed = await w.mentee.click(shown.response.message, label="We need help")
        answers.append(
            pressed.followups[-1].content if pressed.followups else pressed.response.content
        )
        await w.env.advance_time(4)
    alerts = w.alerts()[before:]
    assert len(alerts) == 1 and f"#{pair.id}" in alerts[0].content
    assert "A moderator has your call for help" in answers[0]
    assert all("already saved" in a and "ask again in" in a for a in answers[1:])
    # twelve at once (every event delivered before any is handled): still one
    await w.env.advance_time(601)
    help_calls = w.bot.services.pairs.ask_help
    await in_bot(w.env, *(help_calls(pair.id, w.mentor.id, "help") for _ in range(12)))
    assert len(w.alerts()) == before + 2
    async with w.bot.database.session() as session:
        calls = list((await session.execute(select(HelpCall))).scalars())
    assert len(calls) == 2 and all(c.alerted_at is not None for c in calls)


async def test_a_report_cooldown_is_kind_and_says_when(community: Community) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    other = community.guild.add_member(w.env.create_user("lee_mentee"))
    await w.env.settle()
    await give_profile(w.bot, community.guild.id, other.id, MENTEE_DEFAULTS)
    second = await w.opened(other)
    await w.mentor.slash(w.channel(pair.channel_id), "pair report", reason="one")
    held = await w.mentor.slash(w.channel(second.channel_id), "pair report", reason="two")
    simcord.assert_error(w.env, UserFacingError)
    assert held.ephemeral and "try again in 1 minute" in held.response.content
    await w.env.advance_time(61)
    sent = await w.mentor.slash(w.channel(second.channel_id), "pair report", reason="two")
    assert "went privately to the moderators" in sent.response.content
