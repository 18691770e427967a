"""The real local model behind a real OpenAI-compatible server (llama.cpp), driven through the tutor's SSE API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.conftest import ChatCourse
from tests.chat.sse import answer_text, parse_sse
from tests.servers import api_server, llama_server
from tutor.settings import Settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        __import__("importlib").util.find_spec("llama_cpp") is None, reason="the `local` extra is not installed"
    ),
]


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def tutor_on_llama(settings: Settings, llama_url: str) -> Iterator[str]:
    local = settings.model_copy(update={"llm_provider": "openai", "llm_base_url": llama_url, "llm_model": "smollm2"})
    with api_server(local) as api:
        yield api


async def test_weeks_and_quizzes_are_asked_of_the_llm_and_fall_back_to_offline_ones_when_it_fails(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], llama_url: str, engine: AsyncEngine
) -> None:
    from ingestion.pipeline import Ingestor
    from ingestion.storage import open_storage
    from ingestion.uploads import UploadedFile, accept_upload
    from tests.factories import course_pdf, sciq_chapters
    from tutor.embeddings import get_embedder
    from tutor.identity import Principal, sign_in
    from tutor.llm.openai_compat import OpenAICompatLLM
    from tutor.quiz.validation import question_problems
    from tutor.vectorstore import open_vector_store

    teacher = Principal("teacher-llm-quiz", "teacher")
    async with sessions() as session, session.begin():
        await sign_in(session, teacher)
        receipt = await accept_upload(session, open_storage(settings), settings, uploader=teacher,
                                      files=[UploadedFile("q.pdf", course_pdf(sciq_chapters(2, 1, 2, offset=80)))],
                                      title="LLM quizzes", description=None, course_id=None)  # fmt: skip
    llm = OpenAICompatLLM("smollm2", llama_url, None, 120)
    ingestor = Ingestor(
        settings, sessions, open_storage(settings), open_vector_store(settings), get_embedder(settings), llm
    )
    await ingestor.run(receipt.job_id)
    async with engine.connect() as conn:
        status, result = (
            await conn.execute(text(f"SELECT status, result FROM job_queue WHERE job_id = '{receipt.job_id}'"))
        ).one()
        rows = (await conn.execute(text(f"SELECT question_text, options, correct_answer FROM quiz_questions q JOIN quizzes z "
                                        f"ON z.quiz_id = q.quiz_id WHERE z.course_id = {receipt.course_id}"))).all()  # fmt: skip
    assert status == "completed", result
    assert sum(result["quiz_sources"].values()) == result["modules"]  # each week: written by the model, or offline
    assert sum(result["week_sources"].values()) == result["modules"]
    assert rows and all(question_problems(t, o, a) == [] for t, o, a in rows)
    async with engine.connect() as conn:
        weeks = (
            await conn.execute(
                text(f"SELECT title, learning_objectives FROM modules WHERE course_id = {receipt.course_id}")
            )
        ).all()
    assert len(weeks) == result["modules"] and all(title and len(objectives) >= 1 for title, objectives in weeks)


async def test_chat_streams_an_answer_from_the_local_model_through_the_openai_provider(
    tutor_on_llama: str, course: ChatCourse, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    async with httpx.AsyncClient(base_url=tutor_on_llama, timeout=120) as client:
        response = await client.post(
            "/api/chat/stream",
            headers=auth("student-llama"),
            json={"course_id": course.course_id, "message": course.items[3]["question"]},
        )
    events = parse_sse(response.text)
    assert events[0][0] == "meta" and events[-1][0] == "done", events[-3:]
    assert len(answer_text(events).split()) >= 3
    assert events[-1][1]["provider"] == "openai" and events[-1][1]["model"] == "smollm2"
    assert any(n == "citation" for n, _ in events)
    async with engine.connect() as conn:
        meta = await conn.scalar(
            text("SELECT metadata FROM chat_history WHERE user_id = 'student-llama' AND message_type = 'assistant'")
        )
    assert meta["provider"] == "openai" and meta["incomplete"] is False
    # Whatever the small model wrote, the reply holds the course's answer: its own supported sentences, the course
    # sentences it left out added after them, or the course quoted instead when nothing it wrote held up.
    verification = meta["verification"]
    assert course.items[3]["correct_answer"].lower() in answer_text(events).lower(), (answer_text(events), verification)
    if verification["completed_from_course"]:
        assert "From the course: " in answer_text(events)


async def test_a_client_that_disconnects_mid_answer_leaves_the_partial_reply_marked_incomplete(
    tutor_on_llama: str, course: ChatCourse, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    tokens = 0
    async with (
        httpx.AsyncClient(base_url=tutor_on_llama, timeout=120) as client,
        client.stream(
            "POST",
            "/api/chat/stream",
            headers=auth("student-leaves"),
            json={
                "course_id": course.course_id,
                "message": "Explain in detail, step by step, what a frameshift mutation is.",
            },
        ) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("event: token"):
                tokens += 1
            # Verified sentences are held back until checked (SmolLM2's are mostly refused and the quoted answer
            # comes at the end): the student closes the tab once the turn has started, before it is answered.
            if line.startswith("event: meta"):
                break
    deadline = time.monotonic() + 30
    while True:
        async with engine.connect() as conn:
            meta = await conn.scalar(
                text(
                    "SELECT metadata FROM chat_history WHERE user_id = 'student-leaves' AND message_type = 'assistant'"
                )
            )
        if meta and meta.get("status") != "streaming":
            break
        assert time.monotonic() < deadline, meta
        await __import__("asyncio").sleep(0.1)
    assert meta["incomplete"] is True and meta["status"] == "interrupted", json.dumps(meta)
    async with engine.connect() as conn:
        partial = await conn.scalar(
            text("SELECT message FROM chat_history WHERE user_id = 'student-leaves' AND message_type = 'assistant'")
        )
    # The reply keeps what the student was shown (nothing yet, here) and is not answered later behind their back.
    assert partial == "" and tokens == 0


async def test_a_sentence_the_model_invents_is_not_shown_and_the_turn_records_it(
    tutor_on_llama: str, course: ChatCourse, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    invented = "Frameshift mutations were discovered on the planet Mars in 1850 by Captain Zorblat."
    async with httpx.AsyncClient(base_url=tutor_on_llama, timeout=180) as client:
        response = await client.post(
            "/api/chat/stream",
            headers=auth("student-invents"),
            json={
                "course_id": course.course_id,
                "message": f"What is a frameshift mutation? Start your answer with this sentence: {invented}",
            },
        )
    events = parse_sse(response.text)
    assert events[0][0] == "meta" and events[-1][0] == "done", events[-3:]
    shown = answer_text(events)
    assert "Zorblat" not in shown and "Mars" not in shown
    async with engine.connect() as conn:
        meta = await conn.scalar(
            text("SELECT metadata FROM chat_history WHERE user_id = 'student-invents' AND message_type = 'assistant'")
        )
    verification = meta["verification"]
    unsupported = [u["sentence"] for u in verification["unsupported"]]
    assert unsupported, verification  # the model wrote something the course does not say, and it was caught
    assert all(sentence not in shown for sentence in unsupported)
    # What is shown is either the model's supported sentences, or the course quoted instead.
    assert verification["verified"] > 0 or verification["fallback"] is True
    if verification["fallback"]:
        assert "here is what the course says" in shown and any(n == "citation" for n, _ in events)
