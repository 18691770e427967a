"""Quiz attempts in progress: conversational quiz state that survives restarts and spans streams.

One row per attempt. A partial unique index allows one open attempt per chat session; `position` is the
question being asked, advanced with compare-and-set so a second tab cannot answer the same question twice.
quiz_responses still receives each finished attempt exactly once (response_id links them).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE quiz_attempts (
            id SERIAL PRIMARY KEY,
            attempt_id VARCHAR(100) UNIQUE NOT NULL,
            session_id VARCHAR(100) NOT NULL,
            user_id VARCHAR(100) NOT NULL,
            course_id INTEGER NOT NULL,
            quiz_id VARCHAR(100) NOT NULL,
            status VARCHAR(20) NOT NULL DEFAULT 'running',
            position INTEGER NOT NULL DEFAULT 1,
            question_numbers JSONB NOT NULL,
            answers JSONB NOT NULL DEFAULT '{}'::jsonb,
            started_at TIMESTAMP NOT NULL DEFAULT NOW(),
            updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
            deadline TIMESTAMP,
            response_id INTEGER,
            CONSTRAINT fk_attempt_user FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE,
            CONSTRAINT fk_attempt_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
            CONSTRAINT fk_attempt_quiz FOREIGN KEY (quiz_id) REFERENCES quizzes(quiz_id) ON DELETE CASCADE,
            CONSTRAINT fk_attempt_response FOREIGN KEY (response_id) REFERENCES quiz_responses(id) ON DELETE SET NULL,
            CONSTRAINT ck_attempt_status CHECK (status IN ('running', 'paused', 'finished', 'abandoned'))
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_quiz_attempts_open_session ON quiz_attempts (session_id) "
        "WHERE status IN ('running', 'paused')"
    )
    op.execute("CREATE INDEX idx_quiz_attempts_user_id ON quiz_attempts (user_id)")
    op.execute("CREATE INDEX idx_quiz_attempts_quiz_id ON quiz_attempts (quiz_id)")


def downgrade() -> None:
    op.execute("DROP TABLE quiz_attempts")
