"""Sending a queued statement to the LRS: PUT with the statement's own id, so a retry never stores it twice."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx

from tutor import outbox
from tutor.settings import Settings
from tutor.xapi import enabled
from tutor.xapi.record import KIND
from tutor.xapi.statements import VERSION

# One client per event loop (a worker's delivery thread has one): its connections to the LRS are kept alive
# from one statement to the next instead of a new TLS handshake for each.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


class LRSError(Exception):
    """The LRS could not take the statement now (down, overloaded, refusing our credentials): retried."""


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient()
    return client


@outbox.sender(KIND, when=enabled)
async def send(payload: dict[str, Any], settings: Settings) -> None:
    assert settings.xapi_endpoint  # `when`: only a worker with an LRS configured sends statements
    statement = payload["statement"]
    response = await _client().put(
        settings.xapi_endpoint.rstrip("/") + "/statements",
        params={"statementId": statement["id"]},
        json=statement,
        headers={"X-Experience-API-Version": VERSION},
        auth=httpx.BasicAuth(settings.xapi_username, settings.xapi_password or "")
        if settings.xapi_username
        else httpx.USE_CLIENT_DEFAULT,
        timeout=settings.xapi_timeout_s,
    )
    # 409: a statement with this id is stored already. The id is made once, for this statement, so it is an earlier
    # try that got through before its answer was lost; some LRSs answer 409 to any repeated id, some 204.
    if response.status_code in (200, 204, 409):
        return
    detail = f"the LRS answered {response.status_code}: {response.text[:500]}"
    if response.status_code == 400:  # malformed: sending it again cannot help
        raise outbox.PermanentError(detail)
    raise LRSError(detail)
