"""Typed answers survive a database failure: the member is told, and Retry saves exactly what
they typed (issue 13, "Typed answers survive a failure")."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.client import LanternBot, create_bot
from bot.config import Config
from bot.crypto import Cipher
from bot.db.engine import Database, create_engine
from tests.conftest import make_database
from tests.e2e import onboarding_flow as flow
from tests.e2e.conftest import Community

STORY = {
    "about": "Nurse by night, [click me](https://evil.example) **bold**\nlearning Hokkien",
    "hopes": "y" * 1000,
}


def _impatient(url: str) -> Database:
    """Lantern's database, giving up quickly when a table is locked."""
    if url.startswith("postgresql"):
        base, _, schema = url.partition("?options=-csearch_path%3D")
        settings = {"search_path": schema, "application_name": schema, "lock_timeout": "300"}
        return Database(create_engine(base, connect_args={"server_settings": settings}))
    return make_database(url, busy_timeout_ms=200)


@pytest.fixture
def simcord_bot(
    config: Config, database_url: str, cipher: Cipher, database: Database
) -> LanternBot:
    return create_bot(config, database=_impatient(database_url), cipher=cipher)


@contextmanager
def _sqlite_locked(database_url: str) -> Iterator[None]:
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    locker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        locker.execute("ROLLBACK")
        locker.close()


@asynccontextmanager
async def _locked(database_url: str) -> AsyncIterator[None]:
    """Writes to the profiles are impossible until the block ends (both databases)."""
    if not database_url.startswith("postgresql"):
        with _sqlite_locked(database_url):
            yield
        return
    admin = make_database(database_url)
    try:
        async with admin.engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(text("LOCK TABLE member_profile IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await transaction.rollback()
    finally:
        await admin.dispose()


async def test_a_page_that_cannot_be_saved_offers_retry_with_what_was_typed(
    community: Community, database_url: str
) -> None:
    env = community.env
    ann = await flow.joins(community)
    card = (await flow.onboard_in_dm(ann, flow.MENTEE_PAGES, stop_after="rhythm")).response
    assert "Step 6 of 7" in card.content
    async with _locked(database_url):
        failed = await flow.answer_page_in_dm(ann, card, STORY)
        said = failed.response.content
        assert "temporarily unavailable" in said and "Retry" in said
        assert flow.labels(failed.response) == ["Retry", "Edit first"]
        assert (await flow.row_of(env, community.guild.id, ann.id)).step == "story"
    retried = await ann.user.click(failed.response, label="Retry")
    assert "Step 7 of 7" in retried.response.content
    profile = await flow.profile_of(env, community.guild.id, ann.id)
    assert profile.about == STORY["about"] and profile.hopes == STORY["hopes"]
    assert (await flow.row_of(env, community.guild.id, ann.id)).step == "privacy"


async def test_edit_first_reopens_the_form_with_what_was_typed(
    community: Community, database_url: str
) -> None:
    ann = await flow.joins(community)
    card = await flow.start_in_dm(ann)
    async with _locked(database_url):
        failed = await flow.answer_page_in_dm(ann, card, flow.MENTEE_PAGES["you"])
        assert "temporarily unavailable" in failed.response.content
    form = await ann.user.click(failed.response, label="Edit first")
    assert form.modal is not None and "Nursing" in str(form.modal)
    saved = await ann.user.submit_modal(form, flow.MENTEE_PAGES["you"])
    assert "Step 2 of 7" in saved.response.content
