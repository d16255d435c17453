"""peer circles: circles, their members, the waiting list; prompts to circle spaces

Revision ID: 9c41e2b7a5d3
Revises: c8e2f4a6b1d3
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db.types

revision: str = "9c41e2b7a5d3"
down_revision: str | None = "c8e2f4a6b1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = bot.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "circle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("area", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reasons_enc", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("space_error", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("error_alerted", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("opening_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("opened_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "circle_member",
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("joined_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["circle_id"], ["circle.id"]),
        sa.PrimaryKeyConstraint("circle_id", "user_id"),
    )
    op.create_table(
        "circle_waiting",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("area", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("facilitate", sa.Boolean(), nullable=False),
        sa.Column("since", _TS, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id"),
    )
    indexes = {"circle": ("guild_id", "status", "channel_id", "thread_id")}
    indexes["circle_member"] = ("user_id", "guild_id")
    for table, columns in indexes.items():
        for column in columns:
            op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
    with op.batch_alter_table("prompt_schedule", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("to_circles", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("prompt_schedule", schema=None) as batch_op:
        batch_op.drop_column("to_circles")
    for table in ("circle_waiting", "circle_member", "circle"):
        op.drop_table(table)  # its indexes go with it
