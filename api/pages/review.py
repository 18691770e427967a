"""Reviewing and fixing a generated course: weeks and topics in order with their sources, edits, moves, quizzes."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, get_state
from api.pages.render import redirect, render
from api.params import PathId
from api.state import AppState
from api.web_session import WebSession, csrf_protect, current_web_session, current_web_teacher
from ingestion.course_edits import regenerate_week_quiz
from ingestion.storage import open_storage
from tutor import course_review as review
from tutor.course_overview import course_summary
from tutor.courses import full_course, managed_module, managed_topic, visible_course
from tutor.errors import TutorError
from tutor.identity import Principal
from tutor.quiz import service as quizzes
from tutor.quiz.validation import LETTERS

router = APIRouter(include_in_schema=False)


def _direction(value: str) -> review.Direction:
    if value not in ("up", "down"):
        raise TutorError("invalid_direction", "move up or down", status=422)
    return "up" if value == "up" else "down"


@router.get("/teach/courses/{course_id}")
async def course_page(
    request: Request,
    course_id: PathId,
    created: int | None = None,
    moved: str | None = Query(None, max_length=40),
    dir: str | None = Query(None, max_length=4),
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    view = await full_course(session, course, with_answers=True)
    sources = await asyncio.to_thread(state.vector_store().topic_sources, course_id)
    return render(
        request,
        "teach/course.html",
        web=web,
        user=user,
        course=view,
        summary=await course_summary(session, course),
        sources=sources,
        reviewed=await review.reviewed_questions(session, course_id),
        letters=LETTERS,
        created=created,
        moved=moved,
        move_dir=dir,
        focus_dir=_focus_dir,
    )


def _focus_dir(wanted: str | None, first: bool, last: bool) -> str:
    """After a move, the button that keeps focus: the same direction again, or the other one at an end (a
    disabled button cannot hold focus), so pressing Enter repeatedly keeps moving the item."""
    if (wanted == "up" and first) or (wanted == "down" and last):
        return "down" if wanted == "up" else "up"
    return wanted or "up"


@router.post("/teach/courses/{course_id}/edit")
async def edit_course(
    course_id: PathId,
    title: str = Form(""),
    description: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    review.edit_course(
        await visible_course(session, user, course_id, manage=True), title=title, description=description
    )
    return redirect(f"/teach/courses/{course_id}#course")


@router.post("/teach/modules/{module_id}/edit")
async def edit_module(
    module_id: PathId,
    title: str = Form(""),
    description: str = Form(""),
    objectives: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    module = await managed_module(session, user, module_id)
    review.edit_module(module, title=title, description=description, objectives=objectives)
    return redirect(f"/teach/courses/{module.course_id}#week-{module.id}")


@router.post("/teach/modules/{module_id}/move")
async def move_module(
    module_id: PathId,
    direction: str = Form(...),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    module = await managed_module(session, user, module_id)
    course = await visible_course(session, user, module.course_id, manage=True)
    await review.move_module(session, course, module, _direction(direction))
    return redirect(f"/teach/courses/{module.course_id}?moved=week-{module.id}&dir={direction}")


@router.post("/teach/topics/{topic_id}/edit")
async def edit_topic(
    topic_id: PathId,
    title: str = Form(""),
    content: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    topic = await managed_topic(session, user, topic_id)
    review.edit_topic(topic, title=title, content=content)
    module = await managed_module(session, user, topic.module_id)
    return redirect(f"/teach/courses/{module.course_id}#topic-{topic.id}")


@router.post("/teach/topics/{topic_id}/move")
async def move_topic(
    topic_id: PathId,
    direction: str = Form(...),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    topic = await managed_topic(session, user, topic_id)
    module = await managed_module(session, user, topic.module_id)
    await review.move_topic(session, module, topic, _direction(direction))
    return redirect(f"/teach/courses/{module.course_id}?moved=topic-{topic.id}&dir={direction}")


@router.post("/teach/quizzes/{quiz_id}/questions/{number}/edit")
async def edit_question(
    quiz_id: str,
    number: PathId,
    question_text: str = Form(""),
    option_a: str = Form(""),
    option_b: str = Form(""),
    option_c: str = Form(""),
    option_d: str = Form(""),
    correct_answer: str = Form(""),
    explanation: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    quiz, course = await quizzes.quiz_for(session, user, quiz_id, manage=True)
    await review.replace_question(
        session,
        quiz,
        number,
        question_text=question_text,
        options={"A": option_a, "B": option_b, "C": option_c, "D": option_d},
        correct_answer=correct_answer,
        explanation=explanation,
    )
    return redirect(f"/teach/courses/{course.course_id}#q-{quiz_id}-{number}")


@router.post("/teach/quizzes/{quiz_id}/questions/{number}/reviewed")
async def mark_reviewed(
    quiz_id: str,
    number: PathId,
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    quiz, course = await quizzes.quiz_for(session, user, quiz_id, manage=True)
    await review.mark_reviewed(session, quiz, number)
    return redirect(f"/teach/courses/{course.course_id}#q-{quiz_id}-{number}")


@router.post("/teach/quizzes/{quiz_id}/questions/{number}/delete")
async def delete_question(
    quiz_id: str,
    number: PathId,
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    quiz, course = await quizzes.quiz_for(session, user, quiz_id, manage=True)
    await quizzes.delete_question(session, quiz, number)
    return redirect(f"/teach/courses/{course.course_id}#quiz-{quiz_id}")


@router.post("/teach/quizzes/{quiz_id}/questions")
async def add_question(
    quiz_id: str,
    question_text: str = Form(""),
    option_a: str = Form(""),
    option_b: str = Form(""),
    option_c: str = Form(""),
    option_d: str = Form(""),
    correct_answer: str = Form(""),
    explanation: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    quiz, course = await quizzes.quiz_for(session, user, quiz_id, manage=True)
    options = {k: v.strip() for k, v in {"A": option_a, "B": option_b, "C": option_c, "D": option_d}.items()}
    question = await quizzes.add_question(
        session,
        quiz,
        question_text=question_text.strip(),
        options={k: v for k, v in options.items() if v},
        correct_answer=correct_answer,
        explanation=explanation.strip() or None,
        difficulty=None,
        question_number=None,
    )
    await review.mark_reviewed(session, quiz, question.question_number)  # a teacher wrote it
    return redirect(f"/teach/courses/{course.course_id}#q-{quiz_id}-{question.question_number}")


@router.post("/teach/modules/{module_id}/regenerate-quiz")
async def regenerate_quiz(
    module_id: PathId,
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    module = await managed_module(session, user, module_id)
    sources = await asyncio.to_thread(state.vector_store().topic_sources, module.course_id)
    quiz = await regenerate_week_quiz(session, module, sources)
    return redirect(f"/teach/courses/{module.course_id}#quiz-{quiz.quiz_id}")


@router.get("/teach/files/{file_id}")
async def source_pdf(
    file_id: str,
    user: Principal = Depends(current_web_teacher),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    """The PDF inline, so `#page=N` opens it at the cited page in the browser's viewer."""
    found = await review.managed_file(session, user, file_id)
    data = await asyncio.to_thread(open_storage(state.settings).get, found.file_path or "")
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "private, no-store",
        },
    )
