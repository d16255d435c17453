"""The peer-circles act: members join a circle's waiting list, a moderator previews and forms
a round, the circle gets its private space, and someone steps away privately."""

from __future__ import annotations

from bot.demo.world import World

JOINERS = ("Aiko", "Tomas", "Lea", "Sam")


async def play_circles(world: World) -> None:
    """Join, round, confirm, the opening message, a private leave."""
    mei = world.people["Mei (moderator)"]
    for name in JOINERS:
        world.say(name, "runs /circle join area:identity")
        result = await world.people[name].slash(world.general, "circle join", area="identity")
        if name == JOINERS[0]:
            world.show_result(name, result)
    world.say("Grace (mentor)", "offers to facilitate: /circle join area:identity facilitate:True")
    grace = world.people["Grace"]
    offered = await grace.slash(world.general, "circle join", area="identity", facilitate=True)
    world.show_result("Grace", offered)
    ben = world.people["Ben"]
    world.say("Ben", "runs /circle join area:culture (nobody else waits for that area yet)")
    await ben.slash(world.general, "circle join", area="culture")

    world.say("Mei (moderator)", "previews /circles round")
    preview = await mei.slash(world.general, "circles round")
    world.show_result("Mei", preview)
    if preview.response is None:
        raise RuntimeError("the circles round preview should have been shown")
    world.say("Mei (moderator)", "presses Form these circles")
    world.show_result("Mei", await mei.click(preview.response.message, label="Form these circles"))
    await world.env.settle()

    handle = next(
        (h for n, h in world.guild.channels.items() if n.startswith("circle-identity")), None
    )
    if handle is None:
        raise RuntimeError("the circle's space should have opened")
    who = ", ".join((*JOINERS, "Grace"))
    world.show(who, f"#{handle.name}", world.render(handle.history()[0]))
    world.show_dm("Ben", ben)

    sam = world.people["Sam"]
    world.say("Sam", "runs /circle leave")
    world.show_result("Sam", await sam.slash(world.general, "circle leave"))
    await world.env.settle()
    world.show("the others", f"#{handle.name}", world.render(handle.history()[-1]))
    world.say("Aiko", "runs /circle status")
    world.show_result("Aiko", await world.people["Aiko"].slash(world.general, "circle status"))
