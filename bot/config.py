"""Lantern's configuration: one typed, frozen object read once from a TOML file.

Secrets never live in the file: the Discord token and the data-encryption keys come from the
environment. Every mistake becomes a ``ConfigError`` whose message is one line naming the file,
the field and what was expected.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

TOKEN_ENV = "DISCORD_TOKEN"
KEYS_ENV = "LANTERN_DATA_KEYS"
DATABASE_URL_ENV = "LANTERN_DATABASE_URL"

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_PLACEHOLDER_TOKENS = {"", "changeme", "your-token-here", "token", "xxx", "placeholder"}


class ConfigError(Exception):
    """A configuration mistake, with a one-line message meant for the person running Lantern."""


NEW_KEY_HINT = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def data_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a data-encryption key (never showing the key), or ``None``."""
    from cryptography.fernet import Fernet

    try:
        Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return (
            "is not a valid data key: expected 44 characters of url-safe base64 "
            f"(32 bytes); make one with {NEW_KEY_HINT}"
        )
    return None


def _check_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        # Never echo the value: a malformed URL may still hold a password.
        raise ValueError(
            "a database URL such as sqlite+aiosqlite:///var/lantern.db "
            "(the value given is not shown, as it may hold a password)"
        ) from None
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ValueError(
            "a URL starting with sqlite+aiosqlite:// or postgresql+asyncpg://, "
            f"got {url.drivername}://"
        )
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"an IANA time zone such as 'Europe/London' or 'UTC', got {value!r}"
        ) from None
    return value


DatabaseUrl = Annotated[str, AfterValidator(_check_database_url)]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BotSection(_Section):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    default_timezone: TimeZoneName = "UTC"


class DatabaseSection(_Section):
    url: DatabaseUrl = "sqlite+aiosqlite:///var/lantern.db"
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=100, le=120_000)
    # Connections this process keeps open, and how many more a burst may open for a while.
    # Every process counts against PostgreSQL's max_connections (100 by default).
    pool_size: int = Field(default=10, ge=1, le=200)
    pool_max_overflow: int = Field(default=10, ge=0, le=200)
    # How long work waits for a free connection before the member is told "try again soon".
    pool_timeout_seconds: int = Field(default=30, ge=1, le=600)
    echo: bool = False
    migrate_on_start: bool = True


class SecuritySection(_Section):
    key_file: str = "var/lantern.key"


class SchedulerSection(_Section):
    enabled: bool = True
    catch_up_minutes: int = Field(default=60, ge=0, le=24 * 60)
    lease_seconds: int = Field(default=60, ge=10, le=3600)


class GatewaySection(_Section):
    """Discord's sharding: ``shard_count`` shards in all, this process connects ``shard_ids``.

    N processes split the servers by giving each a different part of ``shard_ids``. Direct
    messages always arrive on shard 0: exactly one process should own it (it answers every DM).
    """

    shard_count: int = Field(default=1, ge=1, le=4096)
    shard_ids: tuple[int, ...] | None = None
    sync_commands_on_start: bool = True

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("shard_ids")
    @classmethod
    def _owned_shards(
        cls, value: tuple[int, ...] | None, info: ValidationInfo
    ) -> tuple[int, ...] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")
        if not isinstance(count, int):
            return value
        if not value:
            raise ValueError(
                f"at least one shard id from 0 to {count - 1}, or leave shard_ids out "
                "to run every shard in this process"
            )
        outside = [s for s in value if not 0 <= s < count]
        if outside:
            raise ValueError(
                f"shard ids between 0 and {count - 1} (shard_count = {count}), got {outside}"
            )
        if len(set(value)) != len(value):
            raise ValueError(f"each shard id once, got {list(value)}")
        return value

    @property
    def owned(self) -> tuple[int, ...]:
        """The shards this process connects (all of them when ``shard_ids`` is left out)."""
        return self.shard_ids if self.shard_ids is not None else tuple(range(self.shard_count))

    @property
    def receives_dms(self) -> bool:
        """Discord sends every direct message on shard 0."""
        return 0 in self.owned


