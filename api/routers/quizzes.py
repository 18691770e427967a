"""Quizzes over REST: read (answers only for the course's teacher), submit whole attempts, teachers' edits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_clock, get_session, get_state
from api.params import INT4_MAX, FieldId, PathId, QueryId
from api.state import AppState
from db.models import Quiz, QuizQuestion, QuizResponse
from tutor.courses import can_manage, visible_course
from tutor.identity import Principal
from tutor.quiz import service
from tutor.review.clock import Clock
from tutor.xapi import record as xapi

router = APIRouter(tags=["quizzes"])
Letter = Literal["A", "B", "C", "D"]


class QuestionOut(BaseModel):
    question_number: int
    question_text: str
    options: dict[str, str]
    difficulty: str | None
    correct_answer: str | None = None
    explanation: str | None = None

    @classmethod
    def of(cls, q: QuizQuestion, with_answers: bool) -> QuestionOut:
        return cls(
            question_number=q.question_number,
            question_text=q.question_text,
            options=q.options,
            difficulty=q.difficulty,
            correct_answer=q.correct_answer if with_answers else None,
            explanation=q.explanation if with_answers else None,
        )


class QuizOut(BaseModel):
    quiz_id: str
    course_id: FieldId
    module_id: int | None
    title: str
    description: str | None
    quiz_type: str | None
    passing_score: int | None
    time_limit: int | None
    question_count: int
    questions: list[QuestionOut] | None = None

    @classmethod
    def of(cls, z: Quiz, count: int, questions: list[QuestionOut] | None = None) -> QuizOut:
        return cls(
            quiz_id=z.quiz_id,
            course_id=z.course_id,
            module_id=z.module_id,
            title=z.title,
            description=z.description,
            quiz_type=z.quiz_type,
            passing_score=z.passing_score,
            time_limit=z.time_limit,
            question_count=count,
            questions=questions,
        )


class AttemptIn(BaseModel):
    answers: dict[str, Letter] = Field(description='{"1": "A", "2": "C", ...}')
    time_taken: int | None = Field(None, ge=0, description="seconds")
    attempt_key: str | None = Field(None, max_length=60, description="idempotency key: a resubmission counts once")


class GradedOut(BaseModel):
    question_number: int
    given: str | None
    correct_answer: str
    is_correct: bool
    explanation: str | None


class ResponseOut(BaseModel):
    id: int
    quiz_id: str
    user_id: str
    answers: dict[str, str]
    score: int | None
    total_questions: int | None
    correct_answers: int | None
    submitted_at: datetime | None
    time_taken: int | None
    passed: bool | None = None
    graded: list[GradedOut] | None = None

    @classmethod
    def of(cls, r: QuizResponse) -> ResponseOut:
        return cls(
            id=r.id,
            quiz_id=r.quiz_id,
            user_id=r.user_id,
            answers=r.answers,
            score=r.score,
            total_questions=r.total_questions,
            correct_answers=r.correct_answers,
            submitted_at=r.submitted_at,
            time_taken=r.time_taken,
        )


class QuizIn(BaseModel):
    course_id: FieldId
    title: str = Field(min_length=1, max_length=500)
    description: str | None = None
    module_id: FieldId | None = None
    quiz_type: Literal["module", "course", "practice"] = "module"
    passing_score: int = Field(70, ge=0, le=100)
    time_limit: int | None = Field(None, ge=1, description="minutes")


class QuestionIn(BaseModel):
    question_text: str = Field(min_length=1)
    options: dict[str, str]
    correct_answer: Letter
    explanation: str | None = None
    difficulty: Literal["easy", "medium", "hard"] | None = None
    question_number: int | None = Field(None, ge=1, le=INT4_MAX)


class ReorderIn(BaseModel):
    order: list[FieldId] = Field(description="every question number, in the new order")


@router.get("/api/quizzes", response_model=list[QuizOut], summary="A course's quizzes")
async def list_quizzes(
    course_id: QueryId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> list[QuizOut]:
    await visible_course(session, user, course_id)
    return [QuizOut.of(z, n) for z, n in await service.course_quizzes(session, course_id)]


@router.get("/api/quizzes/{quiz_id}", response_model=QuizOut, summary="A quiz; answers only for its teacher")
async def read_quiz(
    quiz_id: str, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> QuizOut:
    quiz, course = await service.quiz_for(session, user, quiz_id)
    qs = await service.questions(session, quiz_id)
    with_answers = can_manage(user, course)
    return QuizOut.of(quiz, len(qs), [QuestionOut.of(q, with_answers) for q in qs])


@router.post(
    "/api/quizzes/{quiz_id}/responses",
    response_model=ResponseOut,
    status_code=201,
    summary="Submit a whole attempt; graded on the server",
)
async def submit(
    quiz_id: str,
    attempt: AttemptIn,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    clock: Clock = Depends(get_clock),
    state: AppState = Depends(get_state),
) -> ResponseOut:
    quiz, _ = await service.quiz_for(session, user, quiz_id)
    done = await service.submit_attempt(
        session,
        user,
        quiz,
        dict(attempt.answers),
        time_taken=attempt.time_taken,
        attempt_key=attempt.attempt_key,
        now=clock.now(),
    )
    await xapi.submission(
        session, state.settings, user_id=user.user_id, quiz=quiz, response=done.response, result=done.result
    )
    out = ResponseOut.of(done.response)
    out.passed = done.result.passed
    out.graded = [GradedOut(**vars(g)) for g in done.result.questions]
    return out


@router.get(
    "/api/quizzes/{quiz_id}/responses",
    response_model=list[ResponseOut],
    summary="Attempts: your own, or all of them for the course's teacher",
)
async def list_responses(
    quiz_id: str, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> list[ResponseOut]:
    quiz, course = await service.quiz_for(session, user, quiz_id)
    return [ResponseOut.of(r) for r in await service.responses(session, user, quiz, course)]


@router.post("/api/quizzes", response_model=QuizOut, status_code=201, summary="Create a quiz (teachers)")
async def create_quiz(
    body: QuizIn, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> QuizOut:
    course = await visible_course(session, user, body.course_id, manage=True)
    quiz = await service.create_quiz(session, course, **body.model_dump(exclude={"course_id"}))
    return QuizOut.of(quiz, 0, [])


@router.patch("/api/quizzes/{quiz_id}", response_model=QuizOut, summary="Edit a quiz (teachers)")
async def patch_quiz(
    quiz_id: str,
    body: service.QuizEdit,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> QuizOut:
    quiz = await service.edit_quiz(session, user, quiz_id, body)
    qs = await service.questions(session, quiz_id)
    return QuizOut.of(quiz, len(qs), [QuestionOut.of(q, True) for q in qs])


@router.delete("/api/quizzes/{quiz_id}", status_code=204, summary="Delete a quiz and its questions (teachers)")
async def remove_quiz(
    quiz_id: str, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> Response:
    quiz, _ = await service.quiz_for(session, user, quiz_id, manage=True)
    await service.delete_quiz(session, quiz)
    return Response(status_code=204)


@router.post(
    "/api/quizzes/{quiz_id}/questions", response_model=QuestionOut, status_code=201, summary="Add a question (teachers)"
)
async def add_question(
    quiz_id: str,
    body: QuestionIn,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> QuestionOut:
    quiz, _ = await service.quiz_for(session, user, quiz_id, manage=True)
    return QuestionOut.of(await service.add_question(session, quiz, **body.model_dump()), True)


@router.put("/api/quizzes/{quiz_id}/questions/{number}", response_model=QuestionOut, summary="Replace a question")
async def replace_question(
    quiz_id: str,
    number: PathId,
    body: QuestionIn,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> QuestionOut:
    quiz, _ = await service.quiz_for(session, user, quiz_id, manage=True)
    question = await service.replace_question(session, quiz, number, **body.model_dump(exclude={"question_number"}))
    return QuestionOut.of(question, True)


@router.delete("/api/quizzes/{quiz_id}/questions/{number}", status_code=204, summary="Delete a question")
async def remove_question(
    quiz_id: str, number: PathId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> Response:
    quiz, _ = await service.quiz_for(session, user, quiz_id, manage=True)
    await service.delete_question(session, quiz, number)
    return Response(status_code=204)


@router.post("/api/quizzes/{quiz_id}/questions/reorder", response_model=QuizOut, summary="Reorder questions")
async def reorder(
    quiz_id: str,
    body: ReorderIn,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> QuizOut:
    quiz, _ = await service.quiz_for(session, user, quiz_id, manage=True)
    await service.reorder_questions(session, quiz, body.order)
    qs = await service.questions(session, quiz_id, fresh=True)
    return QuizOut.of(quiz, len(qs), [QuestionOut.of(q, True) for q in qs])
