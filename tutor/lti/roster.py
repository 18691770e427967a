"""Names and Role Provisioning: a teacher reads the LMS course's members, so that its students appear in the
course's analytics (as not started) before they first open the tutor."""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import UserProgress
from tutor.courses import can_manage, visible_course
from tutor.errors import NotFoundError
from tutor.identity import AuthError, Principal
from tutor.lti import claims as c
from tutor.lti.keys import signing_key
from tutor.lti.launch import platform_by_id
from tutor.lti.links import contexts_of, teaches_in_lms
from tutor.lti.services import AccessTokens, call, new_client
from tutor.lti.users import upsert_lti_user

log = logging.getLogger(__name__)
MAX_PAGES = 50  # 50 pages of members (thousands of students) and no more: a looping `next` link ends here
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class RosterSync(BaseModel):
    contexts: int
    members: int
    students: int
    new_students: int


async def has_roster(session: AsyncSession, course_id: int) -> bool:
    """Whether an LMS course with a roster service leads to this course (the console offers the sync then)."""
    return any(ctx.memberships_url for ctx in await contexts_of(session, course_id))


async def sync(session: AsyncSession, user: Principal, course_id: int) -> RosterSync:
    course = await visible_course(session, user, course_id)
    if not can_manage(user, course) and await teaches_in_lms(session, user, course_id) is None:
        raise AuthError("teacher_only", "only the course's teachers sync its roster", status=403)
    contexts = [ctx for ctx in await contexts_of(session, course_id) if ctx.memberships_url]
    if not contexts:
        raise NotFoundError(
            "no_lms_roster", "no LMS course with a roster links to this course yet: launch it from the LMS first"
        )
    key = await signing_key(session)
    tokens = AccessTokens()
    members = students = new = 0
    async with new_client() as client:
        for ctx in contexts:
            platform = await platform_by_id(session, ctx.platform_id)
            url: str | None = ctx.memberships_url
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                response = await call(
                    client,
                    tokens,
                    platform,
                    key,
                    [c.SCOPE_NRPS],
                    "GET",
                    url,
                    accept=c.MEMBERSHIPS_MEDIA,
                    what="the roster request",
                )
                for member in response.json().get("members", []):
                    members += 1
                    roles = member.get("roles") or []
                    sub = member.get("user_id")
                    if not isinstance(sub, str) or not sub or member.get("status", "Active") != "Active":
                        continue
                    if c.tutor_role(roles) != "student" or not c.is_learner(roles):
                        continue
                    students += 1
                    student = await upsert_lti_user(
                        session,
                        issuer=platform.issuer,
                        sub=sub,
                        role=None,
                        email=member.get("email"),
                        name=member.get("name"),
                    )
                    new += await _enrol(session, student.user_id, course_id)
                match = _NEXT.search(response.headers.get("link", ""))
                url = match.group(1) if match else None
    log.info("roster of course %s synced: %s members, %s students, %s new", course_id, members, students, new)
    return RosterSync(contexts=len(contexts), members=members, students=students, new_students=new)


async def _enrol(session: AsyncSession, user_id: str, course_id: int) -> int:
    """The course-level progress row the analytics list students by; an existing one is left as it is."""
    stmt = (
        insert(UserProgress)
        .values(
            user_id=user_id,
            course_id=course_id,
            module_id=None,
            topic_id=None,
            status="not_started",
            progress_percentage=0,
        )
        .on_conflict_do_nothing(constraint="unique_user_progress")
        .returning(UserProgress.id)
    )
    return 1 if (await session.execute(stmt)).scalar_one_or_none() is not None else 0
