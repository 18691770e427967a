"""Migration 0001 reproduces the seed's DDL; the models agree with it; ON DELETE rules behave."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db import migrate
from db.engine import create_database, drop_database, with_database
from db.models import Base
from tests.conftest import SHARED
from tests.db.catalog import SEED_TABLES, seed_statements, snapshot


@pytest.fixture
def scratch_database(pg_server_url: str):  # type: ignore[no-untyped-def]
    """Make empty databases on the test server; drop them afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"tutor_scratch_{uuid.uuid4().hex[:8]}"
        asyncio.run(create_database(pg_server_url, name))
        made.append(name)
        return with_database(pg_server_url, name)

    yield make
    for name in made:
        asyncio.run(drop_database(pg_server_url, name))


async def _apply_seed(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in seed_statements(SHARED / "seed-schema.md"):
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def test_migration_reproduces_the_seed_ddl(scratch_database) -> None:  # type: ignore[no-untyped-def]
    ours, seed = scratch_database(), scratch_database()
    migrate.upgrade(ours, "0001")
    asyncio.run(_apply_seed(seed))
    got, want = asyncio.run(snapshot(ours)), asyncio.run(snapshot(seed))

    assert {row[0] for row in want["columns"]} == set(SEED_TABLES)
    assert got["columns"] == want["columns"]
    # The one intended difference: the progress uniqueness also holds for NULL module/topic.
    assert got["constraints"] - want["constraints"] == {
        (
            "user_progress",
            "unique_user_progress",
            "u",
            "UNIQUE NULLS NOT DISTINCT (user_id, course_id, module_id, topic_id)",
        ),
    }
    assert {c[1] for c in want["constraints"] - got["constraints"]} == {"unique_user_progress"}
    index_diff = {i[1] for i in got["indexes"] ^ want["indexes"]}
    assert index_diff == {"unique_user_progress"}
    desc_indexes = {i[1] for i in got["indexes"] if " DESC)" in i[2]}
    assert desc_indexes == {
        "idx_courses_created_at",
        "idx_quiz_responses_submitted_at",
        "idx_job_queue_created_at",
        "idx_chat_history_timestamp",
    }


def test_upgrade_downgrade_upgrade_round_trips(scratch_database) -> None:  # type: ignore[no-untyped-def]
    url = scratch_database()
    migrate.upgrade(url)
    first = asyncio.run(snapshot(url))
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert asyncio.run(snapshot(url)) == {"columns": set(), "constraints": set(), "indexes": set()}
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert asyncio.run(snapshot(url)) == first


async def test_models_agree_with_the_migrations(engine: AsyncEngine) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        problems = await conn.run_sync(diff)
    assert problems == []


async def test_new_courses_get_sequential_public_ids(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        first = await conn.scalar(text("INSERT INTO courses (title) VALUES ('a') RETURNING course_id"))
        second = await conn.scalar(text("INSERT INTO courses (title) VALUES ('b') RETURNING course_id"))
    assert second == first + 1


async def _seed_course(conn) -> None:  # type: ignore[no-untyped-def]
    await conn.execute(text("INSERT INTO users (user_id, role) VALUES ('t1', 'teacher'), ('s1', 'student')"))
    await conn.execute(text("INSERT INTO courses (course_id, title, created_by) VALUES (7, 'Biology', 't1')"))
    await conn.execute(text("INSERT INTO modules (id, course_id, week, title) VALUES (70, 7, 1, 'Cells')"))
    await conn.execute(text("INSERT INTO topics (id, module_id, title, content) VALUES (700, 70, 'Osmosis', 'x')"))
    await conn.execute(text("INSERT INTO quizzes (quiz_id, course_id, module_id, title) VALUES ('q7', 7, 70, 'W1')"))
    await conn.execute(
        text("""INSERT INTO quiz_questions (quiz_id, question_number, question_text, options, correct_answer)
                VALUES ('q7', 1, '?', '{"A":"a","B":"b","C":"c","D":"d"}', 'A')""")
    )
    await conn.execute(text("INSERT INTO source_files (file_id, course_id, filename) VALUES ('f7', 7, 'a.pdf')"))
    await conn.execute(text("INSERT INTO user_progress (user_id, course_id, module_id) VALUES ('s1', 7, 70)"))


async def _count(conn, table: str) -> int:  # type: ignore[no-untyped-def]
    return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")))


async def test_deleting_a_course_cascades_to_its_content(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await _seed_course(conn)
        await conn.execute(text("DELETE FROM courses WHERE course_id = 7"))
        for table in ("modules", "topics", "quizzes", "quiz_questions", "source_files", "user_progress"):
            assert await _count(conn, table) == 0, table
        assert await _count(conn, "users") == 2


async def test_deleting_a_teacher_keeps_the_course_without_creator(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await _seed_course(conn)
        await conn.execute(text("DELETE FROM users WHERE user_id = 't1'"))
        assert await conn.scalar(text("SELECT created_by FROM courses WHERE course_id = 7")) is None
        assert await _count(conn, "modules") == 1


async def test_deleting_a_module_keeps_its_quiz_course_wide(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await _seed_course(conn)
        await conn.execute(text("DELETE FROM modules WHERE id = 70"))
        assert await conn.scalar(text("SELECT module_id FROM quizzes WHERE quiz_id = 'q7'")) is None


async def test_one_course_level_progress_row_per_student(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await _seed_course(conn)
        await conn.execute(text("INSERT INTO user_progress (user_id, course_id) VALUES ('s1', 7)"))
    with pytest.raises(IntegrityError, match="unique_user_progress"):
        async with db.begin() as conn:
            await conn.execute(text("INSERT INTO user_progress (user_id, course_id) VALUES ('s1', 7)"))


async def test_a_week_appears_once_per_course(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await _seed_course(conn)
    with pytest.raises(IntegrityError, match="unique_course_week"):
        async with db.begin() as conn:
            await conn.execute(text("INSERT INTO modules (course_id, week, title) VALUES (7, 1, 'again')"))
