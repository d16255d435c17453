"""The demo's acts, in order. Each feature adds one; each prints what people saw."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.demo.world import World


async def act_setup(world: World) -> None:
    """A moderator sets Lantern up in the server"""
    mei = world.people["Mei (moderator)"]
    world.say("Mei (moderator)", "runs /setup and picks the Community Team as moderators")
    result = await mei.slash(world.general, "setup", moderator_role=world.moderator_role)
    world.show_result("Mei", result)


async def act_members_join(world: World) -> None:
    """Members and mentors join the community"""
    for name in ("Aiko", "Ben", "Grace", "Tomas"):
        world.people[name] = world.guild.add_member(world.env.create_user(name.lower()))
        world.say(name, "joins the server")
    await world.env.settle()


async def act_pair_space(world: World) -> None:
    """A matched pair gets a private space: the opening message, a check-in, an ending"""
    from bot.demo.pairs import play_pair_space

    await play_pair_space(world)


ACTS: tuple[Callable[[World], Awaitable[None]], ...] = (
    act_setup,
    act_members_join,
    act_pair_space,
)
