"""Assignment and Grade Services: a quiz finished by a user who launched the course from an LMS sends its score
to the LMS's gradebook, through the outbox (committed with the graded response, sent once, retried on failure).

The line item is the link's own when the link opens that quiz; otherwise the quiz's line item in the LMS course
(found by `resourceId` = the quiz's id, created if it does not exist yet).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Quiz
from tutor import outbox
from tutor.lti import claims as c
from tutor.lti.keys import signing_key
from tutor.lti.links import grade_target
from tutor.lti.platforms import get_platform
from tutor.lti.services import AccessTokens, ServiceError, call, new_client
from tutor.lti.users import lti_identity_of
from tutor.settings import Settings

KIND = "lti_score"
PRACTICE = "practice"
_TOKENS = AccessTokens()  # the process's access tokens, reused until they expire


async def score_graded(session: AsyncSession, *, quiz: Quiz, user_id: str, response_id: int, score: int) -> None:
    """Queue the score for the LMS, in the grading transaction, if the user came to this course from an LMS.
    Practice quizzes (made on the fly for a review) stay out of the gradebook."""
    if quiz.quiz_type == PRACTICE:
        return
    target = await grade_target(session, user_id, quiz.course_id)
    if target is None:
        return
    identity = await lti_identity_of(session, user_id)
    if identity is None:
        return
    when = datetime.now(UTC)
    payload = {
        "platform_id": target.platform_id,
        "sub": identity[1],
        "quiz_id": quiz.quiz_id,
        "label": quiz.title,
        "score": score,
        "timestamp": when.isoformat(),
        "lineitem_url": target.lineitem_url if target.quiz_id == quiz.quiz_id else None,
        "lineitems_url": target.lineitems_url,
        "resource_link_id": target.resource_link_id,
        "scopes": list(target.ags_scopes),
    }
    await outbox.enqueue(session, kind=KIND, key=f"response:{response_id}", payload=payload)


def _scores_url(lineitem: str) -> str:
    """`.../lineitems/7?x=1` -> `.../lineitems/7/scores?x=1` (a line item URL may carry a query)."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


async def _line_item(
    client: httpx.AsyncClient, platform: Any, key: Any, payload: dict[str, Any], scopes: list[str]
) -> str:
    if payload.get("lineitem_url"):
        return str(payload["lineitem_url"])
    lineitems = payload.get("lineitems_url")
    if not lineitems or c.SCOPE_LINEITEM not in scopes:
        raise outbox.PermanentError("the LMS offers no line item for this quiz, and none may be created")
    found = await call(
        client,
        _TOKENS,
        platform,
        key,
        [c.SCOPE_LINEITEM],
        "GET",
        _with_query(lineitems, resource_id=payload["quiz_id"]),
        accept=c.LINEITEMS_MEDIA,
        what="the line item lookup",
    )
    items = found.json()
    if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("id"):
        return str(items[0]["id"])
    # Not there yet: create it. A retry after a lost answer finds it above instead of creating a second one.
    created = await call(
        client,
        _TOKENS,
        platform,
        key,
        [c.SCOPE_LINEITEM],
        "POST",
        lineitems,
        accept=c.LINEITEM_MEDIA,
        content_type=c.LINEITEM_MEDIA,
        what="the line item creation",
        json_body={
            "scoreMaximum": 100,
            "label": payload["label"],
            "resourceId": payload["quiz_id"],
            "tag": "quiz",
            **({"resourceLinkId": payload["resource_link_id"]} if payload.get("resource_link_id") else {}),
        },
    )
    return str(created.json()["id"])


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


@outbox.sender(KIND)
async def send_score(payload: dict[str, Any], settings: Settings) -> None:
    from db.engine import create_engine, session_factory

    if not settings.database_url:
        raise RuntimeError("TUTOR_DATABASE_URL is not set")
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            platform = await get_platform(session, int(payload["platform_id"]))
            if platform is None:
                raise outbox.PermanentError("the LMS was unregistered")
            key = await signing_key(session)
    finally:
        await engine.dispose()
    scopes = [s for s in payload.get("scopes", []) if isinstance(s, str)]
    if c.SCOPE_SCORE not in scopes:
        raise outbox.PermanentError("the LMS does not accept scores from this tool")
    score = {
        "userId": payload["sub"],
        "scoreGiven": payload["score"],
        "scoreMaximum": 100,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": payload["timestamp"],
    }
    try:
        async with new_client() as client:
            lineitem = await _line_item(client, platform, key, payload, scopes)
            await call(
                client,
                _TOKENS,
                platform,
                key,
                [c.SCOPE_SCORE],
                "POST",
                _scores_url(lineitem),
                accept="application/json",
                content_type=c.SCORE_MEDIA,
                json_body=score,
                what="the score",
            )
    except ServiceError as exc:
        if exc.permanent:
            raise outbox.PermanentError(exc.message) from None
        raise
