"""Who a statement is about: the LMS account when the student came through LTI, else an account on this tutor."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.settings import Settings
from tutor.xapi.statements import Json, agent


@dataclass(frozen=True)
class LtiIdentity:
    issuer: str  # the platform's issuer URL (`iss` of its launches)
    subject: str  # the platform's id of the user (`sub`)


# Where an LTI launch keeps the LMS identity of the user it signs in: users.metadata -> 'lti' -> {iss, sub}.
_LTI_IDENTITY = text(
    "SELECT metadata -> 'lti' ->> 'iss', metadata -> 'lti' ->> 'sub' FROM users WHERE user_id = :user_id"
)


async def lti_identity(session: AsyncSession, user_id: str) -> LtiIdentity | None:
    """The user's identity in the LMS that launched the tutor, if an LTI launch signed them in."""
    row = (await session.execute(_LTI_IDENTITY, {"user_id": user_id})).first()
    if row is None or not row[0] or not row[1]:
        return None
    return LtiIdentity(str(row[0]), str(row[1]))


async def actor_for(session: AsyncSession, settings: Settings, user_id: str) -> Json:
    """The LMS's account (homePage = issuer, name = sub), so statements join the LMS's own records; otherwise
    an account on this tutor with the user's id."""
    lms = await lti_identity(session, user_id)
    if lms is not None:
        return agent(lms.issuer, lms.subject)
    return agent(settings.resolved_public_url, user_id)
