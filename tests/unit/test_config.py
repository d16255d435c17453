"""Configuration: the example parses; every mistake is one line naming file, field, expectation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from tests.factories import write_config

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_parses() -> None:
    config = load_config(ROOT / "config.example.toml", env={})
    assert config.database.url.startswith("sqlite+aiosqlite://")
    assert config.token is None


@pytest.mark.parametrize(
    ("content", "field", "expected"),
    [
        ("[bot]\nlog_level = 'LOUD'\n", "[bot] log_level", "expected one of"),
        ("[bot\n", "not valid TOML", "line 1"),
        ("[bot]\nlog_levl = 'INFO'\n", "[bot] log_levl", "is not a setting"),
        ("[botz]\n", "[botz]", "is not a section"),
        ("[database]\nurl = 3\n", "[database] url", "a quoted string"),
        ("[database]\nurl = 'mysql://x/y'\n", "[database] url", "postgresql+asyncpg"),
        ("[database]\nurl = 'not a url'\n", "[database] url", "database URL"),
        ("[bot]\ndefault_timezone = 'Mars/Base'\n", "default_timezone", "IANA time zone"),
        ("[scheduler]\nenabled = 'yes'\n", "[scheduler] enabled", "true or false"),
        ("[scheduler]\ncatch_up_minutes = -5\n", "catch_up_minutes", "greater than or equal"),
        ("token = 'abc'\n", "token", "environment"),
        ("[gateway]\nshard_count = 4\nshard_ids = [4]\n", "[gateway] shard_ids", "0 and 3"),
        ("[gateway]\nshard_count = 4\nshard_ids = [1, 1]\n", "[gateway] shard_ids", "once"),
        ("[gateway]\nshard_ids = []\n", "[gateway] shard_ids", "at least one shard"),
        ("[gateway]\nshard_ids = '0'\n", "[gateway] shard_ids", "a list of whole numbers"),
        ("[gateway]\nshard_count = 0\n", "[gateway] shard_count", "greater than or equal"),
        ("[ratelimit]\nredis_url = 'localhost'\n", "[ratelimit] redis_url", "redis://"),
        ("[ratelimit]\nrate_per_s = 60\n", "[ratelimit] rate_per_s", "less than or equal to 50"),
        ("[metrics]\nport = 70000\n", "[metrics] port", "less than or equal"),
    ],
)
def test_each_mistake_is_one_line_naming_the_field(
    tmp_path: Path, content: str, field: str, expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert field in message
    assert expected in message


def test_sharding_names_the_shards_this_process_owns_and_whether_it_gets_dms(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[gateway]\nshard_count = 4\nshard_ids = [2, 3]\n")
    config = load_config(path, env={})
    assert config.gateway.owned == (2, 3) and not config.gateway.receives_dms
    path.write_text("[gateway]\nshard_count = 4\n")
    config = load_config(path, env={})
    assert config.gateway.owned == (0, 1, 2, 3) and config.gateway.receives_dms


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="copy config.example.toml"):
        load_config(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize("token", [None, "", "changeme", "your-token-here"])
def test_missing_or_placeholder_token_is_refused(token: str | None) -> None:
    env = {} if token is None else {"DISCORD_TOKEN": token}
    config = load_config(ROOT / "config.example.toml", env=env)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        config.require_token()


def test_token_and_keys_come_from_the_environment_and_stay_secret() -> None:
    from bot.crypto import Cipher

    k1, k2 = Cipher.generate_key().decode(), Cipher.generate_key().decode()
    env = {"DISCORD_TOKEN": "real-token-value", "LANTERN_DATA_KEYS": f"{k1}, {k2}"}
    config = load_config(ROOT / "config.example.toml", env=env)
    assert config.require_token().get_secret_value() == "real-token-value"
    assert len(config.data_keys) == 2
    assert "real-token-value" not in repr(config) and k1 not in repr(config)


def test_database_url_from_environment_is_validated() -> None:
    env = {"LANTERN_DATABASE_URL": "mysql://nope"}
    with pytest.raises(ConfigError, match="LANTERN_DATABASE_URL"):
        load_config(ROOT / "config.example.toml", env=env)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=60,
    )


def test_check_config_cli_succeeds_on_the_example() -> None:
    result = _cli("check-config", "config.example.toml")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_check_config_cli_fails_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[database]\nurl = 'mysql://x'\n")
    result = _cli("check-config", str(bad))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "Traceback" not in result.stderr
    assert str(bad) in lines[0] and "[database] url" in lines[0]


def test_run_without_token_exits_with_instructions() -> None:
    result = _cli("run", "--config", "config.example.toml")
    assert result.returncode != 0
    assert "DISCORD_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_start_up_failures_a_person_can_fix_are_explained_in_one_line() -> None:
    import discord

    from bot.__main__ import explain_run_failure

    bad_token = explain_run_failure(discord.LoginFailure("Improper token has been passed."))
    assert bad_token is not None and "DISCORD_TOKEN" in bad_token
    intents = explain_run_failure(discord.PrivilegedIntentsRequired(None))
    assert intents is not None and "Server Members Intent" in intents
    assert explain_run_failure(ConnectionRefusedError()) is not None
    assert explain_run_failure(RuntimeError("a bug")) is None


BAD_KEY = "not-a-key-" + "x" * 20


def test_a_malformed_data_key_in_the_environment_is_one_line_that_hides_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(ROOT / "config.example.toml", env={"LANTERN_DATA_KEYS": BAD_KEY})
    message = str(caught.value)
    assert "LANTERN_DATA_KEYS" in message and "key 1 of 1" in message
    assert BAD_KEY not in message and "\n" not in message


def test_check_config_refuses_a_malformed_data_key(tmp_path: Path) -> None:
    result = _cli("check-config", "config.example.toml", env={"LANTERN_DATA_KEYS": BAD_KEY})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "LANTERN_DATA_KEYS" in result.stderr and BAD_KEY not in result.stderr


def _config_with_key_file(tmp_path: Path, content: bytes) -> Path:
    key_file = tmp_path / "data.key"
    key_file.write_bytes(content)
    return write_config(tmp_path, key_file=key_file)


def test_check_config_and_run_refuse_a_malformed_key_file_in_one_line(tmp_path: Path) -> None:
    config = _config_with_key_file(tmp_path, b"garbage\n")
    checked = _cli("check-config", str(config))
    assert checked.returncode == 2, checked.stdout
    ran = _cli("run", "--config", str(config), env={"DISCORD_TOKEN": "MTIz.real-looking.token"})
    assert ran.returncode == 2
    for result in (checked, ran):
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "line 1 is not a valid data key" in lines[0] and "data.key" in lines[0]


def test_check_config_counts_the_keys_of_a_good_key_file(tmp_path: Path) -> None:
    from bot.crypto import Cipher

    config = _config_with_key_file(tmp_path, Cipher.generate_key() + b"\n")
    result = _cli("check-config", str(config))
    assert result.returncode == 0, result.stderr
    assert "(1 key)" in result.stdout


@pytest.mark.parametrize(
    "url", ["lantern:s3cret-pw@db/x", "postgresql+asyncpg://lantern:s3cret-pw@db:notaport/x"]
)
def test_a_malformed_database_url_never_echoes_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(ROOT / "config.example.toml", env={"LANTERN_DATABASE_URL": url})
    assert "s3cret-pw" not in str(caught.value)
    assert "LANTERN_DATABASE_URL" in str(caught.value)
