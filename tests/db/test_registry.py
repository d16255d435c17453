"""The member-data registry: export holds exactly the member's data, delete leaves no trace,
free text is never stored in plaintext, and key rotation keeps everything readable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import SQLModel

from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.models import AuditEntry, Block, Introduction, Pair, PairReport
from bot.db.queries.insights import claim_feedback
from bot.db.queries.matching import blocked_between, forbidden_mentors, forbidden_pairs
from bot.db.queries.members import load_profile, set_prompt_subscription
from bot.db.registry import delete_member, export_member, guilds_of_member, reencrypt_all
from tests.factories import (
    accepted_pair,
    add_member,
    erase_while_writing,
    onboarded,
    tables_naming,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GUILD = 900000000000000001
ANN = 800000000000000001
BO = 800000000000000002
SECRET = "my grandmother spoke Hokkien and I never learnt it"


async def _seed(database: Database, cipher: Cipher) -> None:
    async with database.session() as session:
        for user, about in ((ANN, SECRET), (BO, "I bring twenty years in design")):
            await add_member(
                session,
                cipher,
                guild_id=GUILD,
                user_id=user,
                answers={"role": "mentee", "about": about, "areas_wanted": ["identity"]},
                now=NOW,
            )
            await set_prompt_subscription(
                session, guild_id=GUILD, user_id=user, status="subscribed", now=NOW
            )
        session.add(
            AuditEntry(
                guild_id=GUILD, actor_id=BO, action="setup", target_user_id=ANN, created_at=NOW
            )
        )


async def test_export_holds_exactly_the_members_data(database: Database, cipher: Cipher) -> None:
    await _seed(database, cipher)
    async with database.session() as session:
        data = await export_member(session, user_id=ANN, cipher=cipher)
    text = repr(data)
    assert SECRET in text
    assert "twenty years" not in text
    assert {row["user_id"] for row in data["profile"]} == {str(ANN)}
    assert data["profile"][0]["answers"]["about"] == SECRET
    assert data["moderator_actions"][0]["target_user_id"] == str(ANN)


async def test_delete_leaves_no_trace_and_keeps_others(database: Database, cipher: Cipher) -> None:
    await _seed(database, cipher)
    async with database.session() as session:
        counts = await delete_member(session, user_id=ANN, cipher=cipher)
    assert counts["member_profile"] == 1
    assert await tables_naming(database, ANN) == []
    async with database.session() as session:
        other = await load_profile(session, guild_id=GUILD, user_id=BO, cipher=cipher)
    assert other is not None and other.about == "I bring twenty years in design"


async def test_no_plaintext_in_the_database_file(
    database: Database, cipher: Cipher, database_url: str, tmp_path: Path, backend_name: str
) -> None:
    await _seed(database, cipher)
    if backend_name == "sqlite":
        await database.dispose()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("lantern.db*"))
        assert b"Hokkien" not in raw
        assert b"mentee" in raw  # the file really holds the rows
    else:
        async with database.session() as session:
            for table in SQLModel.metadata.sorted_tables:
                for row in (await session.execute(select(table))).all():
                    assert "Hokkien" not in repr(tuple(row))


async def test_key_rotation_rewrites_and_stays_readable(database: Database) -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    await _seed(database, Cipher([old_key]))
    async with database.session() as session:
        count = await reencrypt_all(session, cipher=Cipher([new_key, old_key]))
    assert count >= 2
    async with database.session() as session:
        profile = await load_profile(session, guild_id=GUILD, user_id=ANN, cipher=Cipher([new_key]))
    assert profile is not None and profile.about == SECRET


async def test_guilds_of_member_lists_every_server_naming_them(
    database: Database, cipher: Cipher
) -> None:
    await _seed(database, cipher)
    async with database.session() as session:
        await set_prompt_subscription(
            session, guild_id=GUILD + 1, user_id=ANN, status="paused", now=NOW
        )
        assert await guilds_of_member(session, user_id=ANN) == {GUILD, GUILD + 1}
        assert await guilds_of_member(session, user_id=BO) == {GUILD}
        assert await guilds_of_member(session, user_id=123) == set()


# ------------------------------------------------------------- two-party rows (issue 11)

CAL = 800000000000000003  # a moderator


async def _seed_two_party(database: Database, cipher: Cipher) -> None:
    """Ann reported and blocked Bo; Bo ended their pair with a note; Cal ended another pair
    as a moderator and left an audit entry about Ann; Bo was introduced to Ann."""
    await _seed(database, cipher)
    async with database.session() as session:
        session.add(Block(guild_id=GUILD, blocker_id=ANN, blocked_id=BO, created_at=NOW))
        session.add(
            PairReport(
                guild_id=GUILD,
                pair_id=1,
                reporter_id=ANN,
                reported_id=BO,
                reason_enc=cipher.encrypt("Ann's words about Bo"),
                block=True,
                created_at=NOW,
            )
        )
        # Ann and Bo were paired twice: Bo ended the first pair, a moderator (Cal) the second.
        endings = ((1, BO, "Bo's note for moderators"), (2, CAL, "Cal's note"))
        for pair_id, ended_by, note in endings:
            session.add(
                Pair(
                    id=pair_id,
                    guild_id=GUILD,
                    mentee_id=ANN,
                    mentor_id=BO,
                    status="ended",
                    created_at=NOW,
                    ended_by_id=ended_by,
                    end_reason_enc=cipher.encrypt(note),
                )
            )
        session.add(
            Introduction(
                guild_id=GUILD,
                mentee_id=ANN,
                mentor_id=BO,
                reasons_enc=cipher.encrypt('["You both love Hokkien opera"]'),
                status="declined",
                created_at=NOW,
                expires_at=NOW,
                message_id=555,
            )
        )
        session.add(
            AuditEntry(guild_id=GUILD, actor_id=CAL, action="pair_end", target_id=2, created_at=NOW)
        )


async def test_export_holds_only_the_members_side_of_two_party_rows(
    database: Database, cipher: Cipher
) -> None:
    await _seed_two_party(database, cipher)
    async with database.session() as session:
        bo = await export_member(session, user_id=BO, cipher=cipher)
        ann = await export_member(session, user_id=ANN, cipher=cipher)
        cal = await export_member(session, user_id=CAL, cipher=cipher)
    bo_text = repr(bo)
    assert str(ANN) not in bo_text and str(CAL) not in bo_text
    assert "Ann's words" not in bo_text and "Cal's note" not in bo_text and "opera" not in bo_text
    assert "blocks" not in bo and "pair_reports" not in bo  # made by someone else
    ended_by_bo, ended_by_cal = sorted(bo["pairs"], key=lambda p: p["id"])
    assert ended_by_bo["end_reason"] == "Bo's note for moderators"
    assert "end_reason" not in ended_by_cal and "ended_by_id" not in ended_by_cal
    assert bo["introductions"][0]["message_id"] == 555 and "reasons" not in bo["introductions"][0]
    assert bo["moderator_actions"][0]["actor_id"] == str(BO)
    assert "target_user_id" not in bo["moderator_actions"][0]  # Ann's id

    ann_text = repr(ann)
    assert str(BO) not in ann_text and str(CAL) not in ann_text
    assert "Bo's note" not in ann_text and "Cal's note" not in ann_text and "opera" not in ann_text
    assert ann["pair_reports"][0]["reason"] == "Ann's words about Bo"
    assert "reported_id" not in ann["pair_reports"][0] and ann["blocks"][0]["blocker_id"]
    assert "message_id" not in ann["introductions"][0]
    assert ann["introductions"][0]["status"] == "declined"
    # Cal, the moderator, gets their own note on the pair they ended, nobody's ids.
    assert cal["pairs"] == [
        p for p in cal["pairs"] if p["end_reason"] == "Cal's note" and "mentee_id" not in p
    ]
    assert str(ANN) not in repr(cal) and str(BO) not in repr(cal)


async def test_erasing_keeps_what_others_recorded_without_the_id(database: Database) -> None:
    key = Cipher.generate_key()
    cipher = Cipher([key])
    await _seed_two_party(database, cipher)
    async with database.session() as session:
        await delete_member(session, user_id=BO, cipher=cipher)
        await delete_member(session, user_id=CAL, cipher=cipher)
    assert await tables_naming(database, BO, as_text=True) == []
    assert await tables_naming(database, CAL, as_text=True) == []
    async with database.session() as session:
        (block,) = (await session.execute(select(Block))).scalars().all()
        (report,) = (await session.execute(select(PairReport))).scalars().all()
        audit = (await session.execute(select(AuditEntry))).scalars().all()
        assert block.blocked_id is None and block.blocked_key == cipher.pseudonym(BO)
        assert report.reported_id is None and report.reported_key == cipher.pseudonym(BO)
        assert cipher.decrypt(report.reason_enc) == "Ann's words about Bo"
        assert sorted((a.action, a.actor_id) for a in audit) == [
            ("pair_end", None),
            ("setup", None),
        ]
        # Bo comes back: the block still holds, in both directions of the question.
        for a, b in ((ANN, BO), (BO, ANN)):
            assert await blocked_between(session, guild_id=GUILD, a=a, b=b, cipher=cipher)
        assert not await blocked_between(session, guild_id=GUILD, a=ANN, b=CAL, cipher=cipher)
        assert BO not in await forbidden_mentors(
            session, guild_id=GUILD, mentee_id=ANN, cipher=cipher
        )  # gone: nothing to match
        await add_member(session, cipher, guild_id=GUILD, user_id=BO, answers={}, now=NOW)
        assert BO in await forbidden_mentors(session, guild_id=GUILD, mentee_id=ANN, cipher=cipher)
        assert (ANN, BO) in await forbidden_pairs(session, guild_id=GUILD, cipher=cipher)
        # ... also after a key rotation, while the old key is still listed.
        rotated = Cipher([Cipher.generate_key(), key])
        assert await blocked_between(session, guild_id=GUILD, a=ANN, b=BO, cipher=rotated)


async def test_erasing_the_author_erases_their_blocks_and_reports(
    database: Database, cipher: Cipher
) -> None:
    await _seed_two_party(database, cipher)
    async with database.session() as session:
        counts = await delete_member(session, user_id=ANN, cipher=cipher)
    assert counts["block"] == 1 and counts["pair_report"] == 1
    assert await tables_naming(database, ANN, as_text=True) == []
    async with database.session() as session:
        assert not await blocked_between(session, guild_id=GUILD, a=ANN, b=BO, cipher=cipher)
        (audit,) = [
            a for a in (await session.execute(select(AuditEntry))).scalars() if a.action == "setup"
        ]
        assert audit.actor_id == BO and audit.target_user_id is None  # the moderator's entry stays


async def _pair_of_ann_and_bo(database: Database, cipher: Cipher) -> int:
    for user_id, mentor in ((ANN, False), (BO, True)):
        await onboarded(database, cipher, guild_id=GUILD, user_id=user_id, now=NOW, mentor=mentor)
    return await accepted_pair(
        database, cipher, guild_id=GUILD, mentee_id=ANN, mentor_id=BO, now=NOW, reasons=[]
    )


async def test_no_feedback_card_is_claimed_for_someone_who_erased_their_data(
    database: Database, cipher: Cipher
) -> None:
    pair_id = await _pair_of_ann_and_bo(database, cipher)
    async with database.session() as session:
        await delete_member(session, user_id=BO, cipher=cipher)
    async with database.session() as session:
        assert (
            await claim_feedback(session, guild_id=GUILD, pair_id=pair_id, user_id=BO, now=NOW)
            is None
        )
    assert await tables_naming(database, BO) == []


async def test_an_erase_waiting_on_a_feedback_claim_removes_the_card_too(
    database: Database, cipher: Cipher
) -> None:
    """The pair ended just as its mentor erased their data: the card claimed for them while
    the erase waited is gone with the rest (the profile row orders the two)."""
    pair_id = await _pair_of_ann_and_bo(database, cipher)
    await erase_while_writing(
        database,
        cipher,
        BO,
        lambda session: claim_feedback(
            session, guild_id=GUILD, pair_id=pair_id, user_id=BO, now=NOW
        ),
    )
    assert await tables_naming(database, BO) == []
