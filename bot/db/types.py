"""Column types shared by every table: Discord ids and UTC-aware timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as timezone-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def snowflake(*, primary_key: bool = False, index: bool = False, nullable: bool = False) -> Any:
    """A Discord id column: 64-bit, since ids overflow PostgreSQL INTEGER."""
    return Field(
        default=None if nullable or primary_key else ...,
        primary_key=primary_key,
        index=index,
        sa_type=BigInteger,
        nullable=nullable,
    )


def timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A UTC-aware timestamp column."""
    return Field(
        default=None if nullable else ...,
        sa_type=UTCDateTime,
        nullable=nullable,
        index=index,
    )


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)
