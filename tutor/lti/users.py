"""LMS users as tutor users: a stable user id from the platform's issuer and the user's `sub`, the LTI identity
kept on the users row (`metadata.lti` = {iss, sub}) for whoever needs to name the user back to the LMS (grades, xAPI)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from sqlalchemy import case, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from tutor.identity import USER_ROW_WRITTEN, AuthError, Principal, utcnow


def lti_user_id(issuer: str, sub: str) -> str:
    """The same LMS user always gets the same id here; two platforms' users never share one."""
    return "lti-" + hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:40]


def lti_identity(user: User) -> tuple[str, str] | None:
    """(issuer, sub) of a user who came from an LMS, else None."""
    lti = (user.metadata_ or {}).get("lti")
    if isinstance(lti, dict) and isinstance(lti.get("iss"), str) and isinstance(lti.get("sub"), str):
        return lti["iss"], lti["sub"]
    return None


async def lti_identity_of(session: AsyncSession, user_id: str) -> tuple[str, str] | None:
    user = await session.scalar(select(User).where(User.user_id == user_id))
    return None if user is None else lti_identity(user)


def _short(value: Any, limit: int = 255) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


async def upsert_lti_user(
    session: AsyncSession,
    *,
    issuer: str,
    sub: str,
    role: Literal["student", "teacher"] | None,
    email: Any = None,
    name: Any = None,
) -> Principal:
    """Create or refresh the user of an LMS identity. `role`: the one this launch carries (the LMS decides, per
    launch: an admin stays admin); None (a roster entry) sets it only for a new user. A deactivated user is
    refused."""
    user_id = lti_user_id(issuer, sub)
    now = utcnow()
    meta = {"lti": {"iss": issuer, "sub": sub}}
    values: dict[str, Any] = {
        "user_id": user_id,
        "email": _short(email),
        "full_name": _short(name),
        "role": role or "student",
        "metadata_": meta,
        "last_login": now if role else None,
    }
    set_: dict[str, Any] = {
        "metadata": func.coalesce(User.metadata_, cast("{}", JSONB)).op("||")(cast(json.dumps(meta), JSONB)),
        "full_name": func.coalesce(values["full_name"], User.full_name),
        "updated_at": now,
    }
    if role is not None:
        set_["last_login"] = now
        # The LMS is the authority on who teaches: each launch's role applies, except that an admin stays admin.
        set_["role"] = case((User.role == "admin", "admin"), else_=role)
    try:
        async with session.begin_nested():
            row = (await session.execute(_upsert(values, set_))).one()
    except IntegrityError:  # another user row holds this email: keep the user without it
        values["email"] = None
        row = (await session.execute(_upsert(values, set_))).one()
    session.info[USER_ROW_WRITTEN] = True
    if row.is_active is False:
        raise AuthError("user_inactive", "this account has been deactivated", status=403)
    return Principal(user_id, row.role or "student", email=values["email"], full_name=values["full_name"])


def _upsert(values: dict[str, Any], set_: dict[str, Any]) -> Any:
    return (
        insert(User)
        .values(**values)
        .on_conflict_do_update(index_elements=[User.user_id], set_=set_)
        .returning(User.role, User.is_active)
    )
