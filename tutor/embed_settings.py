"""A course's widget settings (in courses.metadata): its embed key and the page origins allowed to embed it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from db.models import Course
from tutor.errors import TutorError

MAX_ORIGINS = 50


@dataclass(frozen=True)
class EmbedSettings:
    course_id: int
    embed_key: str
    allowed_origins: list[str]

    def snippet(self, base_url: str) -> str:
        base = base_url.rstrip("/")
        return (
            f'<script src="{base}/widget.js" data-course="{self.course_id}" data-key="{self.embed_key}" async></script>'
        )


def _new_key() -> str:
    return f"ek_{secrets.token_urlsafe(18)}"


def _of(course: Course, meta: dict[str, Any]) -> EmbedSettings:
    return EmbedSettings(course.course_id, str(meta["embed_key"]), list(meta.get("allowed_origins", [])))


def embed_settings(course: Course) -> EmbedSettings:
    """The settings, with a key made on first use."""
    meta = dict(course.metadata_ or {})
    if "embed_key" not in meta:
        meta["embed_key"] = _new_key()
        course.metadata_ = meta
    return _of(course, meta)


def parse_origins(lines: list[str]) -> list[str]:
    origins = []
    for raw in lines:
        value = raw.strip()
        if not value:
            continue
        u = urlparse(value)
        if u.scheme not in ("http", "https") or not u.netloc or u.path not in ("", "/") or u.query or u.fragment:
            raise TutorError(
                "invalid_origin", f"{value!r} is not an origin (scheme://host[:port], nothing after)", status=422
            )
        origins.append(value.rstrip("/"))
    if len(origins) > MAX_ORIGINS:
        raise TutorError("too_many_origins", f"at most {MAX_ORIGINS} origins", status=422)
    return list(dict.fromkeys(origins))


def set_allowed_origins(course: Course, origins: list[str]) -> EmbedSettings:
    meta = {"embed_key": _new_key(), **(course.metadata_ or {}), "allowed_origins": origins}
    course.metadata_ = meta
    return _of(course, meta)


def rotate_key(course: Course) -> EmbedSettings:
    meta = {**(course.metadata_ or {}), "embed_key": _new_key()}
    course.metadata_ = meta
    return _of(course, meta)
