"""When a question comes back: the FSRS scheduler over each student's review cards.

Quizzes here are occasional, not a daily flashcard habit, so the scheduler has no minute-scale learning
steps: a missed question comes back the next day, a known one after the interval FSRS predicts the student
still recalls it with 90% probability (days, then weeks).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from fsrs import Card, Rating, Scheduler

from db.models import ReviewCard


@cache
def scheduler() -> Scheduler:
    return Scheduler(desired_retention=0.9, learning_steps=(), relearning_steps=(), enable_fuzzing=True)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def reviewed(card_state: dict[str, Any] | None, card_id: int, correct: bool, now: datetime) -> dict[str, Any]:
    """The card after one graded answer (`card_state` None: the question's first answer)."""
    card = Card.from_dict(card_state) if card_state else Card(card_id=card_id, due=_aware(now))  # type: ignore[arg-type]
    card, _log = scheduler().review_card(card, Rating.Good if correct else Rating.Again, review_datetime=_aware(now))
    return dict(card.to_dict())


def due_of(card_state: dict[str, Any]) -> datetime:
    return _naive(datetime.fromisoformat(card_state["due"]))


def recall(row: ReviewCard, now: datetime) -> float:
    """The predicted chance the student recalls the question now (0 before any review)."""
    card = Card.from_dict(row.card)  # type: ignore[arg-type]
    return float(scheduler().get_card_retrievability(card, _aware(now)))
