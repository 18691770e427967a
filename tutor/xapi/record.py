"""Where the tutor's events become xAPI statements: each is enqueued in the transaction of the rows it reports
(the chat's reply, a graded answer, a recorded attempt), so a statement exists exactly when its event does.
Every function here does nothing when no LRS is configured."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, Quiz, QuizAttempt, QuizResponse, UserProgress
from tutor import outbox
from tutor.quiz.attempts import attempt_questions, questions_of
from tutor.quiz.conversation import QuizTurn
from tutor.quiz.grading import Grade
from tutor.settings import Settings
from tutor.xapi import enabled
from tutor.xapi import statements as xs
from tutor.xapi.actor import actor_for

KIND = "xapi"

Write = Callable[[AsyncSession], Awaitable[None]]


async def _enqueue(session: AsyncSession, made: list[xs.Json]) -> None:
    for statement in made:
        await outbox.enqueue(session, kind=KIND, key=statement["id"], payload={"statement": statement})


def asked(
    settings: Settings, *, user_id: str, course_id: int, course_title: str, session_id: str, message: str
) -> Write | None:
    """The statement of a question put to the tutor, written with the reply (None when xAPI is off)."""
    if not enabled(settings):
        return None
    base = settings.resolved_public_url

    async def write(session: AsyncSession) -> None:
        actor = await actor_for(session, settings, user_id)
        ctx = xs.context(xs.registration(base, "chat", session_id))
        obj = xs.course(base, course_id, course_title)
        await _enqueue(session, [xs.statement(actor, "asked", obj, context=ctx, result=xs.asked_result(message))])

    return write


async def chat_quiz(
    session: AsyncSession, settings: Settings, *, user_id: str, session_id: str, turn: QuizTurn | None
) -> None:
    """A quiz step in the chat: each answer graded in it, and the quiz's result when it finished."""
    if not enabled(settings) or turn is None or turn.quiz_id is None:
        return
    feedback = [s.feedback for s in turn.steps if s.feedback is not None]
    results = [s.result for s in turn.steps if s.result is not None]
    if not feedback and not results:
        return
    attempt = (
        await session.execute(
            select(QuizAttempt)
            .where(QuizAttempt.session_id == session_id, QuizAttempt.quiz_id == turn.quiz_id)
            .order_by(QuizAttempt.id.desc())
            .limit(1)
        )
    ).scalar_one()
    asked_as = {q.question_number: q for q in await attempt_questions(session, attempt) if q is not None}
    answers = [
        xs.Answer(
            f.question_number,
            asked_as[f.question_number].question_text,
            asked_as[f.question_number].options,
            f.correct_answer,
            f.given,
            f.correct,
        )
        for f in feedback
        if f.question_number in asked_as
    ]
    outcome = (
        xs.Outcome(results[0].correct_answers, results[0].total_questions, results[0].passed, results[0].time_taken)
        if results
        else None
    )
    quiz = (await session.execute(select(Quiz).where(Quiz.quiz_id == turn.quiz_id))).scalar_one()
    reg = xs.registration(settings.resolved_public_url, "attempt", attempt.attempt_id)
    await _quiz_statements(session, settings, user_id, quiz, reg, answers, outcome)


async def submission(
    session: AsyncSession, settings: Settings, *, user_id: str, quiz: Quiz, response: QuizResponse, result: Grade
) -> None:
    """A whole attempt submitted over REST: every answer, then the quiz's result."""
    if not enabled(settings):
        return
    rows = {q.question_number: q for q in await questions_of(session, quiz.quiz_id)}
    answers = [
        xs.Answer(
            g.question_number,
            rows[g.question_number].question_text,
            dict(rows[g.question_number].options),
            g.correct_answer,
            g.given,
            g.is_correct,
        )
        for g in result.questions
        if g.question_number in rows
    ]
    outcome = xs.Outcome(result.correct_answers, result.total_questions, result.passed, response.time_taken or 0)
    reg = xs.registration(settings.resolved_public_url, "response", response.id)
    await _quiz_statements(session, settings, user_id, quiz, reg, answers, outcome)


async def _quiz_statements(
    session: AsyncSession,
    settings: Settings,
    user_id: str,
    quiz: Quiz,
    reg: str,
    answers: list[xs.Answer],
    outcome: xs.Outcome | None,
) -> None:
    base = settings.resolved_public_url
    actor = await actor_for(session, settings, user_id)
    assessment = xs.quiz(base, quiz.quiz_id, quiz.title)
    course = xs.course(base, quiz.course_id)
    made = [
        xs.statement(
            actor,
            "answered",
            xs.question(base, quiz.quiz_id, answer),
            context=xs.context(reg, parent=assessment, grouping=course),
            result=xs.answered_result(answer),
        )
        for answer in answers
        if answer.given is not None  # a skipped or unanswered question was not answered; the score counts it
    ]
    if outcome is not None:
        ctx = xs.context(reg, grouping=course)
        result = xs.quiz_result(outcome)
        made.append(xs.statement(actor, "completed", assessment, context=ctx, result=result))
        made.append(
            xs.statement(actor, "passed" if outcome.passed else "failed", assessment, context=ctx, result=result)
        )
        progressed = await _module_progress(session, settings, user_id, quiz, actor, course)
        if progressed is not None:
            made.append(progressed)
    await _enqueue(session, made)


async def _module_progress(
    session: AsyncSession, settings: Settings, user_id: str, quiz: Quiz, actor: xs.Json, course: xs.Json
) -> xs.Json | None:
    """The module's progress as the attempt left it: only a module's own quiz moves it (tutor.quiz.grading)."""
    if quiz.module_id is None or quiz.quiz_type != "module":
        return None
    row = (
        await session.execute(
            select(UserProgress.status, UserProgress.progress_percentage, Module.title)
            .join(Module, Module.id == UserProgress.module_id)
            .where(
                UserProgress.user_id == user_id,
                UserProgress.course_id == quiz.course_id,
                UserProgress.module_id == quiz.module_id,
                UserProgress.topic_id.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    status, percentage, title = row
    return xs.statement(
        actor,
        "progressed",
        xs.module(settings.resolved_public_url, quiz.module_id, title),
        context=xs.context(None, parent=course),
        result=xs.progress_result(int(percentage or 0), status == "completed"),
    )
