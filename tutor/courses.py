"""Course content as people see it: who may see which course, and the full course in order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, Module, Quiz, QuizQuestion, SourceFile, Topic
from tutor.edits import Edit
from tutor.embed import CourseMetadataPatch
from tutor.errors import NotFoundError, TutorError
from tutor.identity import Principal

CourseStatus = Literal["draft", "active", "archived"]


def can_manage(user: Principal, course: Course) -> bool:
    if user.is_widget:
        return False
    return user.is_admin or (user.role == "teacher" and course.created_by == user.user_id)


def can_view(user: Principal, course: Course) -> bool:
    # A widget token sees its own course and nothing else, wherever a course is looked up.
    if user.course_scope is not None and course.course_id != user.course_scope:
        return False
    return can_manage(user, course) or course.status == "active"


_COURSE = select(Course).where(Course.course_id == bindparam("course_id"))  # built once: every chat turn runs it


async def visible_course(session: AsyncSession, user: Principal, course_id: int, *, manage: bool = False) -> Course:
    """The course if this user may see (or manage) it; otherwise 404, so ids cannot be probed."""
    course = (await session.execute(_COURSE, {"course_id": course_id})).scalar_one_or_none()
    if course is None or not (can_manage(user, course) if manage else can_view(user, course)):
        raise NotFoundError("course_not_found", f"no course {course_id}")
    return course


@dataclass
class QuestionView:
    question_number: int
    question_text: str
    options: dict[str, str]
    difficulty: str | None
    correct_answer: str | None = None
    explanation: str | None = None


@dataclass
class QuizView:
    quiz_id: str
    title: str
    description: str | None
    quiz_type: str | None
    passing_score: int | None
    time_limit: int | None
    module_id: int | None
    questions: list[QuestionView] = field(default_factory=list)


@dataclass
class TopicView:
    id: int
    title: str
    content: str
    order_index: int | None
    estimated_time: int | None


@dataclass
class ModuleView:
    id: int
    week: int
    title: str
    description: str | None
    learning_objectives: list[str]
    order_index: int | None
    topics: list[TopicView] = field(default_factory=list)
    quizzes: list[QuizView] = field(default_factory=list)


@dataclass
class FileView:
    file_id: str
    filename: str
    file_size: int | None
    checksum: str | None
    upload_date: datetime | None


@dataclass
class CourseView:
    course_id: int
    title: str
    description: str | None
    status: str | None
    created_by: str | None
    created_at: datetime | None
    modules: list[ModuleView]
    course_quizzes: list[QuizView]
    files: list[FileView]
    metadata: dict[str, Any] | None = None


async def full_course(session: AsyncSession, course: Course, *, with_answers: bool) -> CourseView:
    """The seed's "full course" query: modules by week, topics in order, quizzes with their questions."""
    cid = course.course_id
    modules = (
        (await session.execute(select(Module).where(Module.course_id == cid).order_by(Module.week))).scalars().all()
    )
    topics = (
        (
            await session.execute(
                select(Topic)
                .join(Module, Topic.module_id == Module.id)
                .where(Module.course_id == cid)
                .order_by(Topic.module_id, Topic.order_index, Topic.id)
            )
        )
        .scalars()
        .all()
    )
    # The course's own quizzes: a student's practice and review quizzes are theirs (quizzes.made_for).
    own = (Quiz.course_id == cid, Quiz.made_for.is_(None))
    quizzes = (await session.execute(select(Quiz).where(*own).order_by(Quiz.id))).scalars().all()
    questions = (
        (
            await session.execute(
                select(QuizQuestion)
                .join(Quiz, QuizQuestion.quiz_id == Quiz.quiz_id)
                .where(*own)
                .order_by(QuizQuestion.quiz_id, QuizQuestion.question_number)
            )
        )
        .scalars()
        .all()
    )
    files = (
        (await session.execute(select(SourceFile).where(SourceFile.course_id == cid).order_by(SourceFile.id)))
        .scalars()
        .all()
    )

    by_quiz: dict[str, list[QuestionView]] = defaultdict(list)
    for q in questions:
        by_quiz[q.quiz_id].append(
            QuestionView(
                q.question_number,
                q.question_text,
                q.options,
                q.difficulty,
                q.correct_answer if with_answers else None,
                q.explanation if with_answers else None,
            )
        )
    module_views = {
        m.id: ModuleView(m.id, m.week, m.title, m.description, list(m.learning_objectives or []), m.order_index)
        for m in modules
    }
    for t in topics:
        module_views[t.module_id].topics.append(TopicView(t.id, t.title, t.content, t.order_index, t.estimated_time))
    course_quizzes: list[QuizView] = []
    for z in quizzes:
        view = QuizView(
            z.quiz_id,
            z.title,
            z.description,
            z.quiz_type,
            z.passing_score,
            z.time_limit,
            z.module_id,
            by_quiz[z.quiz_id],
        )
        if z.module_id in module_views:
            module_views[z.module_id].quizzes.append(view)
        else:
            course_quizzes.append(view)
    return CourseView(
        course_id=cid,
        title=course.title,
        description=course.description,
        status=course.status,
        created_by=course.created_by,
        created_at=course.created_at,
        modules=list(module_views.values()),
        course_quizzes=course_quizzes,
        files=[FileView(f.file_id, f.filename, f.file_size, f.checksum, f.upload_date) for f in files],
        metadata=course.metadata_,
    )


