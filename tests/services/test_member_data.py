"""The member-data service on a real database: export holds exactly the member's data; erase
closes introductions and pairs first, deletes every row, then gives mentors their places back;
consent withdrawal reaches matching; a member leaving is one ordered use case."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.db.models import ConsentStatus, Pair, PairStatus, RequestStatus, SubscriptionStatus
from bot.db.queries.matching import get_request, open_request
from bot.db.queries.members import get_member_profile, get_prompt_subscription
from bot.db.queries.pairs import pairs_of_member
from bot.domain.onboarding import DELETE_QUESTION
from bot.domain.pairs import STEPPED_AWAY_TEXT
from bot.errors import UserFacingError
from tests.factories import accepted_pair, add_member, count_rows, onboarded, tables_naming
from tests.services.conftest import World

GUILD = 10
OTHER = 11
ANN = 101  # a mentee
BEN = 102  # her mentor
SECRET = "my grandmother spoke Hokkien and I never learnt it"


class Recorder:
    """Stands in for the matching and pairs use cases member_data calls, recording them in
    order with whether the member's profile still existed at that moment."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.calls: list[tuple[Any, ...]] = []
        matching, pairs = world.services.matching, world.services.pairs
        matching.withdraw = self.withdraw  # type: ignore[method-assign]
        matching.recount = self.recount  # type: ignore[method-assign]
        matching.fill_waiting = self.fill_waiting  # type: ignore[method-assign]
        pairs.end_all_of = self.end_all_of  # type: ignore[method-assign]

    async def _has_profile(self, user_id: int) -> bool:
        async with self.world.database.session() as session:
            rows = await session.execute(select(SQLModel.metadata.tables["member_profile"]))
            return any(row.user_id == user_id for row in rows)

    async def _subscription(self, guild_id: int, user_id: int) -> str | None:
        async with self.world.database.session() as session:
            sub = await get_prompt_subscription(session, guild_id=guild_id, user_id=user_id)
        return sub.status if sub else None

    async def withdraw(self, guild_id: int, user_id: int) -> None:
        self.calls.append(("withdraw", guild_id, user_id, await self._has_profile(user_id)))

    async def recount(self, guild_id: int, mentor_ids: set[int]) -> None:
        self.calls.append(("recount", guild_id, set(mentor_ids), await self._has_profile(ANN)))

    async def fill_waiting(self, guild_id: int) -> None:
        self.calls.append(("fill_waiting", guild_id))

    async def end_all_of(
        self, guild_id: int, user_id: int, *, cause: str, tell_other: str
    ) -> list[Pair]:
        """Ends the member's open pairs in the database, as the pairs service does."""
        present = await self._has_profile(user_id)
        subscribed = await self._subscription(guild_id, user_id)
        async with self.world.database.session() as session:
            pairs = await pairs_of_member(session, guild_id=guild_id, user_id=user_id)
            for pair in pairs:
                pair.status = PairStatus.ENDED
        self.calls.append(("end_all_of", guild_id, user_id, cause, tell_other, present, subscribed))
        return pairs


@pytest.fixture
def recorder(world: World) -> Recorder:
    return Recorder(world)


async def _seed(world: World) -> None:
    """Ann (mentee) and Ben (mentor) onboarded in GUILD, Ann also in OTHER; one open pair."""
    now = world.clock()
    async with world.database.session() as session:
        for guild_id, user_id, about in (
            (GUILD, ANN, SECRET),
            (OTHER, ANN, SECRET),
            (GUILD, BEN, "I bring twenty years in design"),
        ):
            await add_member(
                session,
                world.services.ctx.cipher,
                guild_id=guild_id,
                user_id=user_id,
                answers={"role": "mentee" if user_id == ANN else "mentor", "about": about},
                now=now,
            )
        session.add(
            Pair(
                guild_id=GUILD,
                mentee_id=ANN,
                mentor_id=BEN,
                status=PairStatus.ACTIVE,
                created_at=now,
            )
        )
    await world.services.prompts.set_subscription(GUILD, ANN, SubscriptionStatus.SUBSCRIBED)


