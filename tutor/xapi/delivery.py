"""Sending a queued statement to the LRS: PUT with the statement's own id, so a retry never stores it twice."""

from __future__ import annotations

from typing import Any

import httpx

from tutor import outbox
from tutor.settings import Settings
from tutor.xapi import enabled
from tutor.xapi.record import KIND
from tutor.xapi.statements import VERSION


class LRSError(Exception):
    """The LRS could not take the statement now (down, overloaded, refusing our credentials): retried."""


@outbox.sender(KIND, when=enabled)
async def send(payload: dict[str, Any], settings: Settings) -> None:
    assert settings.xapi_endpoint  # `when`: only a worker with an LRS configured sends statements
    statement = payload["statement"]
    auth = (settings.xapi_username, settings.xapi_password or "") if settings.xapi_username else None
    async with httpx.AsyncClient(timeout=settings.xapi_timeout_s, auth=auth) as client:
        response = await client.put(
            settings.xapi_endpoint.rstrip("/") + "/statements",
            params={"statementId": statement["id"]},
            json=statement,
            headers={"X-Experience-API-Version": VERSION},
        )
    # 409: a statement with this id is stored already; the id is ours and made once, so it is this one (an
    # earlier try that got through before its answer was lost).
    if response.status_code in (200, 204, 409):
        return
    detail = f"the LRS answered {response.status_code}: {response.text[:500]}"
    if response.status_code == 400:  # malformed: sending it again cannot help
        raise outbox.PermanentError(detail)
    raise LRSError(detail)
