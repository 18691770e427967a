"""Chunks in PostgreSQL: the source of truth for retrieval; Chroma is the dense index built from it.

One row per indexed chunk under its Chroma id, written in the transaction that writes its course's weeks and
topics (a failed job leaves none) and removed with its file or course (ON DELETE CASCADE). A module or topic
deleted later leaves its chunks in the index, as Chroma does, with the reference cleared.

`search_vector` is PostgreSQL's own full-text index of the text, under the 'english' configuration: students
ask in inflected forms the book does not use ("recursive" for "recursion"), which only a stemmer matches, and
the stop words it drops carry no evidence; numbers, codes and identifiers ("XQ-7741", "3.14") are kept whole
and in parts by the parser under either configuration, so 'simple' would buy nothing for them.
`id` orders the rows and, with the count, tells a reader's cache that a course's chunks changed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE course_chunks (
            id BIGSERIAL PRIMARY KEY,
            chunk_id VARCHAR(64) NOT NULL,
            course_id INTEGER NOT NULL,
            file_id VARCHAR(100) NOT NULL,
            module_id INTEGER,
            topic_id INTEGER,
            week INTEGER,
            topic_title VARCHAR(500) NOT NULL DEFAULT '',
            filename VARCHAR(500) NOT NULL,
            page_start INTEGER NOT NULL,
            page_end INTEGER NOT NULL,
            chunk_index INTEGER NOT NULL,
            text TEXT NOT NULL,
            search_vector TSVECTOR GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED,
            created_at TIMESTAMP NOT NULL DEFAULT NOW(),
            CONSTRAINT uq_course_chunks_chunk_id UNIQUE (chunk_id),
            CONSTRAINT fk_chunk_course FOREIGN KEY (course_id) REFERENCES courses(course_id) ON DELETE CASCADE,
            CONSTRAINT fk_chunk_file FOREIGN KEY (file_id) REFERENCES source_files(file_id) ON DELETE CASCADE,
            CONSTRAINT fk_chunk_module FOREIGN KEY (module_id) REFERENCES modules(id) ON DELETE SET NULL,
            CONSTRAINT fk_chunk_topic FOREIGN KEY (topic_id) REFERENCES topics(id) ON DELETE SET NULL
        )
        """
    )
    op.execute("CREATE INDEX idx_course_chunks_course_id ON course_chunks (course_id, id)")
    op.execute("CREATE INDEX idx_course_chunks_file_id ON course_chunks (file_id)")
    op.execute("CREATE INDEX idx_course_chunks_module_id ON course_chunks (module_id)")
    op.execute("CREATE INDEX idx_course_chunks_topic_id ON course_chunks (topic_id)")
    op.execute("CREATE INDEX idx_course_chunks_search ON course_chunks USING GIN (search_vector)")


def downgrade() -> None:
    op.execute("DROP TABLE course_chunks")
