"""leftover pair spaces: spaces whose pair was erased, kept for retention to delete

Revision ID: 3f8a2c61d9e7
Revises: 7c1e5a9d2b40
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "3f8a2c61d9e7"
down_revision: str | None = "7c1e5a9d2b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leftover_space",
        sa.Column("space_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("delete_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("space_id"),
    )
    with op.batch_alter_table("leftover_space", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leftover_space_delete_at"), ["delete_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("leftover_space", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leftover_space_delete_at"))
    op.drop_table("leftover_space")
