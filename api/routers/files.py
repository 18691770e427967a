"""A course's source files: list, download, delete (its chunks leave the index with it)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session, get_state
from api.filenames import attachment
from api.params import QueryId
from api.state import AppState
from ingestion import files
from ingestion.storage import open_storage
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
    def of(cls, f: files.StoredFile) -> FileOut:
        return cls(**vars(f))


@router.get("/api/files", response_model=list[FileOut], summary="A course's source files (its teacher)")
async def list_files(
    course_id: QueryId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> list[FileOut]:
    return [FileOut.of(f) for f in await files.course_files(session, user, course_id)]


@router.get(
    "/api/files/{file_id}/download",
    summary="The PDF as uploaded",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "no such file, or `file_missing`"}},
)
async def download(
    file_id: str,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    found = await files.file_content(session, user, file_id, open_storage(state.settings))
    return Response(
        found.data, media_type=found.media_type, headers={"Content-Disposition": attachment(found.filename)}
    )


@router.delete("/api/files/{file_id}", status_code=204, summary="Delete a file and its chunks from the index")
async def delete_file(
    file_id: str,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    await files.delete_file(session, user, file_id, storage=open_storage(state.settings), index=state.vector_store())
    return Response(status_code=204)
