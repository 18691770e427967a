"""A course's source files and their removal: list, read, delete a file or a whole course with its files and index.

Deletes commit the row change first and only then remove the stored files and index chunks: a delete that the
database refuses leaves everything in place. A clean-up that fails after the commit leaves orphans no row points
at, never a row whose file or chunks are gone; it is logged with what to remove, and each step tolerates what is
already gone, so running it again is safe.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SourceFile
from ingestion.storage import FileStorage
from tutor.courses import visible_course
from tutor.errors import ConflictError, NotFoundError
from tutor.identity import Principal

log = logging.getLogger(__name__)


class ChunkIndex(Protocol):
    """The part of the vector store a delete needs (tutor.vectorstore.VectorStore)."""

    def delete_where(self, course_id: int, where: dict[str, Any]) -> None: ...

    def delete_course(self, course_id: int) -> None: ...


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    course_id: int
    filename: str
    file_size: int | None
    file_type: str | None
    checksum: str | None
    uploaded_by: str | None
    upload_date: datetime | None

    @classmethod
    def of(cls, f: SourceFile) -> StoredFile:
        return cls(
            f.file_id, f.course_id, f.filename, f.file_size, f.file_type, f.checksum, f.uploaded_by, f.upload_date
        )


@dataclass(frozen=True)
class FileContent:
    filename: str  # as the teacher named it: for display and download headers only, never a path
    media_type: str
    data: bytes


async def managed_file(session: AsyncSession, user: Principal, file_id: str) -> SourceFile:
    """The file if the user manages its course; 404 otherwise, so file ids cannot be probed."""
    found = (await session.execute(select(SourceFile).where(SourceFile.file_id == file_id))).scalar_one_or_none()
    if found is None:
        raise NotFoundError("file_not_found", f"no file {file_id}")
    try:
        await visible_course(session, user, found.course_id, manage=True)
    except NotFoundError:
        raise NotFoundError("file_not_found", f"no file {file_id}") from None
    return found


async def course_files(session: AsyncSession, user: Principal, course_id: int) -> list[StoredFile]:
    await visible_course(session, user, course_id, manage=True)
    query = select(SourceFile).where(SourceFile.course_id == course_id).order_by(SourceFile.id)
    return [StoredFile.of(f) for f in (await session.execute(query)).scalars()]


async def file_content(session: AsyncSession, user: Principal, file_id: str, storage: FileStorage) -> FileContent:
    found = await managed_file(session, user, file_id)
    try:
        data = await asyncio.to_thread(storage.get, found.file_path or "")
    except FileNotFoundError:
        log.warning("file %s has a row but no stored copy at %r", file_id, found.file_path)
        raise NotFoundError(
            "file_missing", f"the stored copy of {found.filename!r} is missing; upload the PDF again"
        ) from None
    return FileContent(found.filename, "application/pdf", data)


async def _commit_or_conflict(session: AsyncSession, what: str) -> None:
    try:
        await session.commit()
    except DBAPIError as exc:
        await session.rollback()
        # Class 23 (integrity: a row still refers to it), 40 (serialization, deadlock), 55 (lock not available):
        # another transaction got in the way; nothing was deleted and the teacher can try again.
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        if sqlstate[:2] in ("23", "40", "55"):
            raise ConflictError("delete_conflict", f"{what} could not be deleted now; nothing was removed") from exc
        raise


async def _clean_up(what: str, step: Any, *args: Any) -> None:
    """After the commit: a failure leaves an orphan no row points at, which is logged rather than answered."""
    try:
        await asyncio.to_thread(step, *args)
    except Exception:
        log.exception(
            "clean-up after deleting %s failed: %s%r left behind", what, getattr(step, "__name__", step), args
        )


async def delete_file(
    session: AsyncSession, user: Principal, file_id: str, *, storage: FileStorage, index: ChunkIndex
) -> None:
    """Delete the file's row (committed here), then its chunks from the index and its stored copy."""
    found = await managed_file(session, user, file_id)
    course_id, location = found.course_id, found.file_path
    await session.delete(found)
    await _commit_or_conflict(session, f"file {file_id}")
    await _clean_up(f"file {file_id}", index.delete_where, course_id, {"file_id": file_id})
    if location:
        await _clean_up(f"file {file_id}", storage.delete, location)


async def delete_course(
    session: AsyncSession, user: Principal, course_id: int, *, storage: FileStorage, index: ChunkIndex
) -> None:
    """Delete the course and everything under it (the schema's cascades, committed here), then its index and
    its stored files."""
    course = await visible_course(session, user, course_id, manage=True)
    query = select(SourceFile.file_path).where(SourceFile.course_id == course_id)
    locations = [loc for loc in (await session.execute(query)).scalars() if loc]
    await session.delete(course)
    await _commit_or_conflict(session, f"course {course_id}")
    await _clean_up(f"course {course_id}", index.delete_course, course_id)
    for location in locations:
        await _clean_up(f"course {course_id}", storage.delete, location)
