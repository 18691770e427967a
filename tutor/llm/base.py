"""The provider protocol and the request every provider takes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from tutor.errors import TutorError


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Passage:
    number: int  # the citation number, [1]
    text: str
    source: str  # e.g. "notes.pdf p. 3"
    topic: str = ""  # the title of the course topic it comes from


@dataclass(frozen=True)
class GenerationRequest:
    messages: list[Message]
    question: str
    passages: list[Passage] = field(default_factory=list)
    # What retrieval searched for: the question, or a follow-up resolved against the earlier questions.
    query: str | None = None
    # Text the answer must not contain: the answer of a quiz question open while the student asks aside.
    withhold: tuple[str, ...] = ()
    max_tokens: int = 512
    temperature: float = 0.2


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LLMError(TutorError):
    status = 502

    def __init__(self, message: str) -> None:
        super().__init__("llm_error", message)


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do, declared by the provider; the chat engine decides from these, never from its name."""

    # The answer is course sentences quoted word for word: grounded by construction, nothing to verify.
    quotes_course: bool
    # The answer is written by a model: each sentence must be checked against the passages it cites.
    needs_verification: bool
    # Text arrives in small deltas while it is generated (an answer can be checked and shown as it streams).
    streams: bool
    # The model can write structured JSON reliably enough for weeks' summaries and quizzes.
    writes_json: bool = False


class LLM(Protocol):
    name: str
    model: str
    capabilities: Capabilities

    def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        """Text deltas of the answer; raises LLMError when the model fails, also mid-answer."""
        ...
