"""A student asking to review what is due ("review", "let's review", "start my review")."""

from __future__ import annotations

import re

REVIEW = re.compile(
    r"^\s*(?:let'?s\s+|start\s+|begin\s+|do\s+)?(?:my\s+|the\s+|a\s+)?review"
    r"(?:\s+(?:now|please|time|session|quiz|(?:what'?s|what\s+is)\s+due|(?:my\s+)?due(?:\s+(?:items|questions|topics))?))?"
    r"\s*[.!]*\s*$",
    re.I,
)


def is_review_request(message: str) -> bool:
    return bool(REVIEW.match(message))
