"""/setup: moderators configure the server; members cannot; missing permissions are told."""

from __future__ import annotations

import discord
import simcord
from discord import app_commands

from bot.db.queries.setup import get_guild_settings
from tests.e2e.conftest import Community, assert_members_cannot_run, set_bot_permission


async def test_moderator_setup_creates_places_and_saves_them(community: Community) -> None:
    env = community.env
    result = await community.moderator.slash(
        community.general, "setup", moderator_role=community.moderator_role
    )
    assert result.ephemeral
    text = result.response.content
    assert "Lantern is set up" in text
    bot = env.bot
    async with bot.database.session() as session:
        settings = await get_guild_settings(session, guild_id=community.guild.id)
    assert settings is not None
    assert settings.moderator_role_id == community.moderator_role.id
    category = bot.get_channel(settings.pair_category_id)
    assert isinstance(category, discord.CategoryChannel)
    assert category.name == "Mentorship"
    guild = bot.get_guild(community.guild.id)
    assert not category.permissions_for(guild.get_member(community.member.id)).view_channel
    alerts = bot.get_channel(settings.alerts_channel_id)
    assert alerts.permissions_for(guild.get_member(community.moderator.id)).view_channel
    assert not alerts.permissions_for(guild.get_member(community.member.id)).view_channel


async def test_second_setup_reuses_what_exists(community: Community) -> None:
    await community.moderator.slash(community.general, "setup")
    before = set(community.guild.channels)
    await community.moderator.slash(community.general, "setup")
    assert set(community.guild.channels) == before


async def test_member_cannot_see_setup(community: Community) -> None:
    await assert_members_cannot_run(community, "setup")


async def test_setup_made_visible_is_still_refused_by_the_bot(community: Community) -> None:
    env = community.env
    env.bot.tree.get_command("setup").default_permissions = None
    await env.bot.tree.sync()
    result = await community.member.slash(community.general, "setup")
    simcord.assert_error(env, app_commands.CheckFailure)
    assert result.ephemeral
    assert "moderators" in result.response.content
    async with env.bot.database.session() as session:
        assert await get_guild_settings(session, guild_id=community.guild.id) is None


async def test_bot_without_manage_channels_tells_moderators(community: Community) -> None:
    env = community.env
    set_bot_permission(community, "manage_channels", False)
    await env.settle()
    result = await community.moderator.slash(community.general, "setup")
    text = result.response.content
    assert "Manage Channels" in text
    assert "couldn't create" in text
    assert result.ephemeral


async def test_startup_self_check_posts_to_alerts_channel(
    community: Community, bot_factory
) -> None:  # type: ignore[no-untyped-def]
    env = community.env
    await community.moderator.slash(community.general, "setup")
    set_bot_permission(community, "manage_roles", False)
    await env.settle()
    await env.restart_bot(bot_factory())
    alerts = community.guild.channels["lantern-alerts"]
    last = alerts.last_message
    assert last is not None and "Manage Roles" in last.content
