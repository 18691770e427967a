"""People: the signed-in user's own row, and for admins the user list, roles and deactivation."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from tutor.edits import Edit
from tutor.errors import NotFoundError
from tutor.identity import Principal, Role, get_user, utcnow


class UserEdit(Edit):
    not_null: ClassVar[frozenset[str]] = frozenset({"role", "is_active"})

    role: Role | None = None
    is_active: bool | None = None
    full_name: str | None = None


async def own_user(session: AsyncSession, user: Principal) -> User:
    row = await get_user(session, user.user_id)
    if row is None:  # sign-in creates the row; only a concurrent delete gets here
        raise NotFoundError("user_not_found", f"no user {user.user_id}")
    return row


async def list_users(
    session: AsyncSession, *, role: Role | None = None, limit: int = 100, after: str | None = None
) -> list[User]:
    """Ordered by user_id; `after` is the last user_id of the previous page."""
    query = select(User).order_by(User.user_id).limit(limit)
    if role:
        query = query.where(User.role == role)
    if after:
        query = query.where(User.user_id > after)
    return list((await session.execute(query)).scalars())


async def edit_user(session: AsyncSession, user_id: str, edit: UserEdit) -> User:
    row = await get_user(session, user_id)
    if row is None:
        raise NotFoundError("user_not_found", f"no user {user_id}")
    for name, value in edit.changes().items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    await session.flush()
    return row
