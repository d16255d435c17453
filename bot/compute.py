"""Where CPU-heavy pure work runs: a worker process beside the event loop (issue #14).

A moderator's batch round of 50,000 × 15,000 computes for 30–45 s. Run in the bot's own
process it held the event loop (and, in a thread, the GIL) long enough that no one else got
an answer and the gateway heartbeat was late; ``ProcessCompute`` runs it in a worker process
instead (why a process and not a thread: measured in bench/loop_stall.py, see bench/README.md).

- **spawn**, not fork: the bot has threads (aiosqlite's, the executor's own) and a forked
  child of a threaded process can deadlock on a lock some thread held at the fork.
- **One worker** by default: the machine has two cores, one for the event loop. A second
  server's round waits for the first (its moderator sees "waiting for the worker"). The
  worker keeps the normal priority: tried at ``nice 10``, a busy host starved it (a round of
  50,000 took 10 minutes beside other sessions' work).
- **Progress across the process boundary**: one small shared integer array is handed to every
  worker when it starts; each run gets a slot, the function's ``report`` writes its phase
  there, and the bot reads it every ``poll`` seconds. Nothing is queued, nothing can back up.
- **A worker that dies** (killed, out of memory: ``BrokenProcessPool``) fails the runs in
  flight with ``ComputeFailed``; the next run starts a fresh pool.
- **Shutdown** (``close``, from the bot's ``close``): a run still in progress is stopped (its
  caller gets ``ComputeFailed``) rather than holding the shutdown for the rest of a round.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bot.services.ports import ComputeFailed, PhaseHeard

log = logging.getLogger("lantern.compute")

T = TypeVar("T")
POLL_S = 0.25
SLOTS = 64  # runs at once that can show their phase (more still run, without progress)

_phases: Any = None  # in a worker: the shared phase slots


def _start_worker(phases: Any) -> None:
    """A worker starts: keep the phase slots, warm the solver's imports."""
    global _phases
    _phases = phases
    import bot.domain.matching  # noqa: F401 - numpy and OR-Tools load before the first round


def _call(fn: Callable[..., T], slot: int, args: tuple[Any, ...]) -> T:
    """In the worker: ``fn(*args, report)``, ``report`` writing to the run's slot."""

    def report(phase: int) -> None:
        if _phases is not None and slot >= 0:
            _phases[slot] = int(phase)

    return fn(*args, report)


async def _watch(
    future: asyncio.Future[T], read: Callable[[], int], on_phase: PhaseHeard | None, poll: float
) -> T:
    """Await ``future``, telling ``on_phase`` the current phase every ``poll`` seconds."""
    while not future.done():
        if on_phase is not None:
            await on_phase(read())
        await asyncio.wait({future}, timeout=poll)
    return future.result()


#: What numpy's BLAS and OpenMP read when the worker starts (the bot's own numpy has loaded
#: already, so only spawned workers see them).
_THREAD_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _leave_a_core_to_the_loop() -> None:
    """Cap the worker's math threads at one fewer than the cores, so a round's matrix products
    (the full pricing pass) never take every core from the event loop. Measured with
    bench/loop_stall.py: on 2 cores, with OpenBLAS free to use both, the loop stalled past
    100 ms during the pricing pass. A value the operator set is kept."""
    threads = str(max(1, (os.cpu_count() or 2) - 1))
    for name in _THREAD_SETTINGS:
        os.environ.setdefault(name, threads)


class ProcessCompute:
    """``Compute`` on a ``ProcessPoolExecutor`` of ``workers`` spawned processes."""

    def __init__(self, workers: int = 1, *, poll: float = POLL_S) -> None:
        self.workers = workers
        self.poll = poll
        self._context = multiprocessing.get_context("spawn")
        self._phases = self._context.RawArray("i", SLOTS)
        self._free = list(range(SLOTS - 1, -1, -1))
        self._pool: ProcessPoolExecutor | None = None
        self._running = 0
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:  # made on first use: a bot that never runs a round spawns nothing
            _leave_a_core_to_the_loop()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=self._context,
                initializer=_start_worker,
                initargs=(self._phases,),
            )
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any, on_phase: PhaseHeard | None = None) -> T:
        if self._closed:
            raise ComputeFailed("the bot is shutting down")
        slot = self._free.pop() if self._free else -1
        if slot >= 0:
            self._phases[slot] = 0
        pool = self._executor()
        future = asyncio.get_running_loop().run_in_executor(pool, _call, fn, slot, args)
        self._running += 1
        try:
            return await _watch(
                future, lambda: self._phases[slot] if slot >= 0 else 0, on_phase, self.poll
            )
        except BrokenProcessPool as error:
            log.error("compute worker stopped fn=%s", getattr(fn, "__name__", "?"))
            if self._pool is pool:  # the next run starts a fresh pool
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise ComputeFailed("the worker process stopped") from error
        finally:
            self._running -= 1
            if slot >= 0 and future.done():  # a slot still written to is never handed out
                self._free.append(slot)

    async def close(self) -> None:
        """Stop the pool: at once when idle; a run in progress is stopped, not waited for."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._running:
            terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
            if terminate is not None:
                terminate()
            else:
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


class ThreadCompute:
    """``Compute`` in a thread of this process: the same contract, for tests that need no
    process and for comparing (bench/loop_stall.py --compute thread). The GIL is shared: the
    solver's Python parts still take turns with the event loop."""

    def __init__(self, *, poll: float = POLL_S) -> None:
        self.poll = poll

    async def run(self, fn: Callable[..., T], *args: Any, on_phase: PhaseHeard | None = None) -> T:
        phase = [0]

        def report(value: int) -> None:
            phase[0] = int(value)

        future = asyncio.get_running_loop().run_in_executor(
            None, functools.partial(fn, *args, report)
        )
        return await _watch(future, lambda: phase[0], on_phase, self.poll)
