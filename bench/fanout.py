"""Fan-out benchmark: Lantern's real DM fan-out against a loopback fake Discord.

A fake Discord HTTP server (aiohttp, in its own process so its CPU is not counted) enforces a
global limit of 50 requests per second over a sliding one-second window and answers 429 beyond
it. Lantern's ``fan_out_dms`` runs on a real SQLite database with discord.py's own HTTP client
pointed at the fake server, delivering one prompt to N subscribed members whose DM channels
are already known (so one request each: 10,000 members take at least 200 s by design).

    python bench/fanout.py                    # 10,000 recipients (about 3.5 minutes)
    python bench/fanout.py --recipients 500 --json

Several processes on one bot token (issue #14): ``--processes N`` starts N real OS processes,
each fanning a prompt of its own server out to its share of the recipients, all against the
same fake Discord (one 50/s budget), pacing through Redis (``--redis``, default the local one)
or, with ``--unshared``, each alone as before (which overshoots the budget):

    python bench/fanout.py --processes 4 --recipients 4000
    python bench/fanout.py --processes 2 --recipients 2000 --unshared
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LIMIT_PER_S = 50
CHANNEL_BASE = 10**17
USER_BASE = 2 * 10**17


def serve(port_queue: multiprocessing.Queue, limit: int) -> None:  # type: ignore[type-arg]
    """The fake Discord: a sliding-window global limit, messages counted per channel."""
    from aiohttp import web

    window: deque[float] = deque()
    counts: dict[str, int] = {}
    stats = {"requests": 0, "n_429": 0, "first": 0.0, "last": 0.0}
    next_id = [CHANNEL_BASE * 3]

    def admit() -> float:
        now = time.monotonic()
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit:
            return 1.0 - (now - window[0])
        window.append(now)
        stats["requests"] += 1
        stats["first"] = stats["first"] or now
        stats["last"] = now
        return 0.0

    def reply(
        data: object, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        # discord.py decodes JSON only when the content type is exactly application/json.
        return web.Response(
            body=json.dumps(data).encode(),
            status=status,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def limited(wait: float) -> web.Response:
        stats["n_429"] += 1
        return reply(
            {"message": "You are being rate limited.", "retry_after": wait, "global": True},
            status=429,
            headers={
                "Retry-After": f"{wait:.3f}",
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
                # Real Discord sends Via; discord.py treats a 429 without it as a Cloudflare ban.
                "Via": "1.1 google",
            },
        )

    async def me(request: web.Request) -> web.Response:
        return reply(
            {"id": "1", "username": "lantern", "discriminator": "0", "avatar": None, "bot": True}
        )

    async def open_dm(request: web.Request) -> web.Response:
        wait = admit()
        if wait:
            return limited(wait)
        body = await request.json()
        user = int(body["recipient_id"])
        return reply({"id": str(user - USER_BASE + CHANNEL_BASE), "type": 1})

    async def message(request: web.Request) -> web.Response:
        wait = admit()
        if wait:
            return limited(wait)
        channel = request.match_info["channel"]
        await request.read()
        counts[channel] = counts.get(channel, 0) + 1
        next_id[0] += 1
        return reply({"id": str(next_id[0]), "channel_id": channel})

    async def report(request: web.Request) -> web.Response:
        return reply(
            {
                **stats,
                "delivered": len(counts),
                "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            }
        )

    app = web.Application()
    app.router.add_get("/api/v10/users/@me", me)
    app.router.add_post("/api/v10/users/@me/channels", open_dm)
    app.router.add_post("/api/v10/channels/{channel}/messages", message)
    app.router.add_get("/stats", report)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        port_queue.put(port)
        await asyncio.Event().wait()

    asyncio.run(main())


GUILD = 9 * 10**17


async def seed(  # type: ignore[no-untyped-def]
    database, recipients: int, known_dm: bool, *, guild: int = GUILD, first: int = 0
) -> int:
    """Subscribed members, a schedule, one claimed occurrence and its pending deliveries."""
    from bot.db.models import PromptSubscription
    from tests.factories import add_schedule, pending_dms

    now = datetime(2026, 1, 5, 14, tzinfo=UTC)
    async with database.session() as session:
        await session.execute(
            PromptSubscription.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "guild_id": guild,
                    "user_id": USER_BASE + i,
                    "status": "subscribed",
                    "dm_channel_id": CHANNEL_BASE + i if known_dm else None,
                    "updated_at": now,
                }
                for i in range(first, first + recipients)
            ],
        )
    schedule = await add_schedule(
        database,
        guild_id=guild,
        now=now,
        expression="every Monday 09:00",
        timezone="America/New_York",
        to_dm=True,
        to_channel=False,
    )
    return await pending_dms(
        database,
        schedule,
        user_ids=range(USER_BASE + first, USER_BASE + first + recipients),
        now=now,
    )


@contextmanager
def fake_discord() -> Iterator[int]:
    """The fake Discord in a process of its own (its CPU is not counted) while the block runs;
    its port."""
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue[int] = ctx.Queue()
    server = ctx.Process(target=serve, args=(ports, LIMIT_PER_S), daemon=True)
    server.start()
    try:
        yield ports.get(timeout=30)
    finally:
        server.terminate()
        server.join(5)


async def served_by_fake_discord(port: int) -> dict[str, Any]:
    """The fake Discord's own count of what it served, with the requests a second it saw."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/stats") as response,
    ):
        stats: dict[str, Any] = await response.json()
    served_span = max(stats["last"] - stats["first"], 1e-9)
    stats["requests_per_s"] = stats["requests"] / served_span if stats["requests"] > 1 else 0.0
    return stats


