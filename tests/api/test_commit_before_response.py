"""A request's changes are committed before its response is sent: a commit that fails is the client's error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.quiz.rows import make_course

FAILS_AT_COMMIT = "a title refused at commit"


@pytest.fixture
async def deferred_check(engine: AsyncEngine, db: AsyncEngine) -> AsyncIterator[None]:
    """A real deferred constraint: PostgreSQL checks it only when the transaction commits."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"""
                CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.title = '{FAILS_AT_COMMIT}' THEN
                        RAISE EXCEPTION 'title refused' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """
            )
        )
        await conn.execute(
            text(
                "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER UPDATE ON courses "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"
            )
        )
    yield
    async with engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER refuse_at_commit ON courses"))
        await conn.execute(text("DROP FUNCTION refuse_at_commit()"))


async def test_an_edit_whose_commit_fails_is_answered_with_an_error_not_a_success(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], auth, deferred_check: None
) -> None:  # type: ignore[no-untyped-def]
    rows = await make_course(sessions, teacher="teacher-commit")
    teacher = auth("teacher-commit", "teacher")
    refused = await client.patch(f"/api/courses/{rows.course_id}", headers=teacher, json={"title": FAILS_AT_COMMIT})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "conflict"
    assert (await client.get(f"/api/courses/{rows.course_id}", headers=teacher)).json()["title"] == "Cells"
    accepted = await client.patch(f"/api/courses/{rows.course_id}", headers=teacher, json={"title": "Cells II"})
    assert accepted.status_code == 200
    assert (await client.get(f"/api/courses/{rows.course_id}", headers=teacher)).json()["title"] == "Cells II"
