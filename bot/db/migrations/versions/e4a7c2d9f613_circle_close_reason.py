"""circles: why a circle closed (too few left, never opened, its space was deleted)

Revision ID: e4a7c2d9f613
Revises: 9c41e2b7a5d3
Create Date: 2026-12-03 12:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e4a7c2d9f613"
down_revision: str | None = "9c41e2b7a5d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("circle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("close_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    # Circles closed before this revision closed one of two ways: before their space opened,
    # or because fewer than two people were left.
    op.execute(
        "UPDATE circle SET close_reason = CASE WHEN opened_at IS NULL THEN 'never_opened' "
        "ELSE 'too_few' END WHERE status = 'closed'"
    )


def downgrade() -> None:
    with op.batch_alter_table("circle", schema=None) as batch_op:
        batch_op.drop_column("close_reason")
