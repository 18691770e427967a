"""A course's widget settings, kept in courses.metadata: validated on the way in, read defensively on the way out.

What the embed key protects, and what it does not: the key only names the course to the widget script; it is
public (it sits in the host page's HTML). A browser honours the course's allowed origins (CORS and the token's
page origin), but a script can send any `Origin` header, so nothing rests on the key or the origin alone: visitor
tokens and widget chat are rate-limited per client address and per course, visitor accounts per course are
capped, and a teacher can require host-signed identities (`require_signed_identity`), so that only students the
host page's backend vouched for (a token it signed, `data-token`) can chat.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

log = logging.getLogger(__name__)


def check_origin(value: str) -> str:
    u = urlparse(value)
    if u.scheme not in ("http", "https") or not u.netloc or u.path not in ("", "/") or u.query or u.fragment:
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port], nothing after)")
    return value.rstrip("/")


Origin = Annotated[str, Field(max_length=300), AfterValidator(check_origin)]


class EmbedSettings(BaseModel):
    """The widget's settings of one course, as stored."""

    embed_key: str | None = None
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=50)
    require_signed_identity: bool = False

    @property
    def admits_anonymous(self) -> bool:
        """Anonymous visitors may chat: the teacher opened the widget to some page and did not ask for signed-in
        students only. The course's student page (/learn) follows the same rule, so it opens nothing new."""
        return bool(self.embed_key and self.allowed_origins) and not self.require_signed_identity


class CourseMetadataPatch(BaseModel):
    """A teacher's edit of courses.metadata: the keys the tutor reads are typed; other keys are kept as given.

    A key that is present must hold a valid value (`allowed_origins: null` is refused, not stored): the origin
    checks must never see a string or a null where they expect a list.
    """

    model_config = ConfigDict(extra="allow")

    allowed_origins: list[Origin] = Field(default=None, max_length=50)  # type: ignore[assignment,arg-type]
    require_signed_identity: bool = Field(default=None)  # type: ignore[assignment]

    @model_validator(mode="after")
    def key_is_rotated_not_set(self) -> CourseMetadataPatch:
        if self.model_extra and "embed_key" in self.model_extra:
            raise ValueError("the embed key is replaced with POST /api/courses/{id}/embed/rotate, not set")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


def embed_settings(metadata: dict[str, Any] | None) -> EmbedSettings:
    """The settings as stored; a value that does not validate (written before validation existed, or by hand)
    counts as unset, so a broken row refuses every origin instead of matching substrings."""
    meta = metadata or {}
    known = {k: meta[k] for k in ("embed_key", "allowed_origins", "require_signed_identity") if k in meta}
    try:
        return EmbedSettings.model_validate(known)
    except ValidationError as exc:
        log.warning("course widget settings do not validate, treated as unset: %s", exc)
        key = meta.get("embed_key")
        return EmbedSettings(embed_key=key if isinstance(key, str) else None)


def new_embed_key() -> str:
    return f"ek_{secrets.token_urlsafe(18)}"
