"""Where a launch leads: the LMS context's course (set by deep linking or the link's custom `course_id`), and the
launch kept per user and course so that a quiz finished later knows where its score goes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, LtiContext, LtiLaunch, Quiz
from tutor.courses import can_view
from tutor.identity import Principal, utcnow
from tutor.lti import claims as c
from tutor.lti.errors import LtiError
from tutor.lti.launch import Launch


@dataclass(frozen=True)
class Destination:
    course: Course
    quiz_id: str | None


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


async def link_context(session: AsyncSession, launch: Launch, course_id: int | None, *, relink: bool = False) -> None:
    """Remember the LMS context (its roster and line item URLs); `course_id`, when given, becomes its course."""
    if launch.context_id is None:
        return
    nrps = launch.claim(c.NRPS).get("context_memberships_url")
    lineitems = launch.claim(c.AGS_ENDPOINT).get("lineitems")
    title = launch.claim(c.CONTEXT).get("title")
    values = {
        "platform_id": launch.platform.id,
        "context_id": launch.context_id,
        "title": str(title)[:500] if title else None,
        "memberships_url": nrps if isinstance(nrps, str) else None,
        "lineitems_url": lineitems if isinstance(lineitems, str) else None,
        "course_id": course_id,
        "updated_at": utcnow(),
    }
    stmt = insert(LtiContext).values(**values)
    update: dict[str, Any] = {k: stmt.excluded[k] for k in ("title", "memberships_url", "lineitems_url", "updated_at")}
    if course_id is not None:
        # A teacher's deep-linking pick re-links the context; a link's custom course only links one not linked yet.
        update["course_id"] = stmt.excluded.course_id if relink else func.coalesce(LtiContext.course_id, course_id)
    await session.execute(stmt.on_conflict_do_update(constraint="uq_lti_context", set_=update))


async def destination(session: AsyncSession, launch: Launch, user: Principal) -> Destination:
    """The course (and quiz) a resource link opens: its custom parameters, else its context's course."""
    custom = launch.custom
    course_id = _int(custom.get("course_id"))
    if course_id is None and launch.context_id is not None:
        course_id = await session.scalar(
            select(LtiContext.course_id).where(
                LtiContext.platform_id == launch.platform.id, LtiContext.context_id == launch.context_id
            )
        )
    if course_id is None:
        raise LtiError(
            "lti_not_linked",
            "this LMS link does not open a course yet: a teacher adds it again and picks the course",
            status=404,
        )
    course = await session.scalar(select(Course).where(Course.course_id == course_id))
    if course is None or not can_view(user, course):
        raise LtiError("lti_course_unavailable", f"course {course_id} is not available here", status=404)
    quiz_id = custom.get("quiz_id")
    if isinstance(quiz_id, str) and quiz_id:
        quiz = await session.scalar(select(Quiz.quiz_id).where(Quiz.quiz_id == quiz_id, Quiz.course_id == course_id))
        quiz_id = quiz
    else:
        quiz_id = None
    return Destination(course, quiz_id)


async def record_launch(session: AsyncSession, launch: Launch, user: Principal, dest: Destination) -> None:
    ags = launch.claim(c.AGS_ENDPOINT)
    scopes = [s for s in ags.get("scope", []) if isinstance(s, str)] if isinstance(ags.get("scope"), list) else []
    lineitem, lineitems = ags.get("lineitem"), ags.get("lineitems")
    values = {
        "user_id": user.user_id,
        "course_id": dest.course.course_id,
        "platform_id": launch.platform.id,
        "context_id": launch.context_id,
        "resource_link_id": str(launch.claim(c.RESOURCE_LINK).get("id"))[:255],
        "quiz_id": dest.quiz_id,
        "role": user.role,
        "lineitem_url": lineitem if isinstance(lineitem, str) else None,
        "lineitems_url": lineitems if isinstance(lineitems, str) else None,
        "ags_scopes": scopes,
        "updated_at": utcnow(),
    }
    stmt = insert(LtiLaunch).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_lti_launch_user_course",
            set_={k: stmt.excluded[k] for k in values if k not in ("user_id", "course_id")},
        )
    )


async def grade_target(session: AsyncSession, user_id: str, course_id: int) -> LtiLaunch | None:
    """The user's latest launch into the course, if the LMS accepts scores from it."""
    launch = await session.scalar(
        select(LtiLaunch).where(LtiLaunch.user_id == user_id, LtiLaunch.course_id == course_id)
    )
    if launch is None or c.SCOPE_SCORE not in launch.ags_scopes:
        return None
    return launch if launch.lineitem_url or launch.lineitems_url else None


async def teaches_in_lms(session: AsyncSession, user: Principal, course_id: int) -> LtiContext | None:
    """The LMS context of this course where `user` last launched as a teacher, if any."""
    row = await session.execute(
        select(LtiContext)
        .join(
            LtiLaunch,
            (LtiLaunch.platform_id == LtiContext.platform_id) & (LtiLaunch.context_id == LtiContext.context_id),
        )
        .where(
            LtiLaunch.user_id == user.user_id,
            LtiLaunch.course_id == course_id,
            LtiLaunch.role.in_(("teacher", "admin")),
            LtiContext.course_id == course_id,
        )
        .limit(1)
    )
    return row.scalar_one_or_none()


async def contexts_of(session: AsyncSession, course_id: int) -> list[LtiContext]:
    """LMS courses that lead to this course: linked to it, or with links launched into it (one LMS course may hold
    links to several tutor courses)."""
    launched = select(LtiLaunch.id).where(
        LtiLaunch.platform_id == LtiContext.platform_id,
        LtiLaunch.context_id == LtiContext.context_id,
        LtiLaunch.course_id == course_id,
    )
    query = select(LtiContext).where((LtiContext.course_id == course_id) | launched.exists()).order_by(LtiContext.id)
    return list((await session.execute(query)).scalars())
