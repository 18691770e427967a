"""A dependency that cannot be reached (database, broker, vector store, LLM), named, as a 503 the client can retry.

Drivers report an unreachable server in their own ways: SQLAlchemy wraps some errors, asyncpg raises a bare
`ConnectionRefusedError` on connect, redis-py its `ConnectionError`, Chroma's client an httpx or ValueError.
`unavailable_part` names the part from the exception's type and, for bare OS errors, from the library that
raised it (the traceback's innermost frame of a known package).
"""

from __future__ import annotations

import traceback
from typing import Literal

from tutor.errors import TutorError

Part = Literal["database", "broker", "vector_store", "llm"]

_WHAT: dict[Part, str] = {
    "database": "the database",
    "broker": "the job queue (Redis)",
    "vector_store": "the course index (vector store)",
    "llm": "the language model",
}

# Innermost frame first: the library that was talking to the server when it failed.
_PACKAGES: tuple[tuple[str, Part], ...] = (
    ("asyncpg", "database"),
    ("sqlalchemy", "database"),
    ("redis", "broker"),
    ("kombu", "broker"),
    ("celery", "broker"),
    ("chromadb", "vector_store"),
    ("openai", "llm"),
)


class ServiceUnavailable(TutorError):
    """503 with `<part>_unavailable`: nothing was changed, and trying again later will work."""

    status = 503
    retry_after = 5

    def __init__(self, part: Part) -> None:
        # The driver's own words (addresses, ports) go to the log, not to the student.
        super().__init__(f"{part}_unavailable", f"{_WHAT[part]} is unreachable right now; try again in a few seconds")
        self.part = part


def _from_frames(exc: BaseException) -> Part | None:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = frame.filename.replace("\\", "/")
        for package, part in _PACKAGES:
            if f"/{package}/" in path:
                return part
    return None


def unavailable_part(exc: BaseException) -> Part | None:
    """The dependency an exception says is unreachable, or None when it means something else."""
    from sqlalchemy import exc as sa

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ServiceUnavailable):
            return seen.part
        if isinstance(seen, sa.DBAPIError) and (seen.connection_invalidated or isinstance(seen, sa.OperationalError)):
            return "database"
        if isinstance(seen, sa.InterfaceError | sa.DisconnectionError | sa.TimeoutError):
            return "database"
        module = type(seen).__module__
        name = type(seen).__name__
        if module.startswith(("redis.", "kombu.")) and ("Connection" in name or "Timeout" in name):
            return "broker"
        if module.startswith("asyncpg") and "Connection" in name:
            return "database"
        if isinstance(seen, OSError | TimeoutError) or module.startswith("httpx") or "Could not connect" in str(seen):
            return _from_frames(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def as_unavailable(exc: BaseException) -> ServiceUnavailable | None:
    part = unavailable_part(exc)
    return None if part is None else ServiceUnavailable(part)
