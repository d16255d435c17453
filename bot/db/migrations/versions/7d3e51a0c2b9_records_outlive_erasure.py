"""records others made outlive a member's erasure

Blocks and reports made by someone else keep applying after the member they are about erases
their data (their id gives way to a keyed pseudonym); moderators' audit entries stay with the
actor forgotten.

Revision ID: 7d3e51a0c2b9
Revises: 0b2c168799df
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7d3e51a0c2b9"
down_revision: str | None = "0b2c168799df"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table("block", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("blocked_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.alter_column("blocked_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.create_index(batch_op.f("ix_block_blocked_key"), ["blocked_key"], unique=False)
    with op.batch_alter_table("pair_report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reported_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.alter_column("reported_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_pair_report_reported_key"), ["reported_key"], unique=False
        )


def downgrade() -> None:
    # Rows whose person erased their data cannot name them again: they go.
    op.execute("DELETE FROM pair_report WHERE reported_id IS NULL")
    op.execute("DELETE FROM block WHERE blocked_id IS NULL")
    op.execute("DELETE FROM audit_entry WHERE actor_id IS NULL")
    with op.batch_alter_table("pair_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_report_reported_key"))
        batch_op.alter_column("reported_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("reported_key")
    with op.batch_alter_table("block", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_blocked_key"))
        batch_op.alter_column("blocked_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("blocked_key")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.BigInteger(), nullable=False)
