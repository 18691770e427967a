"""Who a statement is about: the LMS account when the student came through LTI, else an account on this tutor."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tutor.lti.users import lti_identity_of
from tutor.settings import Settings
from tutor.xapi.statements import Json, agent


async def actor_for(session: AsyncSession, settings: Settings, user_id: str) -> Json:
    """The LMS's account (homePage = issuer, name = sub), so statements join the LMS's own records; otherwise
    an account on this tutor with the user's id."""
    lms = await lti_identity_of(session, user_id)
    if lms is not None:
        return agent(*lms)
    return agent(settings.resolved_public_url, user_id)
