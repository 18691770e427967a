"""Shared parameter types: database ids are PostgreSQL INTEGERs, so anything outside 1..2^31-1 is refused early."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import Field

INT4_MAX = 2_147_483_647

PathId = Annotated[int, Path(ge=1, le=INT4_MAX)]
QueryId = Annotated[int, Query(ge=1, le=INT4_MAX)]
FieldId = Annotated[int, Field(ge=1, le=INT4_MAX)]
FormId = Annotated[int | None, Form(ge=1, le=INT4_MAX, description="Add the files to this existing course instead")]
