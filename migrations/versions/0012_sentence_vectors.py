"""Quoted answers' sentence vectors kept in PostgreSQL; chat_history indexed by course and time.

`sentence_vectors` holds the embedding of each quotable sentence of a course under the embedding model's name and
the sentence text's hash: computed by the worker once a course is ready (and by an API process for a sentence it
met first), so a student's first question about a passage no longer waits for its sentences to be embedded, in
any API process, after any restart. A vector belongs to its exact text and model, so an edited or re-ingested
course cannot be answered with another text's vector. Removed with its course.

`idx_chat_history_course_time`: the teacher's transcripts, analytics and course lists read a course's messages
by time (`course_id = ? AND timestamp >= ?`, `max(timestamp)` per course); the seed indexes only user, session
and time alone.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE sentence_vectors (
            course_id INTEGER NOT NULL,
            model VARCHAR(200) NOT NULL,
            text_hash BYTEA NOT NULL,
            vector BYTEA NOT NULL,
            CONSTRAINT pk_sentence_vectors PRIMARY KEY (course_id, model, text_hash),
            CONSTRAINT fk_sentence_vector_course FOREIGN KEY (course_id)
                REFERENCES courses(course_id) ON DELETE CASCADE
        )
        """
    )
    op.execute("CREATE INDEX idx_chat_history_course_time ON chat_history (course_id, timestamp)")


def downgrade() -> None:
    op.execute("DROP INDEX idx_chat_history_course_time")
    op.execute("DROP TABLE sentence_vectors")