async def test_export_holds_exactly_the_members_data(world: World, recorder: Recorder) -> None:
    await _seed(world)
    exported = await world.services.member_data.export(ANN)
    data = json.loads(exported.content)
    assert exported.filename.endswith(".json") and "everything" in exported.text
    assert data["user_id"] == str(ANN)
    assert SECRET in exported.content.decode("utf-8")
    assert "twenty years" not in exported.content.decode("utf-8")
    assert {row["guild_id"] for row in data["data"]["profile"]} == {GUILD, OTHER}
    nobody = await world.services.member_data.export(999)
    assert "nothing" in nobody.text and json.loads(nobody.content)["data"] == {}


async def test_erase_closes_everything_first_then_deletes_every_row(
    world: World, recorder: Recorder
) -> None:
    await _seed(world)
    counts = await world.services.member_data.erase(ANN)
    assert counts["member_profile"] == 2 and counts["pair"] == 1
    assert await tables_naming(world.database, ANN) == []
    assert recorder.calls == [
        ("withdraw", GUILD, ANN, True),
        ("end_all_of", GUILD, ANN, "data_deleted", STEPPED_AWAY_TEXT, True, "subscribed"),
        ("withdraw", OTHER, ANN, True),
        ("end_all_of", OTHER, ANN, "data_deleted", STEPPED_AWAY_TEXT, True, None),
        ("recount", GUILD, {BEN}, False),  # after the rows are gone
    ]
    async with world.database.session() as session:
        ben = await get_member_profile(session, guild_id=GUILD, user_id=BEN)
    assert ben is not None and ben.consent_status == ConsentStatus.ACCEPTED


async def test_erasing_a_member_with_nothing_touches_nothing(
    world: World, recorder: Recorder
) -> None:
    assert await world.services.member_data.erase(999) == {}
    assert recorder.calls == []


async def test_withdrawing_consent_needs_consent_and_reaches_matching(
    world: World, recorder: Recorder
) -> None:
    member_data = world.services.member_data
    with pytest.raises(UserFacingError, match="nothing to withdraw"):
        await member_data.withdraw_consent(GUILD, ANN)
    await _seed(world)
    said = await member_data.withdraw_consent(GUILD, ANN)
    assert "won't match you" in said and said.endswith(DELETE_QUESTION)
    async with world.database.session() as session:
        row = await get_member_profile(session, guild_id=GUILD, user_id=ANN)
        other = await get_member_profile(session, guild_id=OTHER, user_id=ANN)
    assert row is not None and row.consent_status == ConsentStatus.WITHDRAWN
    assert row.consent_version == world.services.onboarding.consent_version
    assert other is not None and other.consent_status == ConsentStatus.ACCEPTED
    assert recorder.calls == [("withdraw", GUILD, ANN, True)]
    with pytest.raises(UserFacingError):
        await member_data.withdraw_consent(GUILD, ANN)


async def test_a_member_leaving_withdraws_then_ends_pairs_then_stops_prompts(
    world: World, recorder: Recorder
) -> None:
    # Withdrawn first: an Accept racing the departure then loses, or its pair is ended here.
    await _seed(world)
    await world.services.member_data.member_left(GUILD, ANN)
    (withdrawn, ended) = recorder.calls
    assert ended[:4] == ("end_all_of", GUILD, ANN, "member_left")
    assert "left the server" in ended[4] and ended[6] == SubscriptionStatus.SUBSCRIBED
    assert withdrawn == ("withdraw", GUILD, ANN, True)
    async with world.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=GUILD, user_id=ANN)
        still = await get_member_profile(session, guild_id=GUILD, user_id=ANN)
    assert sub is not None and sub.status == SubscriptionStatus.UNSUBSCRIBED
    assert still is not None  # leaving is not erasing
    async with world.database.session() as session:
        open_pairs = await pairs_of_member(session, guild_id=GUILD, user_id=BEN)
    assert open_pairs == []


async def test_a_member_leaving_without_prompts_gets_no_new_row(
    world: World, recorder: Recorder
) -> None:
    await world.services.member_data.member_left(GUILD, BEN)
    async with world.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=GUILD, user_id=BEN)
    assert sub is None
    assert [c[0] for c in recorder.calls] == ["withdraw", "end_all_of"]


