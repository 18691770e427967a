"""OCR: a chunk whose text was recognised on a scanned page carries a flag and the recognizer's confidence.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("course_chunks", sa.Column("ocr", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    op.add_column("course_chunks", sa.Column("ocr_confidence", sa.REAL(), nullable=True))


def downgrade() -> None:
    op.drop_column("course_chunks", "ocr_confidence")
    op.drop_column("course_chunks", "ocr")
