"""quiet pair spaces close: the per-server setting and each space's warning

Revision ID: c8e2f4a6b1d3
Revises: 513fc8b3085b
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "c8e2f4a6b1d3"
down_revision: str | None = "513fc8b3085b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pair_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("close_after_quiet_days", sa.Integer(), nullable=False, server_default="90")
        )
    with op.batch_alter_table("pair_space", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quiet_warned_for", bot.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("quiet_closes_at", bot.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("pair_space", schema=None) as batch_op:
        batch_op.drop_column("quiet_closes_at")
        batch_op.drop_column("quiet_warned_for")
    with op.batch_alter_table("pair_settings", schema=None) as batch_op:
        batch_op.drop_column("close_after_quiet_days")
