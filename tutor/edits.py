"""Partial updates of content rows (course, week, topic, quiz): validated before any row is touched."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator


class Edit(BaseModel):
    """Fields left out keep their value. A field whose column is NOT NULL (`not_null`) cannot be sent as null:
    refused here with the field named, not by the database as a server error."""

    not_null: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
