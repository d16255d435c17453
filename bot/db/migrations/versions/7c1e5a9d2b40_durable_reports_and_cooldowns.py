"""durable reports, help calls and cooldowns

Revision ID: 7c1e5a9d2b40
Revises: 7d3e51a0c2b9
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db.types

revision: str = "7c1e5a9d2b40"
down_revision: str | None = "7d3e51a0c2b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cooldown",
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("last_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "action"),
    )
    op.create_table(
        "help_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("pair_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at_checkin", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("alerted_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("alert_claimed_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("help_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_call_guild_id"), ["guild_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_help_call_pair_id"), ["pair_id"], unique=False)
    with op.batch_alter_table("pair_report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alert_claimed_at", bot.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("acknowledged_at", bot.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("pair_report", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("alert_claimed_at")
    with op.batch_alter_table("help_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_call_pair_id"))
        batch_op.drop_index(batch_op.f("ix_help_call_guild_id"))
    op.drop_table("help_call")
    op.drop_table("cooldown")
