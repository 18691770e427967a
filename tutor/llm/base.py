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


@dataclass(frozen=True)
class GenerationRequest:
    messages: list[Message]
    question: str
    passages: list[Passage] = field(default_factory=list)
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


class LLM(Protocol):
    name: str
    model: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        """Text deltas of the answer; raises LLMError when the model fails, also mid-answer."""
        ...
