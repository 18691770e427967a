"""Platform registrations: the LMSs an admin trusts, each with our client id there and its endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LtiPlatform
from tutor.errors import ConflictError, NotFoundError, TutorError


@dataclass(frozen=True)
class PlatformInput:
    issuer: str
    client_id: str
    jwks_url: str
    auth_login_url: str
    token_url: str
    deployment_ids: list[str] = field(default_factory=list)
    name: str | None = None


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise TutorError("invalid_platform", f"{name} must be an http(s) URL, not {url!r}", status=422)


def validate(data: PlatformInput) -> None:
    if not data.issuer.strip() or not data.client_id.strip():
        raise TutorError("invalid_platform", "issuer and client id are required", status=422)
    for name in ("jwks_url", "auth_login_url", "token_url"):
        _check_url(name, getattr(data, name))
    if not data.deployment_ids or any(not d.strip() for d in data.deployment_ids):
        raise TutorError("invalid_platform", "at least one deployment id is required", status=422)


async def add_platform(session: AsyncSession, data: PlatformInput) -> LtiPlatform:
    validate(data)
    stmt = (
        insert(LtiPlatform)
        .values(
            issuer=data.issuer.strip(),
            client_id=data.client_id.strip(),
            deployment_ids=sorted({d.strip() for d in data.deployment_ids}),
            jwks_url=data.jwks_url,
            auth_login_url=data.auth_login_url,
            token_url=data.token_url,
            name=data.name,
        )
        .on_conflict_do_nothing(constraint="uq_lti_platform")
        .returning(LtiPlatform)
    )
    platform = (await session.execute(stmt)).scalar_one_or_none()
    if platform is None:
        raise ConflictError(
            "platform_exists", f"a platform with issuer {data.issuer!r} and client id {data.client_id!r} exists"
        )
    return platform


async def list_platforms(session: AsyncSession) -> list[LtiPlatform]:
    return list((await session.execute(select(LtiPlatform).order_by(LtiPlatform.id))).scalars())


async def remove_platform(session: AsyncSession, platform_id: int) -> None:
    gone = await session.execute(delete(LtiPlatform).where(LtiPlatform.id == platform_id).returning(LtiPlatform.id))
    if gone.scalar_one_or_none() is None:
        raise NotFoundError("platform_not_found", f"no platform {platform_id}")


async def get_platform(session: AsyncSession, platform_id: int) -> LtiPlatform | None:
    return await session.get(LtiPlatform, platform_id)


async def find_platform(session: AsyncSession, issuer: str, client_id: str | None) -> LtiPlatform | None:
    """The registration for this issuer (and client id, when the platform names one; without it, the issuer's
    only registration)."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    found = list((await session.execute(query.limit(2))).scalars())
    return found[0] if len(found) == 1 else None
