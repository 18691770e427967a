"""Users: who am I, and for admins the user list, roles and deactivation."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_admin, current_user
from api.deps import get_session
from db.models import User
from tutor.errors import NotFoundError
from tutor.identity import Principal, Role, get_user, utcnow

router = APIRouter(tags=["users"])


class UserOut(BaseModel):
    user_id: str
    email: str | None
    full_name: str | None
    role: str | None
    is_active: bool | None
    created_at: datetime | None
    last_login: datetime | None

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            user_id=u.user_id,
            email=u.email,
            full_name=u.full_name,
            role=u.role,
            is_active=u.is_active,
            created_at=u.created_at,
            last_login=u.last_login,
        )


class UserUpdate(BaseModel):
    role: Role | None = None
    is_active: bool | None = None
    full_name: str | None = None


@router.get("/api/users/me", response_model=UserOut, summary="The signed-in user")
async def me(user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)) -> UserOut:
    row = await get_user(session, user.user_id)
    assert row is not None  # sign-in created it in this request
    return UserOut.of(row)


@router.get("/api/users", response_model=list[UserOut], summary="All users (admins)")
async def users(
    role: Role | None = None,
    limit: int = Query(100, ge=1, le=500),
    after: str | None = Query(None, description="cursor: the last user_id of the previous page"),
    _: Principal = Depends(current_admin),
    session: AsyncSession = Depends(get_session),
) -> list[UserOut]:
    query = select(User).order_by(User.user_id).limit(limit)
    if role:
        query = query.where(User.role == role)
    if after:
        query = query.where(User.user_id > after)
    return [UserOut.of(u) for u in (await session.execute(query)).scalars()]


@router.patch("/api/users/{user_id}", response_model=UserOut, summary="Change a role or deactivate (admins)")
async def update_user(
    user_id: str,
    change: UserUpdate,
    _: Principal = Depends(current_admin),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    row = await get_user(session, user_id)
    if row is None:
        raise NotFoundError("user_not_found", f"no user {user_id}")
    for name, value in change.model_dump(exclude_unset=True).items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    await session.flush()
    return UserOut.of(row)
