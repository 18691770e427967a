"""The questions an attempt was started with, kept in quiz_attempts.questions so that a teacher's later edits
(deleted, reordered or rewritten questions) never change what a student is asked or graded against."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from db.models import QuizQuestion


@dataclass(frozen=True)
class AttemptQuestion:
    question_number: int  # its number when the attempt started: the key of the attempt's answers
    question_text: str
    options: dict[str, str]
    correct_answer: str
    explanation: str | None
    # The quiz_questions row it was (its id survives reorders and edits): analytics count answers against it.
    # None in snapshots taken before it was kept.
    question_id: int | None = None

    @classmethod
    def of(cls, row: QuizQuestion) -> AttemptQuestion:
        return cls(
            row.question_number, row.question_text, dict(row.options), row.correct_answer, row.explanation, row.id
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttemptQuestion:
        return cls(
            int(data["question_number"]),
            str(data["question_text"]),
            {str(k): str(v) for k, v in dict(data["options"]).items()},
            str(data["correct_answer"]),
            None if data.get("explanation") is None else str(data["explanation"]),
            None if data.get("question_id") is None else int(data["question_id"]),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def snapshot(rows: list[QuizQuestion]) -> list[dict[str, Any]]:
    """The value stored in quiz_attempts.questions, in the order the questions are asked."""
    return [AttemptQuestion.of(row).to_json() for row in rows]
