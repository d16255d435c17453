"""circles: when a circle was last active, and the warning before a quiet circle closes

Revision ID: f3b8d1c5a7e2
Revises: e4a7c2d9f613
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "f3b8d1c5a7e2"
down_revision: str | None = "e4a7c2d9f613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("circle", schema=None) as batch_op:
        for name in ("last_activity_at", "quiet_warned_for", "quiet_closes_at"):
            batch_op.add_column(
                sa.Column(name, bot.db.types.UTCDateTime(timezone=True), nullable=True)
            )
    # No activity was recorded before this revision, so an open circle counts from the upgrade:
    # none closes (or is warned) only because Lantern started looking.
    circle = sa.table(
        "circle",
        sa.column("status", sa.String()),
        sa.column("last_activity_at", bot.db.types.UTCDateTime(timezone=True)),
    )
    op.execute(
        circle.update().where(circle.c.status == "open").values(last_activity_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("circle", schema=None) as batch_op:
        batch_op.drop_column("quiet_closes_at")
        batch_op.drop_column("quiet_warned_for")
        batch_op.drop_column("last_activity_at")
