"""The teacher console: a quiz question's review mark.

Sign-in codes and web sessions live in Redis (short-lived, revoked by deleting their key), so the only schema
change is `quiz_questions.reviewed_at`: when a teacher last marked the question as checked (NULL: not yet).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE quiz_questions ADD COLUMN reviewed_at TIMESTAMP")


def downgrade() -> None:
    op.execute("ALTER TABLE quiz_questions DROP COLUMN reviewed_at")
