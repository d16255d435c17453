"""Benchmark of `/insights`: counting a server's whole program in SQL and drawing the chart.

    python bench/insights.py               # 1,000, 10,000 and 50,000 members, a table
    python bench/insights.py --json        # one JSON object per line
    python bench/insights.py --members 5000

Each size builds a fresh SQLite database in a temporary folder (not timed): members with
profiles, one pair per two members (two thirds ended, with every ending cause), feedback from
half of the ended pairs' members (a tenth with shared, encrypted words), a tenth of members
waiting, two prompt deliveries per member and a reflection per two. Then it times what a
moderator waits for behind "thinking…": the counts (all time, every query), the privacy rules,
and the PNG (matplotlib's Agg backend, first chart included: the import happens then).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from bot.compute import ThreadCompute
from bot.config import Config, DatabaseSection, SchedulerSection, SecuritySection
from bot.crypto import Cipher
from bot.db import pool_changes
from bot.db.engine import Database, create_engine
from bot.db.models import (
    Introduction,
    MatchRequest,
    MemberProfile,
    MentorshipFeedback,
    Pair,
    PairSpace,
    PromptDelivery,
    PromptOccurrence,
    PromptSchedule,
    Reflection,
)
from bot.domain import insights as d
from bot.gateway.charts import render_png
from bot.services.context import Context
from bot.services.events import Events
from bot.services.insights import InsightsService

GUILD = 1
SEED = 20261203
CAUSES = ["ended", "moderator", "member_left", "channel_deleted"]


def _table(model: Any) -> Any:
    return model.__table__


async def _populate(database: Database, cipher: Cipher, members: int, now: datetime) -> None:
    rnd = random.Random(SEED)

    def ago() -> datetime:
        return now - timedelta(days=rnd.uniform(0, 200))

    words = cipher.encrypt("It helped me more than I expected.")
    async with database.session() as session:
        # A bulk write names who changed (pool_changes): here everyone, as a fresh server.
        pool_changes.mark(session, GUILD, [pool_changes.EVERYONE])
        await session.execute(
            insert(_table(MemberProfile)).execution_options(**pool_changes.MARKED),
            [
                {
                    "guild_id": GUILD,
                    "user_id": u,
                    "consent_status": "accepted",
                    "consent_at": ago(),
                    "role": "mentee",
                    "capacity": 0,
                    "mentor_paused": False,
                    "active_mentees": 0,
                    "started_at": ago(),
                    "completed_at": ago(),
                    "updated_at": now,
                }
                for u in range(members)
            ],
        )
        pairs = members // 2
        await session.execute(
            insert(_table(Introduction)).execution_options(**pool_changes.MARKED),
            [
                {
                    "id": p + 1,
                    "guild_id": GUILD,
                    "mentee_id": 2 * p,
                    "mentor_id": 2 * p + 1,
                    "score": 1.0,
                    "status": rnd.choice(["accepted", "declined", "expired"]),
                    "created_at": ago(),
                    "expires_at": ago(),
                    "decided_at": ago(),
                }
                for p in range(pairs)
            ],
        )
        ended = [p for p in range(pairs) if p % 3]
        await session.execute(
            insert(_table(Pair)),
            [
                {
                    "id": p + 1,
                    "guild_id": GUILD,
                    "introduction_id": p + 1,
                    "mentee_id": 2 * p,
                    "mentor_id": 2 * p + 1,
                    "status": "ended" if p % 3 else "active",
                    "created_at": ago(),
                    "ended_at": ago() if p % 3 else None,
                }
                for p in range(pairs)
            ],
        )
        await session.execute(
            insert(_table(PairSpace)),
            [
                {
                    "pair_id": p + 1,
                    "end_cause": rnd.choice(CAUSES),
                    "nudges_sent": 0,
                    "reminders_paused": False,
                }
                for p in ended
            ],
        )
        await session.execute(
            insert(_table(MentorshipFeedback)),
            [
                {
                    "guild_id": GUILD,
                    "pair_id": p + 1,
                    "user_id": 2 * p + side,
                    "status": "done",
                    "helpful": rnd.randint(0, 5),
                    "recommend": rnd.choice(["yes", "unsure", "no", "skip"]),
                    "words_enc": words if rnd.random() < 0.1 else None,
                    "share_words": True,
                    "asked_at": ago(),
                    "answered_at": ago(),
                }
                for p in ended
                for side in (0, 1)
                if rnd.random() < 0.5
            ],
        )
        await session.execute(
            insert(_table(MatchRequest)),
            [
                {
                    "guild_id": GUILD,
                    "mentee_id": 10**9 + i,
                    "status": "waiting",
                    "requested_at": ago(),
                    "updated_at": now,
                }
                for i in range(members // 10)
            ],
        )
        await session.execute(
            insert(_table(PromptSchedule)),
            [
                {
                    "id": 1,
                    "guild_id": GUILD,
                    "expression": "daily 09:00",
                    "timezone": "UTC",
                    "to_channel": False,
                    "to_dm": True,
                    "to_pairs": False,
                    "paused": False,
                    "deleted": False,
                    "created_at": now,
                    "updated_at": now,
                    "areas": "",
                }
            ],
        )
        await session.execute(
            insert(_table(PromptOccurrence)),
            [
                {
                    "id": i + 1,
                    "guild_id": GUILD,
                    "schedule_id": 1,
                    "due_at": now - timedelta(days=i),
                    "status": "done",
                    "manual": False,
                    "created_at": now,
                }
                for i in range(200)
            ],
        )
        await session.execute(
            insert(_table(PromptDelivery)),
            [
                {
                    "occurrence_id": o,
                    "guild_id": GUILD,
                    "kind": "dm",
                    "recipient_id": u,
                    "user_id": u,
                    "status": "sent",
                    "attempts": 1,
                    "updated_at": ago(),
                }
                for u in range(members)
                for o in (1 + u % 200, 1 + (u + 1) % 200)
            ],
        )
        await session.execute(
            insert(_table(Reflection)),
            [
                {
                    "guild_id": GUILD,
                    "user_id": u,
                    "text_enc": words,
                    "created_at": ago(),
                    "shared_pair_at": ago() if u % 6 == 0 else None,
                }
                for u in range(0, members, 2)
            ],
        )


async def run(members: int, repeats: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="lantern-bench-") as tmp:
        database = Database(create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db"))
        await database.create_all()
        cipher = Cipher([Cipher.generate_key()])
        now = datetime.now(UTC)
        await _populate(database, cipher, members, now)
        config = Config(
            database=DatabaseSection(url=f"sqlite+aiosqlite:///{tmp}/bench.db"),
            security=SecuritySection(key_file=str(Path(tmp) / "k")),
            scheduler=SchedulerSection(enabled=False),
            source="<bench>",
        )
        ctx = Context(database, cipher, config, lambda: now, None, None, Events(), ThreadCompute())  # type: ignore[arg-type]
        service = InsightsService(ctx)
        counted, ruled, drawn = [], [], []
        for _ in range(repeats):
            start = time.perf_counter()
            counts = await service.counts(GUILD, "all")
            counted.append(time.perf_counter() - start)
            start = time.perf_counter()
            figures = d.build(counts, "all")
            ruled.append(time.perf_counter() - start)
            start = time.perf_counter()
            png = await asyncio.to_thread(render_png, figures)
            drawn.append(time.perf_counter() - start)
        await database.dispose()
    return {
        "members": members,
        "counts_median": round(statistics.median(counted), 4),
        "counts_max": round(max(counted), 4),
        "rules_median": round(statistics.median(ruled), 5),
        "chart_first": round(drawn[0], 3),
        "chart_median": round(statistics.median(drawn[1:] or drawn), 3),
        "png_bytes": len(png),
        "feedback_answers": counts.feedback_answers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, action="append", help="member count (repeatable)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    columns = {
        "members": "{:>8}",
        "counts_median": "{:>8.3f}s",
        "counts_max": "{:>8.3f}s",
        "rules_median": "{:>8.4f}s",
        "chart_first": "{:>9.2f}s",
        "chart_median": "{:>7.2f}s",
    }
    if not args.json:
        print(" ".join(f"{name:>9}" for name in columns))
    for size in args.members or [1000, 10000, 50000]:
        result = asyncio.run(run(size, args.repeats))
        line = " ".join(form.format(result[name]) for name, form in columns.items())
        print(json.dumps(result) if args.json else line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
