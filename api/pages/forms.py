"""Form input for the services' typed edits: a field that does not validate is refused in words (422)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tutor.errors import TutorError

E = TypeVar("E", bound=BaseModel)


def form_edit(model: type[E], **fields: Any) -> E:
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise TutorError("invalid_input", f"this form has a field that is not valid: {problems}", status=422) from None
