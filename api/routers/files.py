"""A course's source files: list, download, delete (its chunks leave the index with it)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session, get_state
from api.params import QueryId
from api.state import AppState
from db.models import Course, SourceFile
from ingestion.storage import open_storage
from tutor.courses import visible_course
from tutor.errors import NotFoundError
from tutor.identity import Principal

router = APIRouter(tags=["files"])


class FileOut(BaseModel):
    file_id: str
    course_id: int
    filename: str
    file_size: int | None
    file_type: str | None
    checksum: str | None
    uploaded_by: str | None
    upload_date: datetime | None

    @classmethod
    def of(cls, f: SourceFile) -> FileOut:
        return cls(
            file_id=f.file_id,
            course_id=f.course_id,
            filename=f.filename,
            file_size=f.file_size,
            file_type=f.file_type,
            checksum=f.checksum,
            uploaded_by=f.uploaded_by,
            upload_date=f.upload_date,
        )


async def _managed_file(session: AsyncSession, user: Principal, file_id: str) -> tuple[SourceFile, Course]:
    found = (await session.execute(select(SourceFile).where(SourceFile.file_id == file_id))).scalar_one_or_none()
    if found is None:
        raise NotFoundError("file_not_found", f"no file {file_id}")
    try:
        course = await visible_course(session, user, found.course_id, manage=True)
    except NotFoundError:
        raise NotFoundError("file_not_found", f"no file {file_id}") from None
    return found, course


@router.get("/api/files", response_model=list[FileOut], summary="A course's source files (its teacher)")
async def list_files(
    course_id: QueryId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> list[FileOut]:
    await visible_course(session, user, course_id, manage=True)
    query = select(SourceFile).where(SourceFile.course_id == course_id).order_by(SourceFile.id)
    return [FileOut.of(f) for f in (await session.execute(query)).scalars()]


@router.get(
    "/api/files/{file_id}/download",
    summary="The PDF as uploaded",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def download(
    file_id: str,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    found, _ = await _managed_file(session, user, file_id)
    data = await asyncio.to_thread(open_storage(state.settings).get, found.file_path or "")
    safe = found.filename.replace('"', "")
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )


@router.delete("/api/files/{file_id}", status_code=204, summary="Delete a file and its chunks from the index")
async def delete_file(
    file_id: str,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    found, course = await _managed_file(session, user, file_id)
    await asyncio.to_thread(state.vector_store().delete_where, course.course_id, {"file_id": file_id})
    await asyncio.to_thread(open_storage(state.settings).delete, found.file_path or "")
    await session.delete(found)
    return Response(status_code=204)
