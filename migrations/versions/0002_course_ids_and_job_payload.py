"""Allocate public course ids from a sequence; keep each job's request in job_queue.payload.

courses.course_id is the seed's public, "backward compatible" id; a sequence hands out new ones without
a racy MAX()+1. A job's payload (course, files, whether it created the course) lets a retried job redo
exactly its own work.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE courses_course_id_seq OWNED BY courses.course_id")
    op.execute("SELECT setval('courses_course_id_seq', COALESCE((SELECT MAX(course_id) FROM courses), 0) + 1, false)")
    op.execute("ALTER TABLE courses ALTER COLUMN course_id SET DEFAULT nextval('courses_course_id_seq')")
    op.execute("ALTER TABLE job_queue ADD COLUMN payload JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE job_queue DROP COLUMN payload")
    op.execute("ALTER TABLE courses ALTER COLUMN course_id DROP DEFAULT")
    op.execute("DROP SEQUENCE courses_course_id_seq")
