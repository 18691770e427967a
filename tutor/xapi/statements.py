"""xAPI 1.0.3 statements of the tutor's events, with the ADL verbs and activity ids under the tutor's address.

Pure functions from what happened to the JSON an LRS stores. A statement's id is fixed here, once: the outbox
may send it more than once, and an LRS stores one statement per id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VERSION = "1.0.3"
ADL_VERB = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITY = "http://adlnet.gov/expapi/activities/"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"  # 0-100, as cmi5 defines it
LANG = "en"
PLATFORM = "AI Tutor"

Json = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """One graded quiz answer, against the question as it was asked."""

    question_number: int
    text: str
    options: dict[str, str]
    correct_answer: str
    given: str | None  # None: skipped or unanswered
    correct: bool


@dataclass(frozen=True)
class Outcome:
    """A finished quiz attempt."""

    correct_answers: int
    total_questions: int
    passed: bool
    time_taken_s: int


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def agent(home_page: str, name: str) -> Json:
    return {"objectType": "Agent", "account": {"homePage": home_page, "name": name}}


def verb(name: str) -> Json:
    return {"id": ADL_VERB + name, "display": {"en-US": name}}


def _activity(activity_id: str, kind: str, name: str, **definition: Any) -> Json:
    return {
        "objectType": "Activity",
        "id": activity_id,
        "definition": {"type": ADL_ACTIVITY + kind, "name": {LANG: name}, **definition},
    }


def course(base: str, course_id: int, title: str | None = None) -> Json:
    """With its title when it is the statement's object; as context, its id and type say enough."""
    if title is None:
        return {"objectType": "Activity", "id": f"{base}/api/courses/{course_id}"}
    return _activity(f"{base}/api/courses/{course_id}", "course", title)


def module(base: str, module_id: int, title: str) -> Json:
    return _activity(f"{base}/api/modules/{module_id}", "module", title)


def quiz(base: str, quiz_id: str, title: str) -> Json:
    return _activity(f"{base}/api/quizzes/{quiz_id}", "assessment", title)


def question(base: str, quiz_id: str, answer: Answer) -> Json:
    """A multiple-choice interaction with the question's text, options and key as the student saw them."""
    return _activity(
        f"{base}/api/quizzes/{quiz_id}/questions/{answer.question_number}",
        "cmi.interaction",
        f"Question {answer.question_number}",
        description={LANG: answer.text},
        interactionType="choice",
        correctResponsesPattern=[answer.correct_answer],
        choices=[{"id": letter, "description": {LANG: text}} for letter, text in sorted(answer.options.items())],
    )


def registration(*parts: object) -> str:
    """A stable UUID grouping one session's or one attempt's statements (xAPI context.registration)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts)))


def context(reg: str | None, *, parent: Json | None = None, grouping: Json | None = None) -> Json:
    activities: Json = {}
    if parent is not None:
        activities["parent"] = [parent]
    if grouping is not None:
        activities["grouping"] = [grouping]
    ctx: Json = {"platform": PLATFORM}
    if activities:
        ctx["contextActivities"] = activities
    if reg is not None:
        ctx["registration"] = reg
    return ctx


def statement(actor: Json, verb_name: str, obj: Json, *, context: Json, result: Json | None = None) -> Json:
    made: Json = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": verb(verb_name),
        "object": obj,
        "context": context,
        "timestamp": now(),
        "version": VERSION,
    }
    if result is not None:
        made["result"] = result
    return made


def asked_result(message: str) -> Json:
    return {"response": message}


def answered_result(answer: Answer) -> Json:
    point = 1 if answer.correct else 0
    return {
        "success": answer.correct,
        "response": answer.given or "",
        "score": {"scaled": point, "raw": point, "min": 0, "max": 1},
    }


def quiz_result(outcome: Outcome) -> Json:
    total = outcome.total_questions
    return {
        "completion": True,
        "success": outcome.passed,
        "score": {
            "scaled": round(outcome.correct_answers / total, 4) if total else 0,
            "raw": outcome.correct_answers,
            "min": 0,
            "max": total,
        },
        "duration": f"PT{max(0, outcome.time_taken_s)}S",
    }


def progress_result(percentage: int, completed: bool) -> Json:
    return {"completion": completed, "extensions": {PROGRESS: max(0, min(100, percentage))}}
