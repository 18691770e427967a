"""Quiz attempts keep the questions they were started with.

quiz_attempts.questions holds each question's text, options, key and explanation as asked, in order, so a
teacher deleting, reordering or rewriting questions mid-attempt neither wedges the attempt nor changes what it
is graded against. NULL for attempts started before this revision: they read the quiz's current questions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE quiz_attempts ADD COLUMN questions JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE quiz_attempts DROP COLUMN questions")
