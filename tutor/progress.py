"""Topic progress from the chat: a topic the student asked about and was answered from is in progress.

A chunk's module and topic may be gone by the time a turn ends (a teacher deleted them, a redelivered job
replaced them): only topics that still exist in the turn's course are touched, so the write never trips on
a foreign key.
"""

from __future__ import annotations

from typing import Any

from tutor.identity import utcnow

# One statement for any number of topics, parsed once (it runs after every answered turn). Rows go in sorted
# order, so concurrent turns of one student lock them in the same order. Parameters: touch_params().
TOUCH_TOPICS_SQL = """
    INSERT INTO user_progress (user_id, course_id, module_id, topic_id, status, progress_percentage, last_accessed)
    SELECT :user_id, :course_id, t.module_id, t.topic_id, 'in_progress', 0, :now
    FROM unnest(CAST(:modules AS integer[]), CAST(:topics AS integer[])) AS t(module_id, topic_id)
    JOIN topics ON topics.id = t.topic_id AND topics.module_id = t.module_id
    JOIN modules ON modules.id = t.module_id AND modules.course_id = :course_id
    ORDER BY t.module_id, t.topic_id
    ON CONFLICT ON CONSTRAINT unique_user_progress DO UPDATE
    SET last_accessed = EXCLUDED.last_accessed,
        status = COALESCE(NULLIF(user_progress.status, 'not_started'), EXCLUDED.status)
"""


def touch_params(user_id: str, course_id: int, topics: set[tuple[int, int]]) -> dict[str, Any]:
    pairs = sorted(topics)
    return {
        "user_id": user_id,
        "course_id": course_id,
        "now": utcnow(),
        "modules": [m for m, _ in pairs],
        "topics": [t for _, t in pairs],
    }
