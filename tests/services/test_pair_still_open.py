"""What an expired "are you sure?" about ending a pair shows (issue 13): the question again
while the pair is open, "already ended" after, and nothing to someone outside the pair."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from tests.services.conftest import World
from tests.services.test_pairs import MENTEE, MENTOR, OTHER_MENTEE, _open, _world


async def test_still_open_follows_the_pair_and_refuses_outsiders(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.id is not None
    pairs = w.services.pairs
    assert await pairs.still_open(pair.id, MENTEE) and await pairs.still_open(pair.id, MENTOR)
    with pytest.raises(UserFacingError):
        await pairs.still_open(pair.id, OTHER_MENTEE)
    with pytest.raises(UserFacingError):
        await pairs.still_open(pair.id + 1000, MENTEE)
    await pairs.member_end(pair.id, MENTOR, None)
    assert not await pairs.still_open(pair.id, MENTEE)
