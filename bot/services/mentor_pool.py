"""Each server's encoded mentor pool, cached in this process and kept current across processes.

A suggestion needs every proposable mentor's profile decrypted and encoded: seconds for a
server with 15,000 mentors. This cache keeps a :class:`LivePool` per server and, on each use,
reads the server's pool generation (one primary-key row). Every transaction of any process that
changes what a pool is built from raises it and logs the mentors it touched
(``bot/db/pool_changes.py``), so when it moved only those mentors are read again: a change of
free places or a pause patches one entry, an edited profile is decrypted and joins the small
overlay, a mentor who is no longer proposable is dropped. A generation older than the log
(``floor``) rebuilds; an erase (the log names nobody) lists the server's mentor ids again.

The cache only *proposes*: ``MatchingService.introduce`` re-checks consent, pause, free places
(with the mentor's row held), blocks and presence in the transaction that creates the
introduction, and an accept claims the place with a compare-and-set. Blocks are not in the pool:
the caller passes each mentee's forbidden mentors, read fresh per request.

Decrypting and encoding run in a worker thread (``asyncio.to_thread``): the event loop keeps
answering while a large pool is built (see bench/README.md for what was measured).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.db.pool_changes import EVERYONE
from bot.db.queries import pool as q
from bot.db.queries.members import decode_profile
from bot.domain.matching import LivePool, Weights
from bot.domain.profile import Profile
from bot.services.context import Context, Service

log = logging.getLogger("lantern.matching")

#: Past this many changed mentors since the cached generation, build the pool again.
REBUILD_ABOVE = 2000
#: Up to this many profiles are decrypted on the event loop (~0.1 ms each); more in a thread.
INLINE_DECRYPT = 32


def _fingerprint(encrypted: str | None) -> bytes:
    return hashlib.blake2b((encrypted or "").encode("ascii"), digest_size=12).digest()


@dataclass
class _Cached:
    pool: LivePool
    generation: int
    prints: dict[int, bytes]  # mentor id -> fingerprint of the answers the profile came from


def _decode(rows: Sequence[q.PoolMentor], cipher: Cipher) -> list[tuple[Profile, int, bytes]]:
    return [
        (decode_profile(m.user_id, m.answers_enc, cipher), m.free, _fingerprint(m.answers_enc))
        for m in rows
    ]


def _build(rows: Sequence[q.PoolMentor], cipher: Cipher, weights: Weights) -> _Cached:
    decoded = _decode(rows, cipher)
    pool = LivePool({p.user_id: (p, free) for p, free, _ in decoded}, weights)
    return _Cached(pool, 0, {p.user_id: fp for p, _, fp in decoded})


class MentorPools(Service):
    """The per-server mentor pools of this process."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._cached: dict[int, _Cached] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        #: what each lookup did: hit, patched, relisted, built, reencoded (tests, the bench)
        self.stats: Counter[str] = Counter()

    def forget(self, guild_id: int | None = None) -> None:
        """Drop the cached pool of one server (or all): the next use builds it again."""
        if guild_id is None:
            self._cached.clear()
        else:
            self._cached.pop(guild_id, None)

    async def current(self, guild_id: int, weights: Weights) -> LivePool:
        """The server's pool, current as of this call (one row read when nothing changed)."""
        lock = self._locks.setdefault(guild_id, asyncio.Lock())
        async with lock:  # one build or patch per server at a time; the others reuse it
            cached = await self._refresh(guild_id, weights, self._cached.get(guild_id))
            self._cached[guild_id] = cached
            return cached.pool

    async def _refresh(self, guild_id: int, weights: Weights, cached: _Cached | None) -> _Cached:
        cipher = self.ctx.cipher
        async with self.ctx.transaction() as session:
            generation, floor = await q.pool_generation(session, guild_id=guild_id)
            if cached is not None and not floor <= cached.generation <= generation:
                cached = None  # the changes since were pruned (or the database was replaced)
            changed: set[int] = set()
            rows: list[q.PoolMentor] = []
            fresh = None
            if cached is not None and cached.generation != generation:
                changed = await q.changed_since(
                    session, guild_id=guild_id, generation=cached.generation
                )
                if EVERYONE in changed:  # rows were erased: list who is still here
                    rows = await q.pool_mentors(session, guild_id=guild_id, answers=False)
                    listed = {m.user_id for m in rows}
                    changed |= (listed - cached.prints.keys()) | (cached.prints.keys() - listed)
                    changed.discard(EVERYONE)
                if len(changed) > REBUILD_ABOVE:
                    cached = None
                else:
                    fresh = await q.pool_mentors(
                        session, guild_id=guild_id, mentor_ids=sorted(changed)
                    )
            if cached is None:
                rows = await q.pool_mentors(session, guild_id=guild_id)
        if cached is None:
            built = await asyncio.to_thread(_build, rows, cipher, weights)
            built.generation = generation
            self.stats["built"] += 1
            log.info("mentor pool built guild=%s mentors=%d", guild_id, len(built.pool))
            return built
        if cached.pool.weights != weights:
            pool = await asyncio.to_thread(LivePool, cached.pool.mentors(), weights)
            cached = _Cached(pool, cached.generation, cached.prints)
            self.stats["reencoded"] += 1
        if fresh is None:
            self.stats["hit"] += 1
            return cached
        stale = [m for m in fresh if cached.prints.get(m.user_id) != _fingerprint(m.answers_enc)]
        if len(stale) > INLINE_DECRYPT:
            decoded = await asyncio.to_thread(_decode, stale, cipher)
        else:
            decoded = _decode(stale, cipher)
        self._patch(cached, changed, fresh, rows, decoded)
        cached.generation = generation
        if cached.pool.crowded:
            pool = await asyncio.to_thread(LivePool, cached.pool.mentors(), weights)
            cached = _Cached(pool, generation, cached.prints)
            self.stats["reencoded"] += 1
        return cached

    def _patch(
        self,
        cached: _Cached,
        changed: set[int],
        fresh: Sequence[q.PoolMentor],
        listed: Sequence[q.PoolMentor],
        decoded: Sequence[tuple[Profile, int, bytes]],
    ) -> None:
        pool, prints = cached.pool, cached.prints
        for m in listed:  # a relist: everyone's free places, no decryption
            if m.user_id in pool and m.user_id not in changed:
                pool.set_free(m.user_id, m.free)
        for m in fresh:  # the same profile, new free places
            if m.user_id in pool and prints.get(m.user_id) == _fingerprint(m.answers_enc):
                pool.set_free(m.user_id, m.free)
        for profile, free, fingerprint in decoded:  # a new or edited profile
            pool.put(profile, free)
            prints[profile.user_id] = fingerprint
        seen = {m.user_id for m in fresh}
        for user_id in changed - seen:
            pool.remove(user_id)
            prints.pop(user_id, None)
        self.stats["relisted" if listed else "patched"] += 1
