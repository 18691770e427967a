"""Domain errors: each carries a stable code; the API maps them to one JSON error shape."""

from __future__ import annotations


class TutorError(Exception):
    """An error a user can act on. `status` is the HTTP status the API answers with."""

    status: int = 400

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class NotFoundError(TutorError):
    status = 404


class ConflictError(TutorError):
    status = 409
