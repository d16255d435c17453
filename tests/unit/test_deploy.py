"""Deploy steps apart from start, and SQLite's single-process mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bot.__main__ as cli
from bot.client import LanternBot
from bot.db.engine import DatabaseInUse, lock_single_process
from tests.factories import write_config

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> Path:
    return write_config(tmp_path, key_file=tmp_path / "lantern.key")


def test_a_second_process_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/lantern.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from bot.db.engine import lock_single_process\n"
            f"held = lock_single_process({url!r})\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        second = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--config", str(_config(tmp_path))],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "a-token-that-is-never-used"},
            timeout=60,
        )
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
    assert f"pid {holder.pid}" in lines[0] and "SQLite runs one process" in lines[0]
    assert "PostgreSQL" in lines[0]
    # The kernel released the lock with the process: the next start may go ahead.
    assert lock_single_process(url) is not None


def test_the_lock_holds_within_one_process_too_and_never_applies_to_postgresql(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/lantern.db"
    held = lock_single_process(url)
    assert held is not None
    with pytest.raises(DatabaseInUse, match=f"pid {os.getpid()}"):
        lock_single_process(url)
    held.close()
    assert lock_single_process("postgresql+asyncpg://lantern@127.0.0.1/lantern") is None
    assert lock_single_process("sqlite+aiosqlite:///:memory:") is None


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``run`` up to the point of connecting: what it migrated and whether it would sync."""
    seen: dict[str, Any] = {"migrated": 0}

    async def upgrade(database: Any) -> None:
        seen["migrated"] += 1

    def run(self: LanternBot, token: str, **kwargs: Any) -> None:
        seen["sync"] = self.config.gateway.sync_commands_on_start

    monkeypatch.setattr("bot.db.migrate.upgrade", upgrade)
    monkeypatch.setattr(LanternBot, "run", run)
    monkeypatch.setattr("bot.logging_setup.configure_logging", lambda level: None)
    monkeypatch.setenv("DISCORD_TOKEN", "a-token-that-is-never-used")
    monkeypatch.delenv("LANTERN_DATABASE_URL", raising=False)
    return seen


def test_run_alone_migrates_and_syncs_for_a_single_process(
    tmp_path: Path, started: dict[str, Any]
) -> None:
    assert cli.main(["run", "--config", str(_config(tmp_path))]) == 0
    assert started == {"migrated": 1, "sync": True}


def test_run_for_one_of_n_processes_neither_migrates_nor_syncs(
    tmp_path: Path, started: dict[str, Any]
) -> None:
    config = _config(tmp_path)
    assert cli.main(["run", "--config", str(config), "--no-migrate", "--no-sync"]) == 0
    assert started == {"migrated": 0, "sync": False}


def test_the_config_can_turn_both_off_for_every_process(
    tmp_path: Path, started: dict[str, Any]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/lantern.db"\nmigrate_on_start = false\n'
        f'[security]\nkey_file = "{tmp_path}/lantern.key"\n'
        "[gateway]\nsync_commands_on_start = false\n"
    )
    assert cli.main(["run", "--config", str(path)]) == 0
    assert started == {"migrated": 0, "sync": False}


def test_sync_commands_is_its_own_step_and_needs_the_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sync-commands", "--config", str(_config(tmp_path))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and "Traceback" not in result.stderr
