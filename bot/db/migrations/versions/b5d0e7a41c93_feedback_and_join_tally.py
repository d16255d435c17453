"""end-of-mentorship feedback, and joins counted per server and day for /insights

Revision ID: b5d0e7a41c93
Revises: 3f8a2c61d9e7
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "b5d0e7a41c93"
down_revision: str | None = "3f8a2c61d9e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mentorship_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("pair_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=True),
        sa.Column("recommend", sa.String(length=8), nullable=True),
        sa.Column("words_enc", sa.String(), nullable=True),
        sa.Column("share_words", sa.Boolean(), nullable=False),
        sa.Column("asked_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pair_id", "user_id", name="uq_feedback_pair_user"),
    )
    with op.batch_alter_table("mentorship_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mentorship_feedback_guild_id"), ["guild_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mentorship_feedback_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mentorship_feedback_answered_at"), ["answered_at"], unique=False
        )
    op.create_table(
        "join_tally",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("day", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("joined", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("join_tally")
    with op.batch_alter_table("mentorship_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentorship_feedback_answered_at"))
        batch_op.drop_index(batch_op.f("ix_mentorship_feedback_user_id"))
        batch_op.drop_index(batch_op.f("ix_mentorship_feedback_guild_id"))
    op.drop_table("mentorship_feedback")
