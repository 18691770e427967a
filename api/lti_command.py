"""`tutor lti ...`: admins register the LMSs (LTI 1.3 platforms) this tutor trusts, list and remove them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from tutor.lti import platforms

T = TypeVar("T")


async def _in_session(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from db.engine import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def add(database_url: str, data: platforms.PlatformInput) -> str:
    p = asyncio.run(_in_session(database_url, lambda s: platforms.add_platform(s, data)))
    return f"platform {p.id} added: {p.issuer} (client id {p.client_id}, deployments {', '.join(p.deployment_ids)})"


def listing(database_url: str) -> list[str]:
    rows = asyncio.run(_in_session(database_url, platforms.list_platforms))
    return [
        f"{p.id}\t{p.issuer}\tclient {p.client_id}\tdeployments {','.join(p.deployment_ids)}\t{p.name or ''}"
        for p in rows
    ]


def remove(database_url: str, platform_id: int) -> None:
    asyncio.run(_in_session(database_url, lambda s: platforms.remove_platform(s, platform_id)))


def tool_urls(base_url: str) -> list[str]:
    """What an LMS administrator types in when adding the tool."""
    base = base_url.rstrip("/")
    return [
        f"OIDC login initiation URL: {base}/lti/login",
        f"Redirect / launch URL:     {base}/lti/launch",
        f"Public keyset (JWKS) URL:  {base}/lti/jwks.json",
        f"Deep linking URL:          {base}/lti/launch",
    ]
