"""Helpers that walk a simulated member through onboarding the way a person would."""

from __future__ import annotations

from typing import Any

import simcord

from bot.db.queries.members import get_member_profile, load_profile
from tests.e2e.conftest import Community

ABOUT_ANN = "My grandmother spoke Hokkien at the market and I only learnt the food words"
HERITAGE_ANN = "Hokkien Chinese and Scottish, raised in Vancouver"

MENTEE_PAGES: dict[str, dict[str, Any]] = {
    "you": {
        "role": ["mentee"],
        "languages": ["english", "hokkien"],
        "career_field": "Nursing",
        "career_stage": ["mid"],
    },
    "areas": {"areas_wanted:1": ["identity"], "areas_wanted:2": ["culture"]},
    "heritage": {"heritage_regions": ["east_asia", "europe"], "heritage_preference": ["similar"]},
    "heritage_more": {
        "heritage_details:east_asia": ["chinese"],
        "heritage_details:europe": ["british_irish"],
        "heritage_text": HERITAGE_ANN,
    },
    "rhythm": {
        "timezone": "Vancouver",
        "cadence": ["monthly"],
        "meeting_times": ["weekday_evening"],
    },
    "story": {"about": ABOUT_ANN, "hopes": "Someone who has walked this road already"},
    "privacy": {"prompts_dm": ["yes"], "share": ["heritage", "about", "timezone"]},
}

MENTOR_PAGES: dict[str, dict[str, Any]] = {
    "you": {"role": ["mentor"], "languages": ["english", "tagalog"], "career_stage": ["senior"]},
    "areas": {"areas_offered": ["identity", "networking"], "capacity": ["2"]},
    "heritage": {"heritage_regions": ["southeast_asia"]},
    "heritage_more": {"heritage_details:southeast_asia": ["filipino"]},
    "rhythm": {"timezone": "Manila"},
    "story": {"about": "Twenty years in design, Filipino and Irish", "brings": "Patience"},
    "privacy": {"prompts_dm": ["no"], "share": ["about"]},
}


def labels(message: Any) -> list[str]:
    """Button labels on a message (any nesting)."""
    found: list[str] = []
    rows = message.components
    for row in rows:
        children = row.get("components", []) if isinstance(row, dict) else row.children
        for child in children:
            label = child.get("label") if isinstance(child, dict) else getattr(child, "label", None)
            if label:
                found.append(label)
    return found


async def start_in_dm(member: simcord.MemberActor) -> Any:
    """Press Start on the welcome DM and agree to the consent text; returns the first card."""
    welcome = member.user.dm_channel.last_message
    assert welcome is not None, "no welcome DM"
    consent = await member.user.click(welcome, label="Start")
    assert "Before we begin" in consent.response.content
    agreed = await member.user.click(consent.response, label="I agree")
    return agreed.response


async def answer_page_in_dm(member: simcord.MemberActor, card: Any, values: dict[str, Any]) -> Any:
    """Press Continue on a page card and submit the form; returns the interaction result."""
    shown = await member.user.click(card, label="Continue")
    assert shown.modal is not None, shown
    return await member.user.submit_modal(shown, values)


async def onboard_in_dm(
    member: simcord.MemberActor, pages: dict[str, dict[str, Any]], *, stop_after: str | None = None
) -> Any:
    """Walk the whole questionnaire in DMs (or up to ``stop_after``); returns the last result."""
    card = await start_in_dm(member)
    result = None
    for page_id, values in pages.items():
        result = await answer_page_in_dm(member, card, values)
        card = result.response
        if page_id == stop_after:
            break
    return result


async def consent_in_guild(member: simcord.MemberActor, channel: simcord.ChannelHandle) -> Any:
    """Run /onboard in a channel and agree; returns the first page card (ephemeral)."""
    shown = await member.slash(channel, "onboard")
    assert shown.ephemeral
    agreed = await member.click(shown.response, label="I agree")
    return agreed.response


async def answer_in_guild(
    member: simcord.MemberActor, channel: simcord.ChannelHandle, values: dict[str, Any]
) -> Any:
    """/onboard opens the current page's form directly once consent is given; submit it."""
    shown = await member.slash(channel, "onboard")
    assert shown.modal is not None, shown
    return await member.submit_modal(shown, values)


async def two_onboarded(
    env: simcord.Env, guild: simcord.GuildHandle
) -> tuple[simcord.MemberActor, simcord.MemberActor]:
    """Ann (a mentee) and Ben (a mentor) join ``guild`` and finish onboarding in DMs."""
    ann = guild.add_member(env.create_user("ann"))
    ben = guild.add_member(env.create_user("ben"))
    await env.settle()
    await onboard_in_dm(ann, MENTEE_PAGES)
    await onboard_in_dm(ben, MENTOR_PAGES)
    return ann, ben


async def joins(
    community: Community, name: str = "ann", *, pages: dict[str, dict[str, Any]] | None = None
) -> simcord.MemberActor:
    """A new member ``name`` joins the community (and gets the welcome DM); given ``pages``,
    they also walk the whole questionnaire in DMs."""
    member = community.guild.add_member(community.env.create_user(name))
    await community.env.settle()
    if pages is not None:
        await onboard_in_dm(member, pages)
    return member


async def profile_of(env: simcord.Env, guild_id: int, user_id: int) -> Any:
    """The member's decrypted profile, or ``None``."""
    async with env.bot.database.session() as session:
        return await load_profile(
            session, guild_id=guild_id, user_id=user_id, cipher=env.bot.cipher
        )


async def row_of(env: simcord.Env, guild_id: int, user_id: int) -> Any:
    """The member's profile row as stored (consent, step, encrypted answers), or ``None``."""
    async with env.bot.database.session() as session:
        return await get_member_profile(session, guild_id=guild_id, user_id=user_id)
