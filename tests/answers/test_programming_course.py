"""What a student of a programming course sees in the chat: "how" shows the course's code with its citation, an
error's name finds the passage about that error. A small Python course PDF, ingested by the real pipeline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.sse import answer_text, parse_sse
from tests.conftest import empty_tables
from tests.factories import ingest_course
from tests.ingestion.books import Block, Entry, book_pdf
from tutor.settings import Settings

LOOP_CODE = ("fruits = ['apple', 'pear', 'plum']", "for fruit in fruits:", "    print(fruit)")


def python_course() -> list[Entry]:
    """Three sections with the look of a programming textbook; the error and the naming rules side by side."""
    return [
        Entry(
            "Chapter 1: Python basics",
            [Block(text="This chapter introduces the first things every Python programmer writes and reads.")],
            [
                (
                    "1.1 Variables and names",
                    [
                        Block(
                            text="A variable is a name that refers to a value. Variable names can contain letters, "
                            "digits and underscores, but they cannot start with a digit. Names are case sensitive, "
                            "so total and Total are two different variables. Python's keywords, such as class and "
                            "while, cannot be used as variable names."
                        )
                    ],
                ),
                (
                    "1.2 Blocks and indentation",
                    [
                        Block(
                            text="Python groups statements into blocks by their indentation rather than by braces. "
                            "Every line of a block must be indented by the same amount, usually four spaces. Python "
                            "raises an IndentationError when the lines of a block are not indented consistently, "
                            "for example when the body of a function or a loop is not indented at all. Mixing tabs "
                            "and spaces in one file is a common cause of this error."
                        )
                    ],
                ),
                (
                    "1.3 Repeating with loops",
                    [
                        Block(
                            text="A for loop repeats its body once for each item of a sequence, such as a list. "
                            "The loop variable takes each item in turn. To loop over a list, write the loop like this:",
                            code=LOOP_CODE,
                        ),
                        Block(
                            text="A while loop repeats its body as long as its condition stays true, so the body "
                            "must eventually make the condition false."
                        ),
                    ],
                ),
            ],
        )
    ]


@pytest.fixture(scope="module")
async def course_id(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> AsyncIterator[int]:
    course_id = await ingest_course(settings, sessions, [("python.pdf", book_pdf(python_course()))], title="Python")
    yield course_id
    await empty_tables(engine)
    from tutor.vectorstore import open_vector_store

    open_vector_store(settings).delete_course(course_id)


async def ask(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], course_id: int, question: str
) -> list[tuple[str, Any]]:
    response = await client.post(
        "/api/chat/stream", json={"course_id": course_id, "message": question}, headers=auth("student-python")
    )
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


async def test_a_how_question_shows_the_courses_code_with_its_citation(
    app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], course_id: int
) -> None:
    events = await ask(app_client, auth, course_id, "How do I loop over a list?")
    said = answer_text(events)
    fenced = re.search(r"```\n(.*?)\n```\n\[(\d+)\]", said, re.S)
    assert fenced, said  # the code as a block, followed by its citation number
    assert [line for line in fenced.group(1).split("\n") if line.strip()] == list(LOOP_CODE)  # indentation kept
    cited = {d["number"]: d for n, d in events if n == "citation"}
    assert cited[int(fenced.group(2))]["topic_title"].endswith("Repeating with loops")
    assert not said.startswith("\n")  # a sentence that says what to do comes first, then the code


async def test_an_error_question_quotes_the_passage_about_that_error(
    app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], course_id: int
) -> None:
    said = answer_text(await ask(app_client, auth, course_id, "Why do I get an IndentationError?"))
    assert said.startswith("Python raises an IndentationError when the lines of a block are not indented"), said
    assert "Variable names" not in said and "keywords" not in said
