"""Start-up's objects are frozen out of the garbage collector's full passes (bot.client
``settle_heap``): a full pass over them stopped the event loop for 90–230 ms in
``bench/ack.py``, past 100 ms for a burst of interactions waiting to be acknowledged."""

from __future__ import annotations

import gc

import simcord


async def test_what_start_up_made_is_kept_out_of_full_collections(simcord_env: simcord.Env) -> None:
    assert gc.get_freeze_count() > 0
    unfrozen = len(gc.get_objects())
    assert gc.get_freeze_count() > unfrozen  # modules and libraries, not just a few objects
