"""Read a database's schema from the PostgreSQL catalogs, in a form two databases can be compared by."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

SEED_TABLES = (
    "users",
    "courses",
    "modules",
    "topics",
    "quizzes",
    "quiz_questions",
    "quiz_responses",
    "job_queue",
    "source_files",
    "user_progress",
    "chat_history",
)

COLUMNS = """
SELECT table_name, column_name, data_type, udt_name, character_maximum_length, is_nullable, column_default
FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'alembic_version'
"""
CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'alembic_version'
"""
INDEXES = """
SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'alembic_version'
"""


async def snapshot(url: str) -> dict[str, set[tuple[object, ...]]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                name: {tuple(row) for row in (await conn.execute(text(sql))).all()}
                for name, sql in (("columns", COLUMNS), ("constraints", CONSTRAINTS), ("indexes", INDEXES))
            }
    finally:
        await engine.dispose()


def seed_statements(seed_md: Path) -> list[str]:
    """The CREATE statements of the seed's eleven tables, as written in shared/seed-schema.md."""
    blocks = re.findall(r"```sql\n(.*?)```", seed_md.read_text(), flags=re.S)
    statements: list[str] = []
    for block in blocks:
        match = re.search(r"CREATE TABLE (\w+) \(\n", block)
        if not match or match.group(1) not in SEED_TABLES:
            continue  # the optional pgvector table and the outline script with "(...)"
        body = "\n".join(line.split("--")[0] for line in block.splitlines())
        statements += [s.strip() for s in body.split(";") if s.strip()]
    return statements
