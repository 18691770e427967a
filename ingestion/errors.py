"""Ingestion errors a teacher can act on; the code says which, the message says what to do."""

from __future__ import annotations

from tutor.errors import TutorError


class IngestionError(TutorError):
    """not_a_pdf, encrypted_pdf, corrupt_pdf, empty_pdf, too_many_pages, no_content, files_missing."""

    status = 422
