"""Prompts at the edges through the real bot: the moderators' delivery report, the hourly
minimum, exporting and importing the library (preview, then apply on confirm), and a schedule
whose prompts are all retired flagged in the alerts channel."""

from __future__ import annotations

import tomllib

import simcord
from sqlalchemy import select

from bot.db.models import PromptSchedule
from tests.e2e.conftest import Community, close_dms
from tests.e2e.prompts_helpers import create_schedule, set_up_reflections


async def test_moderators_see_what_did_not_go_out_and_why(community: Community) -> None:
    env = community.env
    await set_up_reflections(community)
    others = [community.guild.add_member(env.create_user(f"m{i}")) for i in range(2)]
    await env.settle()
    for member in (community.member, *others):
        await member.slash(community.general, "reflections subscribe")
    close_dms(env, others[0].user)
    schedule_id = await create_schedule(community, when="daily 09:00", dm=True)
    await community.moderator.slash(community.general, "prompts send-now", schedule=schedule_id)
    result = await community.moderator.slash(community.general, "prompts schedules")
    report = result.response.content
    assert "last runs:" in report
    assert "(send-now): delivered 3 · failed 1 (DMs closed 1)" in report, report
    assert "m0" not in report and "member_kai" not in report, "numbers only, never who"


async def test_an_every_minute_schedule_is_refused_with_a_clear_message(
    community: Community,
) -> None:
    await set_up_reflections(community)
    result = await community.moderator.slash(
        community.general, "prompts schedule", when="* * * * *"
    )
    assert "more than once an hour" in result.response.content
    simcord.assert_error(community.env, Exception, contains="more than once an hour")
    async with community.env.bot.database.session() as session:
        assert (await session.execute(select(PromptSchedule))).scalars().all() == []


async def test_export_then_import_shows_a_preview_and_applies_only_on_confirm(
    community: Community,
) -> None:
    mod = community.moderator
    exported = await mod.slash(community.general, "prompts export")
    (attachment,) = exported.response.attachments
    data = await attachment.read()
    assert len(tomllib.loads(data.decode())["prompt"]) == 72
    text = data.decode()
    start = text.index('[[prompt]]\nid = "growth-03"')
    edited = text[:start] + text[text.index("[[prompt]]", start + 5) :]
    edited += '\n[[prompt]]\nid = "custom-zz01"\narea = "culture"\ntext = "@everyone hi"\n'
    preview = await mod.slash(
        community.general, "prompts import", file=("library.toml", edited.encode())
    )
    shown = preview.response.content
    assert "Import preview" in shown and "Added (1)" in shown and "Retired (1)" in shown
    assert not preview.response.message.mention_everyone
    listing = await mod.slash(community.general, "prompts list", area="growth")
    assert "`growth-03` (retired)" not in listing.response.content, "nothing applied yet"
    applied = await mod.click(preview.response.message, label="Apply import")
    assert "1 added, 0 changed, 1 retired" in applied.followups[-1].content
    listing = await mod.slash(community.general, "prompts list")
    assert "`growth-03` (retired)" in "\n".join(
        [listing.response.content, *(f.content for f in listing.followups)]
    )


async def test_a_typo_in_an_import_file_is_refused_with_its_line(community: Community) -> None:
    bad = b'version = 1\n[[prompt]]\nid = "identity-01"\narea = "identity"\ntxet = "x"\n'
    result = await community.moderator.slash(
        community.general, "prompts import", file=("bad.toml", bad)
    )
    content = result.response.content
    assert "bad.toml:5: prompt\\[1\\].txet: unknown key" in content, content
    assert result.response.message.components == []
    simcord.assert_error(community.env, Exception, contains="can't be imported")


async def test_retiring_the_last_prompt_alerts_moderators(community: Community) -> None:
    await set_up_reflections(community)
    schedule_id = await create_schedule(community, when="daily 09:00", prompt="identity-01")
    result = await community.moderator.slash(
        community.general, "prompts retire", prompt="identity-01"
    )
    assert f"#{schedule_id} now has no prompt left" in result.response.content
    alerts = community.guild.channels["lantern-alerts"].history()
    assert any(f"#{schedule_id} now has no prompt left" in (m.content or "") for m in alerts)
