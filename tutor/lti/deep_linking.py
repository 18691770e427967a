"""Deep linking: a teacher in the LMS picks the course (or a week's quiz) a new link opens; the tool answers with
a signed LtiDeepLinkingResponse that the browser posts back to the LMS."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, Module, Quiz
from tutor.identity import Principal
from tutor.lti import claims as c
from tutor.lti.errors import LtiError
from tutor.lti.grades import PRACTICE
from tutor.lti.keys import signing_key
from tutor.lti.launch import Launch, origin_of, platform_by_id
from tutor.lti.links import link_context

FLOW_TTL_S = 1800
_FLOW_KEY = "lti:deeplink:"


@dataclass(frozen=True)
class QuizChoice:
    quiz_id: str
    title: str
    week: int | None


@dataclass(frozen=True)
class CourseChoice:
    course_id: int
    title: str
    quizzes: list[QuizChoice] = field(default_factory=list)


@dataclass(frozen=True)
class DeepLinkReturn:
    return_url: str
    jwt: str
    platform_origin: str  # the LMS page that frames the picker

    @property
    def return_origin(self) -> str:
        return origin_of(self.return_url)


async def start(redis: Redis, launch: Launch, user: Principal) -> str:
    """Keep what the answer needs (for the page's form, which the teacher submits later) under a random id."""
    if not user.is_teacher:
        raise LtiError("lti_teacher_only", "only a teacher adds tutor links to an LMS course", status=403)
    settings = launch.claim(c.DEEP_LINKING_SETTINGS)
    origin_of(str(settings["deep_link_return_url"]))  # an http(s) URL, or the launch is refused
    flow = {
        "platform_id": launch.platform.id,
        "deployment_id": launch.deployment_id,
        "return_url": settings["deep_link_return_url"],
        "data": settings.get("data"),
        "user_id": user.user_id,
        "role": user.role,
        "claims": {k: launch.claims[k] for k in (c.CONTEXT, c.NRPS, c.AGS_ENDPOINT) if k in launch.claims},
    }
    flow_id = secrets.token_urlsafe(24)
    await redis.set(_FLOW_KEY + flow_id, json.dumps(flow), ex=FLOW_TTL_S)
    return flow_id


async def choices(session: AsyncSession, user: Principal) -> list[CourseChoice]:
    """Courses the teacher may link: their own, and every published one."""
    courses = (
        await session.execute(
            select(Course)
            .where(or_(Course.status == "active", Course.created_by == user.user_id))
            .order_by(Course.title, Course.course_id)
            .limit(500)
        )
    ).scalars()
    by_id = {course.course_id: CourseChoice(course.course_id, course.title) for course in courses}
    quizzes = await session.execute(
        select(Quiz.quiz_id, Quiz.title, Quiz.course_id, Module.week)
        .outerjoin(Module, Module.id == Quiz.module_id)
        .where(Quiz.course_id.in_(list(by_id)), Quiz.quiz_type.is_distinct_from(PRACTICE))
        .order_by(Module.week.nulls_last(), Quiz.id)
    )
    for quiz_id, title, course_id, week in quizzes.all():
        by_id[course_id].quizzes.append(QuizChoice(quiz_id, title, week))
    return list(by_id.values())


async def _flow(redis: Redis, flow_id: str) -> dict[str, Any] | None:
    if not flow_id or len(flow_id) > 100:
        return None
    raw = await redis.get(_FLOW_KEY + flow_id)
    return None if raw is None else cast(dict[str, Any], json.loads(raw))


def _expired() -> LtiError:
    return LtiError("lti_deep_link_expired", "this choice has expired or was made already; add the tool again")


async def finish(session: AsyncSession, redis: Redis, flow_id: str, choice: str, launch_url: str) -> DeepLinkReturn:
    """The teacher's pick (`course:ID` or `quiz:ID`) as a signed content item; the context links to the course."""
    flow = await _flow(redis, flow_id)
    if flow is None:
        raise _expired()
    user = Principal(str(flow["user_id"]), flow["role"])
    allowed = {ch.course_id: ch for ch in await choices(session, user)}
    kind, _, ident = choice[:200].partition(":")
    item: dict[str, Any]
    if kind == "course" and ident.isdigit() and len(ident) < 10 and int(ident) in allowed:
        picked = allowed[int(ident)]
        course_id = picked.course_id
        item = {
            "type": "ltiResourceLink",
            "title": picked.title,
            "url": launch_url,
            "custom": {"course_id": str(course_id)},
        }
    else:
        found = [(ch, q) for ch in allowed.values() for q in ch.quizzes if kind == "quiz" and q.quiz_id == ident]
        if not found:
            raise LtiError("lti_deep_link_choice", "pick one of the courses or quizzes listed")
        ch, quiz = found[0]
        course_id = ch.course_id
        item = {
            "type": "ltiResourceLink",
            "title": f"{ch.title}: {quiz.title}",
            "url": launch_url,
            "custom": {"course_id": str(course_id), "quiz_id": quiz.quiz_id},
            # The LMS creates a gradebook column for the link; scores of this quiz go to it.
            "lineItem": {"scoreMaximum": 100, "label": quiz.title, "resourceId": quiz.quiz_id, "tag": "quiz"},
        }
    # A valid pick uses the flow up: one answer per deep linking request, whichever tab sends it first.
    if not await redis.delete(_FLOW_KEY + flow_id):
        raise _expired()
    platform = await platform_by_id(session, int(flow["platform_id"]))
    launch = Launch(platform, {**flow["claims"], c.DEPLOYMENT_ID: flow["deployment_id"]})
    await link_context(session, launch, course_id, relink=True)
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "nonce": secrets.token_urlsafe(16),
        c.DEPLOYMENT_ID: flow["deployment_id"],
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: c.LTI_VERSION,
        c.CONTENT_ITEMS: [item],
    }
    if flow.get("data") is not None:
        claims[c.DEEP_LINKING_DATA] = flow["data"]
    key = await signing_key(session)
    return DeepLinkReturn(str(flow["return_url"]), key.sign(claims), origin_of(platform.auth_login_url))
