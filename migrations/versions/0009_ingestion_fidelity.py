"""Ingestion fidelity: generated quiz questions of low confidence are marked for the teacher's review.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Offline questions of low confidence are kept and marked for the teacher, not dropped silently.
    op.add_column(
        "quiz_questions", sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.text("false"))
    )


def downgrade() -> None:
    op.drop_column("quiz_questions", "needs_review")