# ------------------------------------------------ erasing while paired (issue 11), no fakes


CAL = 103  # a mentee waiting for a mentor


async def _paired_with_a_waiting_mentee(world: World) -> int:
    """Ben mentors Ann (his only place); Cal waits for a mentor. The pair's id."""
    now, cipher = world.clock(), world.services.ctx.cipher
    for user_id, mentor in ((ANN, False), (BEN, True), (CAL, False)):
        await onboarded(
            world.database,
            cipher,
            guild_id=GUILD,
            user_id=user_id,
            now=now,
            mentor=mentor,
            **({"capacity": 1} if mentor else {}),
        )
    world.messenger.join(GUILD, ANN, BEN, CAL)
    pair_id = await accepted_pair(
        world.database, cipher, guild_id=GUILD, mentee_id=ANN, mentor_id=BEN, now=now, reasons=[]
    )
    async with world.database.session() as session:
        await open_request(session, guild_id=GUILD, mentee_id=CAL, now=now)
    return pair_id


async def test_a_mentor_erasing_while_paired_ends_the_pair_first_and_is_never_offered_again(
    world: World,
) -> None:
    pair_id = await _paired_with_a_waiting_mentee(world)
    await world.services.member_data.erase(BEN)
    # The partner is told kindly and offered a new mentor; nothing names Ben any more.
    said = [m.text for m in world.messenger.dms_to(ANN)]
    assert STEPPED_AWAY_TEXT in said and any("new mentor" in t for t in said)
    assert await tables_naming(world.database, BEN) == []
    assert await count_rows(world.database, Pair, id=pair_id) == 0
    # The place Ben's pair freed was never offered to Cal while Ben was leaving.
    assert world.messenger.dms_to(BEN) == []
    async with world.database.session() as session:
        request = await get_request(session, guild_id=GUILD, mentee_id=CAL)
    assert request is not None and request.status == RequestStatus.WAITING


async def test_a_mentee_erasing_while_paired_is_not_offered_a_new_mentor(world: World) -> None:
    await _paired_with_a_waiting_mentee(world)
    await world.services.member_data.erase(ANN)
    assert world.messenger.dms_to(ANN) == []
    assert STEPPED_AWAY_TEXT in [m.text for m in world.messenger.dms_to(BEN)]
    assert await tables_naming(world.database, ANN) == []


async def test_erasing_while_the_partner_ends_the_pair_never_errors(world: World) -> None:
    pair_id = await _paired_with_a_waiting_mentee(world)
    await asyncio.gather(
        world.services.member_data.erase(BEN),
        world.services.pairs.end(pair_id, actor_id=ANN, reason=None, cause="ended"),
    )
    assert await tables_naming(world.database, BEN) == []


async def test_who_left_while_lantern_was_away_is_found_and_handled_once(world: World) -> None:
    pair_id = await _paired_with_a_waiting_mentee(world)
    departed = world.services.member_data.find_departed
    assert await departed(world.clock()) == 0  # everyone is still here
    world.messenger.leave(GUILD, ANN)  # no departure event reached Lantern
    world.messenger.leave(GUILD, CAL)
    assert await departed(world.clock()) == 2
    async with world.database.session() as session:
        pair = await session.get(Pair, pair_id)
        request = await get_request(session, guild_id=GUILD, mentee_id=CAL)
    assert pair is not None and pair.status == PairStatus.ENDED
    assert request is None or request.status == RequestStatus.CANCELLED
    assert len([m for m in world.messenger.dms_to(BEN) if "left" in m.text]) == 1
    assert await departed(world.clock()) == 0  # nothing open for them any more


async def test_a_server_discord_cannot_answer_for_decides_nobody_left(world: World) -> None:
    pair_id = await _paired_with_a_waiting_mentee(world)
    world.messenger.leave(GUILD, ANN)
    world.messenger.unsure_guilds.add(GUILD)  # Discord failing, or the server unavailable
    assert await world.services.member_data.find_departed(world.clock()) == 0
    async with world.database.session() as session:
        pair = await session.get(Pair, pair_id)
    assert pair is not None and pair.status != PairStatus.ENDED
