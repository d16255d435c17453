"""Sharding: each process sees only its shards' servers; DMs arrive on shard 0 alone.

simcord runs one bot per environment, so each test is one process of a sharded deployment
(``[gateway] shard_count = 2`` with the ``shard_ids`` it owns); what the other process would
have done (its welcome DM) is the same service call on the same database.
"""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from bot.config import Config, GatewaySection, SchedulerSection
from tests.e2e.onboarding_flow import MENTEE_PAGES, onboard_in_dm


def _sharded(owned: tuple[int, ...]) -> Config:
    return Config(
        scheduler=SchedulerSection(enabled=False),
        gateway=GatewaySection(shard_count=2, shard_ids=owned),
        source="<tests>",
    )


async def _said(user: simcord.UserHandle, text: str) -> Any:
    before = user.dm_channel.last_message if user.dm_channel else None
    await user.send_dm(text)
    last = user.dm_channel.last_message
    return None if last is None or last == before or last.author.id == user.id else last


class TestTheProcessThatOwnsShardZero:
    @pytest.fixture
    def config(self) -> Config:
        return _sharded((0,))

    async def test_it_connects_only_its_shards(self, simcord_env: simcord.Env) -> None:
        bot = simcord_env.bot
        assert bot.shard_count == 2 and bot.shard_ids == [0]
        ours = simcord_env.create_guild("Ours", shard_id=0)
        theirs = simcord_env.create_guild("Theirs", shard_id=1)
        await simcord_env.settle()
        assert bot.get_guild(ours.id) is not None
        assert bot.get_guild(theirs.id) is None, "another process owns shard 1"

    async def test_it_welcomes_only_members_of_its_own_servers(
        self, simcord_env: simcord.Env
    ) -> None:
        env = simcord_env
        ours = env.create_guild("Ours", shard_id=0)
        theirs = env.create_guild("Theirs", shard_id=1)
        await env.settle()
        kai = ours.add_member(env.create_user("kai"))
        ann = theirs.add_member(env.create_user("ann"))
        await env.settle()
        assert kai.user.dm_channel is not None and "Start" in str(
            kai.user.dm_channel.last_message.components
        )
        assert ann.user.dm_channel is None or ann.user.dm_channel.last_message is None

    async def test_it_answers_dms_of_members_whose_server_another_process_owns(
        self, simcord_env: simcord.Env
    ) -> None:
        env = simcord_env
        theirs = env.create_guild("Hokkien Heritage Circle", shard_id=1)
        await env.settle()
        ann = theirs.add_member(env.create_user("ann"))
        await env.settle()
        # The process that owns shard 1 sends the welcome; the same call on the same database.
        assert await env.bot.services.onboarding.welcome(theirs.id, ann.id)
        await env.settle()
        welcome = ann.user.dm_channel.last_message
        assert "Hokkien Heritage Circle" in welcome.content, "the server's name over REST"

        # Start, consent and every page: DM buttons and forms reach this process (shard 0).
        finished = await onboard_in_dm(ann, MENTEE_PAGES)
        assert finished is not None and "not in that server" not in finished.response.content

        profile = await _said(ann.user, "show my profile")
        assert profile is not None and "Your Lantern profile" in profile.content
        assert "Identity exploration" in profile.content
        found = await _said(ann.user, "find me a mentor")
        assert found is not None and "waiting list, number 1" in found.content

    async def test_it_answers_every_dm_even_from_someone_with_no_server(
        self, simcord_env: simcord.Env
    ) -> None:
        stranger = simcord_env.create_user("stranger")
        reply = await _said(stranger, "help")
        assert reply is not None and "I'm Lantern" in reply.content


class TestAProcessWithoutShardZero:
    @pytest.fixture
    def config(self) -> Config:
        return _sharded((1,))

    async def test_it_never_answers_a_dm(self, simcord_env: simcord.Env) -> None:
        env = simcord_env
        ours = env.create_guild("Ours", shard_id=1)
        await env.settle()
        kai = ours.add_member(env.create_user("kai"))
        await env.settle()
        assert "Start" in str(kai.user.dm_channel.last_message.components), "its own server"
        welcome = kai.user.dm_channel.last_message
        assert await _said(kai.user, "help") is None, "DMs go to the process with shard 0"
        assert await _said(kai.user, "find me a mentor") is None
        assert kai.user.dm_channel.last_message.content == "find me a mentor"
        assert welcome.id != kai.user.dm_channel.last_message.id

    async def test_its_servers_slash_commands_are_answered(self, simcord_env: simcord.Env) -> None:
        env = simcord_env
        ours = env.create_guild("Ours", shard_id=1)
        general = ours.create_text_channel("general")
        await env.settle()
        kai = ours.add_member(env.create_user("kai"))
        await env.settle()
        shown = await kai.slash(general, "onboard")
        assert shown.ephemeral and "Before we begin" in shown.response.content


class TestAProcessStartedWithoutSync:
    """N processes start with ``--no-sync``: the command list is published once, apart."""

    @pytest.fixture
    def config(self) -> Config:
        return Config(
            scheduler=SchedulerSection(enabled=False),
            gateway=GatewaySection(shard_count=2, shard_ids=(1,), sync_commands_on_start=False),
            source="<tests>",
        )

    async def test_it_publishes_no_commands(self, simcord_env: simcord.Env) -> None:
        env = simcord_env
        ours = env.create_guild("Ours", shard_id=1)
        general = ours.create_text_channel("general")
        kai = ours.add_member(env.create_user("kai"))
        await env.settle()
        assert "onboard" not in kai.available_commands(general)
        await env.bot.tree.sync()  # what `python -m bot sync-commands` does, once
        assert "onboard" in kai.available_commands(general)


class TestTheSweepOwnerActsInServersOfOtherShards:
    """The one process running the sweeps (the lease) opens pair spaces in every server."""

    @pytest.fixture
    def config(self) -> Config:
        return _sharded((0,))

    async def test_it_places_and_makes_a_private_channel_in_another_shards_server(
        self, simcord_env: simcord.Env
    ) -> None:
        from bot.domain import pairs as d
        from bot.gateway.channels import DiscordSpaces
        from bot.services.ports import Made, Overwrite, Target

        env = simcord_env
        theirs = env.create_guild("Theirs", shard_id=1)
        category = theirs.create_category("Lantern pairs")
        theirs.create_text_channel("pair-taken", category=category)
        ann = theirs.add_member(env.create_user("ann"))
        await env.settle()
        spaces = DiscordSpaces(env.bot)

        layout = await spaces.layout(
            theirs.id, category_ids=[category.id], thread_parent_id=None, moderator_role_id=None
        )
        assert layout is not None and "pair-taken" in layout.names
        assert layout.categories[category.id].channels == 1

        made = await spaces.create_channel(
            theirs.id,
            category.id,
            "pair-ann",
            [
                Overwrite(Target("everyone"), d.Grant(deny=("view_channel",))),
                Overwrite(Target("bot"), d.Grant(allow=d.BOT_ALLOW)),
                Overwrite(Target("member", ann.id), d.Grant(allow=d.MEMBER_ALLOW)),
            ],
            reason="test",
        )
        assert isinstance(made, Made), made
        await env.settle()
        channel = theirs.channels["pair-ann"]
        assert channel.id == made.id
