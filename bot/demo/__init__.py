"""`make demo`: Lantern's whole journey, offline, against simcord's simulated Discord.

The demo builds the real bot with the same factory as production, on a fresh SQLite file, and
plays a scripted community. Each feature adds an act in ``bot.demo.acts``; the printed
transcript shows what members, mentors and moderators saw.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from bot.config import Config, DatabaseSection, SchedulerSection, SecuritySection


async def run_demo(*, database_path: str | None = None, out_dir: str | None = None) -> int:
    """Play every act and print the transcript; returns the exit code. Files people received
    (the /insights chart) are saved in ``out_dir`` (else the current directory)."""
    try:
        import simcord
    except ImportError:
        print("The demo needs the development extras: run `make demo` (it installs them).")
        return 1

    from bot.client import LanternBot, create_bot
    from bot.db import migrate
    from bot.demo.acts import ACTS
    from bot.demo.world import World

    logging.basicConfig(level=logging.WARNING, format="  (log) %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="lantern-demo-") as tmp:
        db_file = Path(database_path) if database_path else Path(tmp) / "demo.db"
        db_file.unlink(missing_ok=True)
        config = Config(
            database=DatabaseSection(url=f"sqlite+aiosqlite:///{db_file}"),
            security=SecuritySection(key_file=str(Path(tmp) / "demo.key")),
            scheduler=SchedulerSection(enabled=False),
            source="<demo>",
        )

        def build() -> LanternBot:
            return create_bot(config)

        first = build()
        await migrate.upgrade(first.database)
        print("Lantern demo: a simulated community on a simulated Discord (no token, no network)")
        print(f"Database: {db_file}\n")
        async with simcord.run(first) as env:
            world = await World.create(env, build)
            world.out_dir = Path(out_dir) if out_dir else None
            for act in ACTS:
                world.heading(act.__doc__ or act.__name__)
                await act(world)
        print("\nThe demo finished: every step above ran through the real bot.")
    return 0
