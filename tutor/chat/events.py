"""Typed chat events, in stream order: meta, review_due?, token*, citation*, quiz_*, then exactly one of done or error."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    name: ClassVar[str] = "event"

    def data(self) -> dict[str, Any]:
        return asdict(self)

    def json(self) -> str:
        return json.dumps(self.data(), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Meta(Event):
    name: ClassVar[str] = "meta"
    session_id: str
    message_id: int
    mode: str  # answer | quiz


@dataclass(frozen=True)
class ReviewDue(Event):
    """At the start of a session: what the student has due for review (the tutor also says it in words)."""

    name: ClassVar[str] = "review_due"
    questions: int
    topics: list[dict[str, Any]]


@dataclass(frozen=True)
class Token(Event):
    name: ClassVar[str] = "token"
    text: str


@dataclass(frozen=True)
class Citation(Event):
    name: ClassVar[str] = "citation"
    number: int
    chunk_id: str
    filename: str
    file_id: str
    page_start: int
    page_end: int
    module_id: int | None
    topic_id: int | None
    topic_title: str
    week: int | None
    snippet: str
    url: str | None = None  # a short-lived signed link that opens the PDF at the page


@dataclass(frozen=True)
class QuizQuestion(Event):
    name: ClassVar[str] = "quiz_question"
    quiz_id: str
    number: int
    total: int
    question_number: int
    text: str
    options: dict[str, str]


@dataclass(frozen=True)
class QuizFeedback(Event):
    name: ClassVar[str] = "quiz_feedback"
    quiz_id: str
    number: int
    question_number: int
    given: str | None
    correct: bool
    correct_answer: str
    correct_text: str
    explanation: str | None


@dataclass(frozen=True)
class QuizResult(Event):
    name: ClassVar[str] = "quiz_result"
    quiz_id: str
    title: str
    score: int
    correct_answers: int
    total_questions: int
    passed: bool
    passing_score: int
    time_taken: int
    timed_out: bool
    review: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Done(Event):
    name: ClassVar[str] = "done"
    message_id: int | None
    provider: str
    model: str
    usage: dict[str, int]
    timing_ms: dict[str, float]


@dataclass(frozen=True)
class Error(Event):
    name: ClassVar[str] = "error"
    code: str
    message: str
