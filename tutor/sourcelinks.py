"""Short-lived signed links to a course's source PDFs, for citation chips that open the cited page.

A browser tab opening a PDF carries no bearer token, so the link itself is the permission: an HMAC (keyed
with the JWT secret) over the course, the file and the expiry. Changing any of them breaks the signature;
only someone who may read the course is handed one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SourceFile
from tutor.errors import NotFoundError, TutorError

LINK_TTL_S = 30 * 60


class LinkError(TutorError):
    status = 403


@dataclass(frozen=True)
class SourceLink:
    url: str  # path and query; the page as a fragment (#page=N) for the browser's PDF viewer
    expires_at: datetime


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def seconds_left(expires: int, now: datetime) -> int:
    return max(0, expires - _epoch(now))


class SourceLinks:
    def __init__(self, secret: str, ttl_s: int = LINK_TTL_S) -> None:
        self._key = hashlib.sha256(b"tutor-source-link\0" + secret.encode()).digest()  # not the JWT key itself
        self.ttl_s = ttl_s

    def _signature(self, course_id: int, file_id: str, expires: int) -> str:
        message = f"{course_id}\n{file_id}\n{expires}".encode("utf-8", "surrogatepass")  # any path a client sends
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, course_id: int, file_id: str, page: int | None, now: datetime) -> SourceLink:
        """`now`: naive UTC (the app's clock)."""
        expires = _epoch(now) + self.ttl_s
        sig = self._signature(course_id, file_id, expires)
        url = f"/api/sources/{course_id}/{quote(file_id, safe='')}?exp={expires}&sig={sig}"
        if page:
            url += f"#page={page}"
        return SourceLink(url, datetime.fromtimestamp(expires, UTC).replace(tzinfo=None))

    def check(self, course_id: int, file_id: str, expires: int, sig: str, now: datetime) -> None:
        if not hmac.compare_digest(self._signature(course_id, file_id, expires).encode(), sig.encode()):
            raise LinkError("link_invalid", "this link is not valid for this file")
        if _epoch(now) >= expires:
            raise LinkError("link_expired", "this link has expired; open the citation again from the chat")


async def course_file(session: AsyncSession, course_id: int, file_id: str) -> SourceFile:
    """The file if it belongs to the course (a link names both; a file of another course is not found)."""
    found = (
        await session.execute(
            select(SourceFile).where(SourceFile.file_id == file_id, SourceFile.course_id == course_id)
        )
    ).scalar_one_or_none()
    if found is None or not found.file_path:
        raise NotFoundError("file_not_found", f"no file {file_id} in this course")
    return found