async def list_courses(session: AsyncSession, user: Principal, *, limit: int = 50) -> list[Course]:
    """A teacher's own courses, newest first; students see active courses."""
    query = select(Course).order_by(Course.created_at.desc(), Course.course_id.desc()).limit(limit)
    if user.course_scope is not None:
        query = query.where(Course.course_id == user.course_scope, Course.status == "active")
    elif user.is_admin:
        pass
    elif user.role == "teacher":
        query = query.where(Course.created_by == user.user_id)
    else:
        query = query.where(Course.status == "active")
    return list((await session.execute(query)).scalars().all())


async def create_course(
    session: AsyncSession, user: Principal, *, title: str, description: str | None, status: str
) -> Course:
    course = Course(title=title, description=description, status=status, created_by=user.user_id)
    session.add(course)
    await session.flush()
    return course


async def reorder_modules(session: AsyncSession, course: Course, order: list[int]) -> None:
    """`order` lists every module id of the course; weeks become 1..n in that order."""
    modules = {
        m.id: m for m in (await session.execute(select(Module).where(Module.course_id == course.course_id))).scalars()
    }
    if sorted(order) != sorted(modules) or len(set(order)) != len(order):
        raise TutorError("invalid_order", f"order must list each of the module ids {sorted(modules)} once", status=422)
    # Through negative weeks first, so unique_course_week holds at every step.
    for week, module_id in enumerate(order, 1):
        modules[module_id].week = -week
    await session.flush()
    for week, module_id in enumerate(order, 1):
        modules[module_id].week = week
        modules[module_id].order_index = week
    await session.flush()


async def managed_module(session: AsyncSession, user: Principal, module_id: int) -> Module:
    module = (await session.execute(select(Module).where(Module.id == module_id))).scalar_one_or_none()
    if module is None:
        raise NotFoundError("module_not_found", f"no module {module_id}")
    try:
        await visible_course(session, user, module.course_id, manage=True)
    except NotFoundError:
        raise NotFoundError("module_not_found", f"no module {module_id}") from None
    return module


async def managed_topic(session: AsyncSession, user: Principal, topic_id: int) -> Topic:
    topic = (await session.execute(select(Topic).where(Topic.id == topic_id))).scalar_one_or_none()
    if topic is None:
        raise NotFoundError("topic_not_found", f"no topic {topic_id}")
    try:
        await managed_module(session, user, topic.module_id)
    except NotFoundError:
        raise NotFoundError("topic_not_found", f"no topic {topic_id}") from None
    return topic


async def visible_topic(session: AsyncSession, user: Principal, topic_id: int) -> Topic:
    row = (
        await session.execute(
            select(Topic, Module.course_id).join(Module, Topic.module_id == Module.id).where(Topic.id == topic_id)
        )
    ).one_or_none()
    try:
        if row is None:
            raise NotFoundError("topic_not_found", f"no topic {topic_id}")
        await visible_course(session, user, row[1])
    except NotFoundError:
        raise NotFoundError("topic_not_found", f"no topic {topic_id}") from None
    return row[0]


async def reorder_topics(session: AsyncSession, module: Module, order: list[int]) -> None:
    topics = {t.id: t for t in (await session.execute(select(Topic).where(Topic.module_id == module.id))).scalars()}
    if sorted(order) != sorted(topics) or len(set(order)) != len(order):
        raise TutorError("invalid_order", f"order must list each of the topic ids {sorted(topics)} once", status=422)
    for index, topic_id in enumerate(order, 1):
        topics[topic_id].order_index = index
    await session.flush()


class CourseEdit(Edit):
    not_null: ClassVar[frozenset[str]] = frozenset({"title", "status"})

    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = None
    status: CourseStatus | None = None
    metadata: CourseMetadataPatch | None = Field(
        None, description="course settings merged into the stored ones, e.g. the widget's allowed origins"
    )


class ModuleEdit(Edit):
    not_null: ClassVar[frozenset[str]] = frozenset({"title"})

    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = None
    learning_objectives: list[str] | None = None


class TopicEdit(Edit):
    not_null: ClassVar[frozenset[str]] = frozenset({"title", "content"})

    title: str | None = Field(None, min_length=1, max_length=500)
    content: str | None = Field(None, min_length=1)
    estimated_time: int | None = Field(None, ge=1)


async def edit_course(session: AsyncSession, user: Principal, course_id: int, edit: CourseEdit) -> Course:
    """Title, description, status (publish, unpublish, archive) and settings; metadata is merged key by key."""
    course = await visible_course(session, user, course_id, manage=True)
    changes = edit.changes()
    if "metadata" in changes:
        changes.pop("metadata")
        course.metadata_ = {**(course.metadata_ or {}), **(edit.metadata.changes() if edit.metadata else {})}
    for name, value in changes.items():
        setattr(course, name, value)
    await session.flush()
    return course


async def edit_module(session: AsyncSession, user: Principal, module_id: int, edit: ModuleEdit) -> Module:
    module = await managed_module(session, user, module_id)
    for name, value in edit.changes().items():
        setattr(module, name, value)
    await session.flush()
    return module


async def edit_topic(session: AsyncSession, user: Principal, topic_id: int, edit: TopicEdit) -> Topic:
    topic = await managed_topic(session, user, topic_id)
    for name, value in edit.changes().items():
        setattr(topic, name, value)
    await session.flush()
    return topic
