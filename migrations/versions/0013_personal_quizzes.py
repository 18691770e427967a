"""Personal quizzes: a practice or review quiz the tutor made for one student is marked with that student, so it
stays out of the course's quiz lists (the API's, the console's, analytics) and goes with the student's account.
Attempts are found by their response (analytics read a response's answers against the attempt's questions).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "quizzes",
        sa.Column(
            "made_for",
            sa.String(100),
            sa.ForeignKey("users.user_id", name="fk_quiz_made_for", ondelete="CASCADE"),
            nullable=True,
        ),
    )
    op.create_index("idx_quizzes_made_for", "quizzes", ["made_for"], postgresql_where=sa.text("made_for IS NOT NULL"))
    op.create_index("idx_quiz_attempts_response_id", "quiz_attempts", ["response_id"])
    # The ones made before: the tutor's practice and review quizzes (their ids say so), for whoever took them.
    op.execute(
        """
        UPDATE quizzes q SET made_for = a.user_id
        FROM (SELECT DISTINCT ON (quiz_id) quiz_id, user_id FROM quiz_attempts ORDER BY quiz_id, id) a
        WHERE a.quiz_id = q.quiz_id AND q.quiz_type = 'practice'
          AND (q.quiz_id LIKE 'review\\_%' OR q.quiz_id LIKE 'practice\\_%')
        """
    )


def downgrade() -> None:
    op.drop_index("idx_quiz_attempts_response_id", table_name="quiz_attempts")
    op.drop_index("idx_quizzes_made_for", table_name="quizzes")
    op.drop_column("quizzes", "made_for")
