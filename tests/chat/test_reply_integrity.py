"""A reply is never lost to the progress write that goes with it: its topic may be gone by the time it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.conftest import Chat, ChatCourse
from tests.chat.sse import answer_text
from tutor.chat import recording
from tutor.identity import Principal, sign_in


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def _cited_topic(student: Chat, question: str) -> tuple[int, int]:
    events = await student.send(question)
    citation = next(d for n, d in events if n == "citation")
    return int(citation["module_id"]), int(citation["topic_id"])


async def test_an_answer_citing_a_deleted_topic_is_still_stored_and_done(
    chat: Callable[..., Chat], course: ChatCourse, engine: AsyncEngine
) -> None:
    question = course.items[3]["question"]
    _, topic_id = await _cited_topic(chat("student-cites"), question)
    async with engine.begin() as conn:  # the teacher (or a rerun job) removes the topic; the index still cites it
        await conn.execute(text("DELETE FROM topics WHERE id = :t"), {"t": topic_id})

    student = chat("student-after-delete")
    events = await student.send(question)
    assert events[-1][0] == "done", events[-1]
    assert next(d for n, d in events if n == "citation")["topic_id"] == topic_id
    rows = await _rows(
        engine,
        "SELECT message, metadata FROM chat_history WHERE session_id = :s AND message_type = 'assistant'",
        s=student.session_id,
    )
    assert len(rows) == 1 and rows[0][0] == answer_text(events)
    assert rows[0][1]["status"] == "complete" and rows[0][1]["incomplete"] is False
    assert await _rows(engine, "SELECT 1 FROM user_progress WHERE topic_id = :t", t=topic_id) == []
    # The student goes on chatting in the same session.
    assert (await student.send("What is anemia?"))[-1][0] == "done"


async def test_a_topic_deleted_while_the_reply_is_written_costs_only_its_progress(
    course: ChatCourse, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await sign_in(session, Principal("student-race", "student"))
    async with sessions() as session:
        _, reply_id = await recording.add_turn(
            session, user_id="student-race", course_id=course.course_id, session_id="sess_race", message="hi"
        )
    (module_id, topic_id), (other_module, other_topic) = await _rows(
        engine,
        "SELECT m.id, t.id FROM topics t JOIN modules m ON m.id = t.module_id WHERE m.course_id = :c "
        "ORDER BY t.id LIMIT 2",
        c=course.course_id,
    )
    # A delete in flight: the reply's statement reads the topic, then waits on its row lock in the FK check,
    # and finds it gone once the delete commits.
    async with engine.connect() as deleting:
        await deleting.execute(text("DELETE FROM topics WHERE id = :t"), {"t": topic_id})
        finishing = asyncio.create_task(
            recording.finish_turn(
                sessions,
                reply_id=reply_id,
                text="the answer",
                metadata={"status": "complete", "incomplete": False},
                user_id="student-race",
                course_id=course.course_id,
                topics={(module_id, topic_id), (other_module, other_topic)},
            )
        )

        async def waiting_on_the_delete() -> bool:
            blocked = await _rows(
                engine,
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%chat_history%'",
            )
            return bool(blocked) or finishing.done()

        deadline = asyncio.get_running_loop().time() + 20
        while not await waiting_on_the_delete():
            assert asyncio.get_running_loop().time() < deadline, "the reply's statement never reached the lock"
            await asyncio.sleep(0.02)
        await deleting.commit()
    await asyncio.wait_for(finishing, 20)

    ((message, metadata),) = await _rows(engine, "SELECT message, metadata FROM chat_history WHERE id = :r", r=reply_id)
    assert message == "the answer" and metadata["status"] == "complete" and metadata["incomplete"] is False
