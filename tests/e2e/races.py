"""Simultaneous events: deliver every interaction to the bot before it handles any.

simcord runs one actor operation at a time and lets the bot handle each event before the next
(``settle``). ``at_once`` holds that settling back while the operations are made, so every
gateway event is emitted first; then the bot runs them all together, interleaved, as when ten
members press a button in the same second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import simcord


async def at_once(env: simcord.Env, *operations: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Emit every operation's event (an interaction, or a DM to the bot), then let the bot
    handle them all; the operations' results (``InteractionResult`` for interactions)."""
    results = await delivered(env, *operations)
    await env.settle()
    return results


async def delivered(env: simcord.Env, *operations: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Emit every operation's event without letting the bot handle any yet (the caller then
    settles, or advances virtual time); the operations' results, filled in as the bot answers."""

    async def later(*_args: Any, **_kwargs: Any) -> None:
        return None

    env._settle_internal = later  # type: ignore[method-assign]
    try:
        results = [await operation() for operation in operations]
    finally:
        del env._settle_internal
    handled = [r for r in results if isinstance(r, simcord.InteractionResult) and r.acknowledged]
    assert handled == [], "an event was handled before the others were delivered"
    return results
