"""The quiz conversation, turn by turn against PostgreSQL: start, answer in words, skip, stop, resume, finish."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.quiz.rows import make_course
from tutor.errors import TutorError
from tutor.identity import Principal, sign_in
from tutor.quiz.conversation import QuizTurn, quiz_turn


class Chat:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], user: str, course_id: int) -> None:
        self.sessions, self.user, self.course_id = sessions, user, course_id
        self.session_id = f"s-{uuid.uuid4().hex[:8]}"

    async def say(self, message: str, **kw: object) -> QuizTurn | None:
        async with self.sessions() as session, session.begin():
            await sign_in(session, Principal(self.user, "student"))
            return await quiz_turn(
                session, user_id=self.user, course_id=self.course_id, session_id=self.session_id, message=message, **kw
            )  # type: ignore[arg-type]


def kinds(turn: QuizTurn | None) -> list[str]:
    assert turn is not None
    return [s.kind for s in turn.steps]


async def test_a_week_quiz_runs_to_a_recorded_result(
    sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    course = await make_course(sessions)
    chat = Chat(sessions, "stu-quiz", course.course_id)
    assert await chat.say("what is osmosis?") is None  # not a quiz turn
    start = await chat.say("quiz me on week 2")
    assert kinds(start) == ["say", "question"]
    assert "4 questions" in start.steps[0].text and "no time limit" in start.steps[0].text
    q1 = start.steps[1].question
    assert q1 and q1.quiz_id == course.quiz_ids[1] and (q1.number, q1.total) == (1, 4)

    key = course.answers[1]
    right = await chat.say(f"I think it's {key['1'].lower()}")
    assert kinds(right) == ["feedback", "question"] and right.steps[0].feedback.correct  # type: ignore[union-attr]
    q2 = right.steps[1].question
    assert q2 is not None
    wrong_letter = next(letter for letter in "ABCD" if letter != key["2"])
    wrong = await chat.say(q2.options[wrong_letter])  # the option's words, not its letter
    feedback = wrong.steps[0].feedback  # type: ignore[union-attr]
    assert (
        feedback
        and not feedback.correct
        and feedback.correct_answer == key["2"]
        and "p. 2" in (feedback.explanation or "")
    )
    assert kinds(await chat.say("skip")) == ["feedback", "question"]
    ordinal = {"A": "first", "B": "second", "C": "third", "D": "fourth"}[key["4"]]
    last = await chat.say(f"the {ordinal} one")
    assert kinds(last) == ["feedback", "result"]
    result = last.steps[-1].result
    assert result and (result.score, result.correct_answers, result.total_questions, result.passed) == (50, 2, 4, False)
    assert [r.question_number for r in result.review] == [2, 3]

    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT answers, score, total_questions, correct_answers, time_taken FROM quiz_responses")
            )
        ).all()
        assert rows == [({"1": key["1"], "2": wrong_letter, "4": key["4"]}, 50, 4, 2, rows[0][4])]
        status = await conn.scalar(text(f"SELECT status FROM user_progress WHERE module_id = {course.module_ids[1]}"))
        assert status == "in_progress"
    assert await chat.say("B") is None  # the quiz is over: back to ordinary chat


async def test_stop_pauses_and_resume_continues_where_it_left(
    sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    course = await make_course(sessions, weeks=1)
    chat = Chat(sessions, "stu-pause", course.course_id)
    await chat.say("test me on week 1")
    await chat.say(course.answers[0]["1"])
    paused = await chat.say("stop")
    assert "paused at question 2" in paused.steps[0].text  # type: ignore[union-attr]
    assert await chat.say("what is a nucleus?") is None  # ordinary chat while paused
    again = await chat.say("quiz me on week 1")
    assert "paused quiz" in again.steps[0].text  # type: ignore[union-attr]  # never two quizzes at once
    resumed = await chat.say("resume")
    assert kinds(resumed) == ["say", "question"] and resumed.steps[1].question.number == 2  # type: ignore[union-attr]


async def test_a_side_question_keeps_the_quiz_open(sessions: async_sessionmaker[AsyncSession], db: AsyncEngine) -> None:
    course = await make_course(sessions, weeks=1)
    chat = Chat(sessions, "stu-side", course.course_id)
    await chat.say("quiz me on week 1")
    side = await chat.say("what does osmosis mean?")
    assert side is not None and side.steps == [] and side.side_question_for and side.side_question_for.number == 1


async def test_a_second_tab_cannot_answer_the_same_question_twice(
    sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    course = await make_course(sessions, weeks=1)
    chat = Chat(sessions, "stu-tabs", course.course_id)
    await chat.say("quiz me on week 1")
    first, second = await asyncio.gather(chat.say("A", question_number=1), chat.say("B", question_number=1))
    feedbacks = [t for t in (first, second) if t and t.steps and t.steps[0].kind == "feedback"]
    assert len(feedbacks) == 1
    async with db.connect() as conn:
        answers = await conn.scalar(text("SELECT answers FROM quiz_attempts"))
    assert list(answers) == ["1"]


async def test_a_practice_quiz_on_a_topic_draws_matching_questions(
    sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    course = await make_course(sessions)
    chat = Chat(sessions, "stu-practice", course.course_id)
    start = await chat.say("give me a practice quiz on chlorophyll and light")
    question = start.steps[1].question  # type: ignore[union-attr]
    assert question and question.quiz_id.startswith("practice_") and "light" in question.text
    async with db.connect() as conn:
        made = (
            await conn.execute(
                text("SELECT quiz_type, made_for FROM quizzes WHERE quiz_id = :q"), {"q": question.quiz_id}
            )
        ).one()
    assert tuple(made) == ("practice", "stu-practice")  # the student's own: not one of the course's quizzes
    with pytest.raises(TutorError, match="no quiz questions about"):
        await Chat(sessions, "stu-practice2", course.course_id).say("test me on volcanoes")


async def test_the_time_limit_ends_the_quiz(sessions: async_sessionmaker[AsyncSession], db: AsyncEngine) -> None:
    course = await make_course(sessions, weeks=1)
    async with db.begin() as conn:
        await conn.execute(text("UPDATE quizzes SET time_limit = 1"))
    chat = Chat(sessions, "stu-timer", course.course_id)
    start = await chat.say("quiz me on week 1")
    assert "1-minute time limit" in start.steps[0].text  # type: ignore[union-attr]
    async with db.begin() as conn:
        await conn.execute(text("UPDATE quiz_attempts SET deadline = NOW() - interval '1 second'"))
    late = await chat.say("A")
    assert kinds(late) == ["result"] and late.steps[0].result.timed_out  # type: ignore[union-attr]
    assert late.steps[0].result.score == 0  # type: ignore[union-attr]
