"""Workers' heartbeats on job rows and stalled jobs; the time a streaming reply was last saved.

job_queue gains the worker running a job, its last heartbeat and how many runs the job has had, so a job whose
worker died is seen (stalled) and retried within a minute. chat_history gains `updated_at`, written as a reply
streams, so a reply whose process died is found and closed as interrupted. Both partial indexes hold only the
rows in flight.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE job_queue ADD COLUMN worker VARCHAR(255), ADD COLUMN heartbeat_at TIMESTAMP, "
        "ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0"
    )
    op.execute("CREATE INDEX idx_job_queue_heartbeat ON job_queue (heartbeat_at) WHERE status = 'processing'")
    op.execute("ALTER TABLE chat_history ADD COLUMN updated_at TIMESTAMP DEFAULT NOW()")
    op.execute(
        "CREATE INDEX idx_chat_history_streaming ON chat_history (updated_at) "
        "WHERE (metadata ->> 'status') = 'streaming'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_chat_history_streaming")
    op.execute("ALTER TABLE chat_history DROP COLUMN updated_at")
    op.execute("DROP INDEX idx_job_queue_heartbeat")
    op.execute("ALTER TABLE job_queue DROP COLUMN worker, DROP COLUMN heartbeat_at, DROP COLUMN attempts")
