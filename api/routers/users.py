"""Users: who am I, and for admins the user list, roles and deactivation."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_admin, current_user
from api.deps import get_session
from db.models import User
from tutor.identity import Principal, Role
from tutor.users import UserEdit, edit_user, list_users, own_user

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


@router.get("/api/users/me", response_model=UserOut, summary="The signed-in user")
async def me(user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)) -> UserOut:
    return UserOut.of(await own_user(session, user))


@router.get("/api/users", response_model=list[UserOut], summary="All users (admins)")
async def users(
    role: Role | None = None,
    limit: int = Query(100, ge=1, le=500),
    after: str | None = Query(None, description="cursor: the last user_id of the previous page"),
    _: Principal = Depends(current_admin),
    session: AsyncSession = Depends(get_session),
) -> list[UserOut]:
    return [UserOut.of(u) for u in await list_users(session, role=role, limit=limit, after=after)]


@router.patch("/api/users/{user_id}", response_model=UserOut, summary="Change a role or deactivate (admins)")
async def update_user(
    user_id: str,
    change: UserEdit,
    _: Principal = Depends(current_admin),
    session: AsyncSession = Depends(get_session),
) -> UserOut:
    return UserOut.of(await edit_user(session, user_id, change))
