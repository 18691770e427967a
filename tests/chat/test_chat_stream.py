"""The tutor chat through the real SSE endpoint: grounded cited answers, follow-ups, refusals, records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.chat.conftest import Chat, ChatCourse
from tests.chat.sse import answer_text, parse_sse
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]


async def _rows(engine: AsyncEngine, sql: str) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql))).all())


async def test_an_answer_streams_meta_tokens_citations_then_done(
    chat: Callable[..., Chat], course: ChatCourse, engine: AsyncEngine
) -> None:
    item = course.items[3]  # a question whose textbook paragraph is in the course
    student = chat("student-answer")
    events = await student.send(item["question"])
    names = [n for n, _ in events]
    assert names[0] == "meta" and names[-1] == "done"
    assert names.index("citation") > max(i for i, n in enumerate(names) if n == "token" and i < names.index("citation"))
    assert set(names) == {"meta", "token", "citation", "done"}
    meta, done = events[0][1], events[-1][1]
    assert meta["mode"] == "answer" and meta["session_id"].startswith("sess_")
    answer = answer_text(events)
    assert item["correct_answer"].lower() in answer.lower()
    assert "[1]" in answer or "[2]" in answer
    citation = next(d for n, d in events if n == "citation")
    assert citation["filename"] == "biology.pdf" and citation["page_start"] >= 1 and citation["snippet"]
    assert citation["topic_title"] and citation["chunk_id"].startswith(f"c{course.course_id}-")
    assert done["provider"] == "extractive" and done["timing_ms"]["total_ms"] > 0

    rows = await _rows(
        engine,
        f"SELECT message_type, message, metadata FROM chat_history "
        f"WHERE session_id = '{meta['session_id']}' ORDER BY id",
    )
    assert [r[0] for r in rows] == ["user", "assistant"]
    assert rows[0][1] == item["question"] and rows[1][1] == answer
    assert rows[1][2]["incomplete"] is False and rows[1][2]["provider"] == "extractive"
    assert rows[1][2]["citations"][0]["chunk_id"] == citation["chunk_id"]
    progress = await _rows(
        engine,
        f"SELECT status FROM user_progress WHERE user_id = 'student-answer' AND topic_id = {citation['topic_id']}",
    )
    assert progress == [("in_progress",)]


async def test_a_follow_up_is_resolved_against_the_earlier_question(
    chat: Callable[..., Chat], course: ChatCourse
) -> None:
    student = chat("student-follow")
    first = await student.send("What is a frameshift mutation?")
    first_topic = next(d for n, d in first if n == "citation")["topic_id"]
    follow = await student.send("and what do insertions do?")
    assert "add nucleotides" in answer_text(follow)
    assert next(d for n, d in follow if n == "citation")["topic_id"] == first_topic


async def test_a_question_the_course_does_not_cover_is_declined_with_the_closest_topics(
    chat: Callable[..., Chat], engine: AsyncEngine
) -> None:
    events = await chat("student-gap").send("Who won the football world cup in 1998?")
    answer = answer_text(events)
    assert "couldn't find this in the course" in answer and "closest topics" in answer
    assert "citation" not in [n for n, _ in events] and events[-1][0] == "done"
    (meta,) = (
        await _rows(
            engine,
            f"SELECT metadata FROM chat_history WHERE session_id = '{events[0][1]['session_id']}' "
            "AND message_type = 'assistant'",
        )
    )[0]
    assert meta["content_gap"] is True and meta["grounded"] is False


async def test_bad_requests_are_refused_and_record_nothing(
    app_client: httpx.AsyncClient, auth: Auth, course: ChatCourse, engine: AsyncEngine, settings: Settings
) -> None:
    before = await _rows(engine, "SELECT count(*) FROM chat_history")
    student = auth("student-bad")

    def post(**body):
        return app_client.post("/api/chat/stream", headers=student, json={"course_id": course.course_id, **body})

    assert (await post(message="   ")).json()["error"]["code"] == "empty_message"
    too_long = await post(message="x" * (settings.max_message_chars + 1))
    assert too_long.status_code == 413 and too_long.json()["error"]["code"] == "message_too_long"
    unknown = await app_client.post("/api/chat/stream", headers=student, json={"course_id": 987654, "message": "hi"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "course_not_found"
    assert (await post(message="hi", session_id="sess_not_mine")).status_code == 404
    assert (await post()).status_code == 422
    assert await _rows(engine, "SELECT count(*) FROM chat_history") == before


async def test_a_course_the_student_cannot_see_is_refused_while_its_search_runs_ahead(
    chat: Callable[..., Chat], app_client: httpx.AsyncClient, auth: Auth, course: ChatCourse, engine: AsyncEngine
) -> None:
    """A new session's question is searched while the turn's reads run, once the process knows the course: the
    reads still refuse a course the student may not see, and nothing is recorded."""
    await chat("student-seen").send("What is anemia?")
    before = await _rows(engine, "SELECT count(*) FROM chat_history")
    hide = text("UPDATE courses SET status = :s WHERE course_id = :c")
    async with engine.begin() as conn:
        await conn.execute(hide, {"s": "archived", "c": course.course_id})
    try:
        refused = await app_client.post(
            "/api/chat/stream",
            headers=auth("student-unseen"),
            json={"course_id": course.course_id, "message": "What is anemia?"},
        )
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "course_not_found"
        assert await _rows(engine, "SELECT count(*) FROM chat_history") == before
    finally:
        async with engine.begin() as conn:
            await conn.execute(hide, {"s": "active", "c": course.course_id})


async def test_a_student_cannot_continue_or_read_another_students_session(
    chat: Callable[..., Chat], app_client: httpx.AsyncClient, auth: Auth, course: ChatCourse
) -> None:
    alice = chat("student-alice")
    await alice.send("What is anemia?")
    mine = (
        await app_client.get(f"/api/chat/sessions?course_id={course.course_id}", headers=auth("student-alice"))
    ).json()
    assert [s["session_id"] for s in mine] == [alice.session_id] and mine[0]["messages"] == 2
    transcript = (await app_client.get(f"/api/chat/sessions/{alice.session_id}", headers=auth("student-alice"))).json()
    assert [m["message_type"] for m in transcript["messages"]] == ["user", "assistant"]
    bob = auth("student-bob")
    assert (await app_client.get(f"/api/chat/sessions/{alice.session_id}", headers=bob)).status_code == 404
    hijack = await app_client.post(
        "/api/chat/stream",
        headers=bob,
        json={"course_id": course.course_id, "message": "hi", "session_id": alice.session_id},
    )
    assert hijack.status_code == 404
    assert (await app_client.get("/api/chat/sessions", headers=bob)).json() == []


async def test_a_course_without_index_or_with_another_embedding_model_is_a_clear_error(
    app_client: httpx.AsyncClient, auth: Auth, course: ChatCourse, engine: AsyncEngine, settings: Settings
) -> None:
    async with engine.begin() as conn:
        empty = await conn.scalar(
            text("INSERT INTO courses (title, status) VALUES ('Empty', 'active') RETURNING course_id")
        )
    response = await app_client.post(
        "/api/chat/stream", headers=auth("student-idx"), json={"course_id": empty, "message": "hi"}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "index_missing"

    from tutor.vectorstore import ChunkMetadata, ChunkRecord, open_vector_store

    store = open_vector_store(settings)
    meta = ChunkMetadata(empty, None, None, 1, "t", "f", "f.pdf", 1, 1)
    store.upsert(empty, [ChunkRecord("x", "some text", meta)], [[0.1] * 8], embedding_model="other-model", dimension=8)
    response = await app_client.post(
        "/api/chat/stream", headers=auth("student-idx"), json={"course_id": empty, "message": "hi"}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "embedding_mismatch"
    assert await _rows(engine, "SELECT count(*) FROM chat_history WHERE user_id = 'student-idx'") == [(0,)]
    store.delete_course(empty)


async def test_a_failing_language_model_ends_the_stream_with_an_error_and_keeps_the_turn(
    settings: Settings, auth: Auth, course: ChatCourse, engine: AsyncEngine
) -> None:
    from api.app import create_app
    from tutor.ports import free_port

    # A real OpenAI client against a port where nothing listens: the model fails before its first token.
    broken = settings.model_copy(
        update={
            "llm_provider": "openai",
            "llm_base_url": f"http://127.0.0.1:{free_port()}/v1",
            "llm_model": "gone",
            "llm_timeout_s": 5,
        }
    )
    app = create_app(broken)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.post(
            "/api/chat/stream",
            headers=auth("student-llm"),
            json={"course_id": course.course_id, "message": course.items[0]["question"]},
        )
    events = parse_sse(response.text)
    assert next(n for n, _ in events) == "meta" and events[-1][0] == "error"
    assert events[-1][1]["code"] == "llm_error"
    rows = await _rows(
        engine, "SELECT message_type, metadata FROM chat_history WHERE user_id = 'student-llm' ORDER BY id"
    )
    assert [r[0] for r in rows] == ["user", "assistant"]
    assert rows[1][1]["incomplete"] is True and rows[1][1]["status"] == "error"


async def test_the_tutor_is_an_openai_compatible_model(
    settings: Settings, course: ChatCourse, app_client: httpx.AsyncClient
) -> None:
    import openai

    from tutor.identity import mint_token

    client = openai.AsyncOpenAI(
        api_key=mint_token(settings, "student-oai"), base_url="http://tutor.test/v1", http_client=app_client
    )
    item = course.items[3]
    completion = await client.chat.completions.create(
        model=f"course-{course.course_id}", messages=[{"role": "user", "content": item["question"]}]
    )
    answer = completion.choices[0].message.content or ""
    assert item["correct_answer"].lower() in answer.lower()
    citations = completion.model_extra["citations"]  # type: ignore[index]
    assert citations and citations[0]["filename"] == "biology.pdf"

    stream = await client.chat.completions.create(
        model=f"course-{course.course_id}", stream=True, messages=[{"role": "user", "content": item["question"]}]
    )
    parts, last = [], None
    async for chunk in stream:
        parts.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert "".join(parts) == answer
    assert last is not None and last.model_extra["citations"]  # type: ignore[index]
    try:
        await client.chat.completions.create(model="course-x", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("an unknown model must be refused")
    except openai.NotFoundError as exc:
        assert "course-<id>" in str(exc)
