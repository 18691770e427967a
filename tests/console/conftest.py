"""Browser sessions for the console tests: a sign-in link redeemed by a client with its own cookie jar."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.web_session import SESSION_COOKIE

Browser = Callable[..., Awaitable[httpx.AsyncClient]]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
async def browser_session(
    app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], db: AsyncEngine
) -> AsyncIterator[Browser]:
    """`await browser_session("alice", "teacher")`: a client signed in through a one-time link, as a browser is."""
    made: list[httpx.AsyncClient] = []

    async def open_as(user_id: str, role: str = "teacher", *, base_url: str = "http://tutor.test") -> httpx.AsyncClient:
        link = await app_client.post("/api/sign-in-links", headers=auth(user_id, role))
        assert link.status_code == 200, link.text
        client = httpx.AsyncClient(transport=app_client._transport, base_url=base_url)
        made.append(client)
        redeemed = await client.get(link.json()["url"].replace("http://tutor.test", base_url))
        assert redeemed.status_code == 303 and SESSION_COOKIE in redeemed.cookies, redeemed.text
        return client

    yield open_as
    for client in made:
        await client.aclose()
