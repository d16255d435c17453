"""mentor pool generation: a per-server counter and change log for cached mentor pools

Revision ID: 513fc8b3085b
Revises: b5d0e7a41c93
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "513fc8b3085b"
down_revision: str | None = "b5d0e7a41c93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mentor_pool_generation",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("floor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id"),
    )
    op.create_table(
        "mentor_pool_change",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "generation", "mentor_id"),
    )


def downgrade() -> None:
    op.drop_table("mentor_pool_change")
    op.drop_table("mentor_pool_generation")
