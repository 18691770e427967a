"""What a verified launch does: the LMS user becomes (or is) a tutor user, the context and launch are recorded,
and the browser is sent to the course (a resource link) or to the picker (deep linking)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tutor.courses import can_manage
from tutor.identity import Principal
from tutor.lti import claims as c
from tutor.lti.launch import Launch
from tutor.lti.links import destination, link_context, record_launch
from tutor.lti.users import upsert_lti_user


@dataclass(frozen=True)
class Outcome:
    user: Principal
    deep_linking: bool
    target: str  # where the browser goes next (a resource link)


async def sign_in_launch(session: AsyncSession, launch: Launch) -> Outcome:
    """Raises LtiError (nothing written is kept: the caller rolls back) when the link leads nowhere."""
    user = await upsert_lti_user(
        session,
        issuer=launch.platform.issuer,
        sub=launch.sub,
        role=launch.role,
        email=launch.claims.get("email"),
        name=launch.claims.get("name"),
    )
    if launch.message_type == c.DEEP_LINKING_REQUEST:
        await link_context(session, launch, None)
        return Outcome(user, True, "")
    dest = await destination(session, launch, user)
    linked_by_custom = "course_id" in launch.custom
    await link_context(session, launch, dest.course.course_id if linked_by_custom else None)
    await record_launch(session, launch, user, dest)
    target = (
        f"/teach/courses/{dest.course.course_id}"
        if can_manage(user, dest.course)
        else f"/learn/{dest.course.course_id}"
    )
    return Outcome(user, False, target)
