"""Mastery and spaced review per student: a review card per question answered, a mastery estimate per topic.

review_cards holds the spaced-repetition state of one question for one student (the FSRS card as JSON, its
due time denormalised for the "what is due" index). topic_mastery holds a knowledge-tracing estimate per
student and topic, updated by every graded answer. Both go with the student, the course or the question.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE review_cards (
            id SERIAL PRIMARY KEY,
            user_id VARCHAR(100) NOT NULL,
            course_id INTEGER NOT NULL,
            question_id INTEGER NOT NULL,
            topic_id INTEGER,
            card JSONB NOT NULL,
            due TIMESTAMP NOT NULL,
            reviews INTEGER NOT NULL DEFAULT 0,
            lapses INTEGER NOT NULL DEFAULT 0,
            last_correct BOOLEAN,
            last_reviewed_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL DEFAULT NOW(),
            CONSTRAINT fk_review_user FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE,
            CONSTRAINT fk_review_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
            CONSTRAINT fk_review_question FOREIGN KEY (question_id) REFERENCES quiz_questions(id) ON DELETE CASCADE,
            CONSTRAINT fk_review_topic FOREIGN KEY (topic_id) REFERENCES topics(id) ON DELETE SET NULL,
            CONSTRAINT uq_review_user_question UNIQUE (user_id, question_id)
        )
        """
    )
    op.execute("CREATE INDEX idx_review_cards_due ON review_cards (user_id, course_id, due)")
    op.execute("CREATE INDEX idx_review_cards_course ON review_cards (course_id)")
    op.execute(
        """
        CREATE TABLE topic_mastery (
            id SERIAL PRIMARY KEY,
            user_id VARCHAR(100) NOT NULL,
            course_id INTEGER NOT NULL,
            topic_id INTEGER NOT NULL,
            mastery DOUBLE PRECISION NOT NULL,
            answers INTEGER NOT NULL DEFAULT 0,
            correct INTEGER NOT NULL DEFAULT 0,
            updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
            CONSTRAINT fk_mastery_user FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE,
            CONSTRAINT fk_mastery_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
            CONSTRAINT fk_mastery_topic FOREIGN KEY (topic_id) REFERENCES topics(id) ON DELETE CASCADE,
            CONSTRAINT uq_mastery_user_topic UNIQUE (user_id, topic_id),
            CONSTRAINT ck_mastery_range CHECK (mastery >= 0 AND mastery <= 1)
        )
        """
    )
    op.execute("CREATE INDEX idx_topic_mastery_course ON topic_mastery (course_id)")


def downgrade() -> None:
    op.execute("DROP TABLE topic_mastery")
    op.execute("DROP TABLE review_cards")
