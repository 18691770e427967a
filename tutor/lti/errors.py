"""Why an LTI message was refused, in words a teacher can pass on to the LMS's admin."""

from __future__ import annotations

from tutor.errors import TutorError


class LtiError(TutorError):
    """A launch or login refused: shown as a page (the user is in a browser), logged, nothing created."""

    status = 400