class RateLimitSection(_Section):
    """One REST budget for every process on this bot token (see README, Running at scale)."""

    redis_url: str = ""
    rate_per_s: float = Field(default=46.5, gt=0, le=50)
    fallback_rate_per_s: float = Field(default=10.0, gt=0, le=50)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                'a URL such as redis://127.0.0.1:6379/0, or "" to pace in this process only'
            )
        return value


class MetricsSection(_Section):
    """Prometheus metrics and the health endpoints; port 0 turns them off."""

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)


class Config(_Section):
    """Everything Lantern reads from config.toml, plus secrets from the environment."""

    bot: BotSection = BotSection()
    database: DatabaseSection = DatabaseSection()
    security: SecuritySection = SecuritySection()
    scheduler: SchedulerSection = SchedulerSection()
    gateway: GatewaySection = GatewaySection()
    ratelimit: RateLimitSection = RateLimitSection()
    metrics: MetricsSection = MetricsSection()
    token: SecretStr | None = None
    data_keys: tuple[SecretStr, ...] = ()
    source: str = "<defaults>"

    def require_token(self) -> SecretStr:
        """Return the Discord token, or explain exactly what to set."""
        if self.token is None or self.token.get_secret_value().strip().lower() in (
            _PLACEHOLDER_TOKENS
        ):
            raise ConfigError(
                f"environment: {TOKEN_ENV}: expected your bot token from the Discord Developer "
                "Portal (Bot > Reset Token); it is missing or still a placeholder"
            )
        return self.token


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if len(parts) == 1:
        return f"[{parts[0]}]"
    if len(parts) >= 2:
        return f"[{parts[0]}] {'.'.join(parts[1:])}"
    return parts[0] if parts else "<root>"


def _explain(error: dict[str, Any]) -> str:
    kind = error["type"]
    msg = str(error.get("msg", ""))
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden" and len(error["loc"]) == 1:
        return "is not a section Lantern knows; check the spelling against config.example.toml"
    if kind == "extra_forbidden":
        return "is not a setting Lantern knows; check the spelling against config.example.toml"
    if kind == "value_error":
        return "expected " + msg.removeprefix("Value error, ")
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}, got {error.get('input')!r}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        wanted = kind.split("_")[0]
        names = {
            "int": "a whole number",
            "bool": "true or false",
            "string": "a quoted string",
            "model": "a [section] table",
            "dict": "a [section] table",
            "float": "a number",
            "tuple": "a list of whole numbers such as [0, 1]",
        }
        return f"expected {names.get(wanted, wanted)}, got {error.get('input')!r}"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return f"expected a number that is {msg.removeprefix('Input should be ')}"
    return f"expected a valid value ({msg})"


def load_config(path: str | os.PathLike[str], *, env: dict[str, str] | None = None) -> Config:
    """Read and validate ``path``; raise ``ConfigError`` with a one-line message on any mistake."""
    environ = os.environ if env is None else env
    file = Path(path)
    name = str(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{name}: file not found; copy config.example.toml to {name} and edit it"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: expected a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: is not valid TOML ({exc})") from None
    for forbidden in ("token", "data_keys", "source"):
        if forbidden in data:
            raise ConfigError(
                f"{name}: {forbidden}: secrets and internal fields do not belong in the file; "
                f"set {TOKEN_ENV} / {KEYS_ENV} in the environment instead"
            )
    if DATABASE_URL_ENV in environ:
        data.setdefault("database", {})
        if isinstance(data["database"], dict):
            data["database"]["url"] = environ[DATABASE_URL_ENV]
    token = environ.get(TOKEN_ENV)
    keys = tuple(k.strip() for k in environ.get(KEYS_ENV, "").split(",") if k.strip())
    for number, key in enumerate(keys, start=1):
        problem = data_key_problem(key)
        if problem:
            raise ConfigError(f"environment: {KEYS_ENV}: key {number} of {len(keys)} {problem}")
    try:
        return Config.model_validate(
            {
                **data,
                "token": SecretStr(token) if token is not None else None,
                "data_keys": tuple(SecretStr(k) for k in keys),
                "source": name,
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(first["loc"])
        if where.startswith("[database] url") and DATABASE_URL_ENV in environ:
            where = f"{DATABASE_URL_ENV} (environment, overrides [database] url)"
        raise ConfigError(f"{name}: {where}: {_explain(dict(first))}") from None
