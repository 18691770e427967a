"""Reviewing and fixing a generated course: weeks and topics in order with their sources, edits, moves, quizzes."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, get_state
from api.pages.forms import form_edit
from api.pages.render import redirect, render
from api.params import PathId
from api.state import AppState
from api.web_session import WebSession, csrf_protect, current_web_session, current_web_teacher
from ingestion import files
from ingestion.course_edits import regenerate_week_quiz
from ingestion.storage import open_storage
from tutor import course_review as review
from tutor.course_overview import course_summary
from tutor.courses import (
    CourseEdit,
    ModuleEdit,
    TopicEdit,
    edit_course,
    edit_module,
    edit_topic,
    full_course,
    managed_module,
    managed_topic,
    visible_course,
)
from tutor.errors import TutorError
from tutor.identity import Principal
from tutor.quiz import service as quizzes
from tutor.quiz.validation import LETTERS

router = APIRouter(include_in_schema=False)
T = TypeVar("T")


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
    return await _course_page(request, user, web, session, state, course_id, created=created, moved=moved, move_dir=dir)


@dataclass(frozen=True)
class FormError:
    """A refused question form, shown next to it with what the teacher typed."""

    target: str  # the form's id prefix
    message: str
    question_text: str
    options: dict[str, str]
    correct_answer: str
    explanation: str


async def _course_page(
    request: Request,
    user: Principal,
    web: WebSession,
    session: AsyncSession,
    state: AppState,
    course_id: int,
    *,
    status: int = 200,
    form_error: FormError | None = None,
    created: int | None = None,
    moved: str | None = None,
    move_dir: str | None = None,
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    view = await full_course(session, course, with_answers=True)
    sources = await review.topic_sources(session, course_id)
    return render(
        request,
        "teach/course.html",
        web=web,
        user=user,
        status=status,
        course=view,
        summary=await course_summary(session, course),
        sources=sources,
        reviewed=await review.reviewed_questions(session, course_id),
        flagged=await review.flagged_questions(session, course_id),
        letters=LETTERS,
        created=created,
        moved=moved,
        move_dir=move_dir,
        focus_dir=_focus_dir,
        form_error=form_error,
    )


def _focus_dir(wanted: str | None, first: bool, last: bool) -> str:
    """After a move, the button that keeps focus: the same direction again, or the other one at an end (a
    disabled button cannot hold focus), so pressing Enter repeatedly keeps moving the item."""
    if (wanted == "up" and first) or (wanted == "down" and last):
        return "down" if wanted == "up" else "up"
    return wanted or "up"


@router.post("/teach/courses/{course_id}/edit")
async def save_course(
    course_id: PathId,
    title: str = Form(""),
    description: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    edit = form_edit(CourseEdit, title=title.strip(), description=description.strip() or None)
    await edit_course(session, user, course_id, edit)
    return redirect(f"/teach/courses/{course_id}#course")


@router.post("/teach/modules/{module_id}/edit")
async def save_module(
    module_id: PathId,
    title: str = Form(""),
    description: str = Form(""),
    objectives: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    objectives_list = [line.strip() for line in objectives.splitlines() if line.strip()]
    edit = form_edit(
        ModuleEdit, title=title, description=description.strip() or None, learning_objectives=objectives_list
    )
    module = await edit_module(session, user, module_id, edit)
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
async def save_topic(
    topic_id: PathId,
    title: str = Form(""),
    content: str = Form(""),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    topic = await edit_topic(session, user, topic_id, form_edit(TopicEdit, title=title, content=content.strip()))
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


@dataclass(frozen=True)
class QuestionForm:
    """A question form as the teacher filled it in (shown again as typed when it is refused)."""

    question_text: str
    options: dict[str, str]
    correct_answer: str
    explanation: str


async def question_form(
    question_text: str = Form(""),
    option_a: str = Form(""),
    option_b: str = Form(""),
    option_c: str = Form(""),
    option_d: str = Form(""),
    correct_answer: str = Form(""),
    explanation: str = Form(""),
) -> QuestionForm:
    options = {"A": option_a, "B": option_b, "C": option_c, "D": option_d}
    return QuestionForm(question_text, options, correct_answer, explanation)


@dataclass(frozen=True)
class ConsoleForm:
    """A teacher's form post (its CSRF token checked), with what showing the course page again needs."""

    request: Request
    user: Principal
    web: WebSession
    session: AsyncSession
    state: AppState


async def console_form(
    request: Request,
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> ConsoleForm:
    return ConsoleForm(request, user, web, session, state)


async def _saved_or_shown_again(
    c: ConsoleForm, course_id: int, target: str, form: QuestionForm, save: Awaitable[T]
) -> T | Response:
    """The save's result; or, when the question is refused (422), the course page with the error in words next to
    the form (`target`, its id prefix) and what the teacher typed."""
    try:
        return await save
    except TutorError as exc:
        if exc.status != 422:
            raise
        error = FormError(target, exc.message, form.question_text, form.options, form.correct_answer, form.explanation)
        return await _course_page(c.request, c.user, c.web, c.session, c.state, course_id, status=422, form_error=error)


@router.post("/teach/quizzes/{quiz_id}/questions/{number}/edit")
async def edit_question(
    quiz_id: str,
    number: PathId,
    form: QuestionForm = Depends(question_form),
    c: ConsoleForm = Depends(console_form),
) -> Response:
    quiz, course = await quizzes.quiz_for(c.session, c.user, quiz_id, manage=True)
    save = review.replace_question(
        c.session,
        quiz,
        number,
        question_text=form.question_text,
        options=form.options,
        correct_answer=form.correct_answer,
        explanation=form.explanation,
    )
    shown = await _saved_or_shown_again(c, course.course_id, f"q-{quiz_id}-{number}", form, save)
    if isinstance(shown, Response):
        return shown
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
    form: QuestionForm = Depends(question_form),
    c: ConsoleForm = Depends(console_form),
) -> Response:
    quiz, course = await quizzes.quiz_for(c.session, c.user, quiz_id, manage=True)
    save = quizzes.add_question(
        c.session,
        quiz,
        question_text=form.question_text.strip(),
        options={k: v.strip() for k, v in form.options.items() if v.strip()},
        correct_answer=form.correct_answer,
        explanation=form.explanation.strip() or None,
        difficulty=None,
        question_number=None,
    )
    question = await _saved_or_shown_again(c, course.course_id, f"new-{quiz_id}", form, save)
    if isinstance(question, Response):
        return question
    await review.mark_reviewed(c.session, quiz, question.question_number)  # a teacher wrote it
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
    sources = await review.topic_sources(session, module.course_id)
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
    found = await files.file_content(session, user, file_id, open_storage(state.settings))
    return Response(
        found.data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "private, no-store",
        },
    )
