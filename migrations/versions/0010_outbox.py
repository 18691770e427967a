"""A durable outbox: messages to other systems (xAPI statements, LMS scores) written with the rows they report.

A message is inserted in the transaction of the event it reports, so both commit or neither does; a worker
delivers it later with retries. `dedup_key` makes a message idempotent per kind. `next_attempt_at` is when a
message is due: a worker that claims one pushes it forward by a lease, so a claim whose worker died expires.
The partial index holds only the messages still to deliver.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE outbox_messages (
            id BIGSERIAL PRIMARY KEY,
            kind VARCHAR(50) NOT NULL,
            dedup_key VARCHAR(200) NOT NULL,
            payload JSONB NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT NOW(),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TIMESTAMP NOT NULL DEFAULT NOW(),
            last_error TEXT,
            delivered_at TIMESTAMP,
            failed_at TIMESTAMP,
            CONSTRAINT uq_outbox_kind_key UNIQUE (kind, dedup_key)
        )
        """
    )
    op.execute(
        "CREATE INDEX idx_outbox_due ON outbox_messages (next_attempt_at) "
        "WHERE delivered_at IS NULL AND failed_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE outbox_messages")