async def run(recipients: int, known_dm: bool) -> dict[str, object]:
    import discord

    from bot.db.engine import Database, create_engine
    from bot.domain.components import reflect_button
    from bot.domain.prompts import load_library, render_prompt
    from bot.gateway.dm_sender import HttpDmSender
    from bot.services.fanout import DEFAULT_RATE_PER_S, Pacer, fan_out_dms

    with fake_discord() as port:
        discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
        with tempfile.TemporaryDirectory() as tmp:
            database = Database(create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db"))
            await database.create_all()
            occurrence_id = await seed(database, recipients, known_dm)
            http = discord.http.HTTPClient(asyncio.get_running_loop())
            await http.static_login("bench-token")
            prompt = load_library().get("identity-01")
            assert prompt is not None
            content = render_prompt(prompt, "Identity exploration", footer="Reply to reflect.")

            def message_for(delivery):  # type: ignore[no-untyped-def]
                return content, (reflect_button(delivery.id),)

            cpu0 = time.process_time()
            wall0 = time.monotonic()
            result = await fan_out_dms(
                database,
                HttpDmSender(http),
                occurrence_id=occurrence_id,
                guild_id=9 * 10**17,
                message_for=message_for,
                now=datetime(2026, 1, 5, 14, tzinfo=UTC),
                pacer=Pacer(DEFAULT_RATE_PER_S),
            )
            wall = time.monotonic() - wall0
            cpu = time.process_time() - cpu0
            await http.close()
            await database.dispose()
        stats = await served_by_fake_discord(port)
    requests_per_s = stats["requests_per_s"]
    return {
        "recipients": recipients,
        "delivered": stats["delivered"],
        "sent": result.sent,
        "requests": stats["requests"],
        "wall_s": round(wall, 1),
        "requests_per_s": round(requests_per_s, 2),
        "limit_per_s": LIMIT_PER_S,
        "fraction_of_limit": round(requests_per_s / LIMIT_PER_S, 3),
        "n_429": stats["n_429"],
        "duplicates": stats["duplicates"],
        "cpu_ms_per_delivery": round(cpu * 1000 / max(result.sent, 1), 3),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def worker(  # type: ignore[no-untyped-def]
    results, number: int, db_path: str, port: int, occurrence_id: int, redis_url: str | None
) -> None:
    """One Lantern process: its own database pool, HTTP client and pacer (shared or not)."""

    async def work() -> dict[str, object]:
        import discord

        from bot.db.engine import Database, create_engine
        from bot.domain.components import reflect_button
        from bot.domain.prompts import load_library, render_prompt
        from bot.gateway.dm_sender import HttpDmSender
        from bot.ratelimit import SharedPacer
        from bot.services.fanout import DEFAULT_RATE_PER_S, Pacer, fan_out_dms

        discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
        database = Database(create_engine(f"sqlite+aiosqlite:///{db_path}"))
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        await http.static_login("bench-token")
        pacer = (
            SharedPacer(redis_url, DEFAULT_RATE_PER_S, key=f"lantern:bench:{os.getppid()}")
            if redis_url
            else Pacer(DEFAULT_RATE_PER_S)
        )
        prompt = load_library().get("identity-01")
        assert prompt is not None
        content = render_prompt(prompt, "Identity exploration", footer="Reply to reflect.")
        wall0 = time.monotonic()
        result = await fan_out_dms(
            database,
            HttpDmSender(http),
            occurrence_id=occurrence_id,
            guild_id=GUILD + number,
            message_for=lambda d: (content, (reflect_button(d.id),)),
            now=datetime(2026, 1, 5, 14, tzinfo=UTC),
            pacer=pacer,
        )
        wall = time.monotonic() - wall0
        await http.close()
        await database.dispose()
        if isinstance(pacer, SharedPacer):
            await pacer.close()
        return {
            "sent": result.sent,
            "wall_s": round(wall, 1),
            "fallbacks": getattr(pacer, "fallbacks", 0),
        }

    results.put(asyncio.run(work()))


async def run_processes(
    recipients: int, processes: int, redis_url: str | None
) -> dict[str, object]:
    """``processes`` OS processes, one server each, sharing one fake Discord budget."""
    from bot.db.engine import Database, create_engine

    ctx = multiprocessing.get_context("spawn")
    share = recipients // processes
    with fake_discord() as port:
        with tempfile.TemporaryDirectory() as tmp:
            db_path = f"{tmp}/bench.db"
            database = Database(create_engine(f"sqlite+aiosqlite:///{db_path}"))
            await database.create_all()
            occurrences = [
                await seed(database, share, True, guild=GUILD + n, first=n * share)
                for n in range(processes)
            ]
            await database.dispose()
            results: multiprocessing.Queue[dict[str, object]] = ctx.Queue()
            workers = [
                ctx.Process(
                    target=worker, args=(results, n, db_path, port, occurrences[n], redis_url)
                )
                for n in range(processes)
            ]
            for process in workers:
                process.start()
            per_process = [results.get(timeout=3600) for _ in workers]
            for process in workers:
                process.join(30)
        stats = await served_by_fake_discord(port)
    requests_per_s = stats["requests_per_s"]
    return {
        "processes": processes,
        "pacing": "shared through Redis" if redis_url else "each process alone",
        "recipients": share * processes,
        "delivered": stats["delivered"],
        "sent": sum(int(r["sent"]) for r in per_process),  # type: ignore[call-overload]
        "requests": stats["requests"],
        "requests_per_s": round(requests_per_s, 2),
        "limit_per_s": LIMIT_PER_S,
        "fraction_of_limit": round(requests_per_s / LIMIT_PER_S, 3),
        "n_429": stats["n_429"],
        "duplicates": stats["duplicates"],
        "redis_fallbacks": sum(int(r["fallbacks"]) for r in per_process),  # type: ignore[call-overload]
        "wall_s_per_process": [r["wall_s"] for r in per_process],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--unknown-dm", action="store_true", help="open every DM first (2 req)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--processes", type=int, default=0, help="N real OS processes")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="shared budget")
    parser.add_argument("--unshared", action="store_true", help="each process paces alone")
    args = parser.parse_args()
    if args.processes:
        redis_url = None if args.unshared else args.redis
        figures = asyncio.run(run_processes(args.recipients, args.processes, redis_url))
    else:
        figures = asyncio.run(run(args.recipients, not args.unknown_dm))
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
