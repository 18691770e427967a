"""Server time of the teacher's analytics services on a busy course: 200 students, 10,000 chat messages.

    TUTOR_BENCH_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres python benchmarks/analytics.py

Creates a database of its own on that server (dropped afterwards), fills it with SQL, and times each service
(course summaries, week-by-week progress, stuck students, grouped content gaps) as the JSON API calls it, and
the console's other reads (a transcripts page, score distribution, most-missed questions) for comparison.
Prints JSON: median and p95 in ms over 30 calls each, after one untimed call.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db import migrate
from db.engine import create_database, create_engine, drop_database, session_factory, with_database
from tutor import analytics, transcripts
from tutor.gaps import grouped_content_gaps
from tutor.identity import Principal
from tutor.overview import course_summaries
from tutor.students import stuck_students, weekly_progress

STUDENTS, TURNS, WEEKS, TOPICS, QUESTIONS, RUNS = 200, 25, 12, 4, 5, 30

SEED = [
    "INSERT INTO users (user_id, role) VALUES ('teacher-b', 'teacher')",
    f"INSERT INTO users (user_id, role) SELECT 'student-' || n, 'student' FROM generate_series(1, {STUDENTS}) n",
    "INSERT INTO courses (title, created_by, status) VALUES ('Biology', 'teacher-b', 'active')",
    "INSERT INTO courses (title, created_by, status) SELECT 'Other ' || n, 'teacher-b', 'draft' FROM generate_series(1, 9) n",
    f"INSERT INTO modules (course_id, week, title, order_index) SELECT 1, w, 'Week ' || w, w FROM generate_series(1, {WEEKS}) w",
    f"""INSERT INTO topics (module_id, title, content, order_index)
        SELECT m.id, 'Topic ' || t, 'Text', t FROM modules m, generate_series(1, {TOPICS}) t""",
    "INSERT INTO quizzes (quiz_id, course_id, module_id, title) SELECT 'quiz-' || m.week, 1, m.id, m.title FROM modules m",
    f"""INSERT INTO quiz_questions (quiz_id, question_number, question_text, options, correct_answer)
        SELECT q.quiz_id, n, 'Q' || n, '{{"A": "a", "B": "b", "C": "c", "D": "d"}}', 'A'
        FROM quizzes q, generate_series(1, {QUESTIONS}) n""",
    # Each student: topic rows for the weeks they reached, the week rows of quizzes, the course row.
    """INSERT INTO user_progress (user_id, course_id, module_id, topic_id, status, progress_percentage, last_accessed)
       SELECT u.user_id, 1, m.id, t.id, 'in_progress', 0, now() - (random() * interval '20 days')
       FROM users u JOIN modules m ON m.week <= 1 + (u.id % 12) JOIN topics t ON t.module_id = m.id
       WHERE u.role = 'student'""",
    """INSERT INTO user_progress (user_id, course_id, module_id, status, progress_percentage, last_accessed)
       SELECT u.user_id, 1, m.id, CASE WHEN u.id % 3 = 0 THEN 'completed' ELSE 'in_progress' END,
              CASE WHEN u.id % 3 = 0 THEN 100 ELSE 40 END, now() - (random() * interval '20 days')
       FROM users u JOIN modules m ON m.week <= 1 + (u.id % 12) WHERE u.role = 'student'""",
    """INSERT INTO user_progress (user_id, course_id, status, progress_percentage)
       SELECT user_id, 1, 'in_progress', 30 FROM users WHERE role = 'student'""",
    """INSERT INTO quiz_responses (quiz_id, user_id, answers, score, total_questions, correct_answers, submitted_at)
       SELECT 'quiz-' || (1 + (u.id + a) % 12), u.user_id, '{}', (u.id * 37 + a * 11) % 101, 5, 2,
              now() - (random() * interval '20 days')
       FROM users u, generate_series(1, 6) a WHERE u.role = 'student'""",
    # TURNS questions per student, each with its reply; one in ten could not be answered from the course.
    f"""INSERT INTO chat_history (id, user_id, course_id, session_id, message_type, message, timestamp)
        SELECT 2 * (u.id * {TURNS} + t), u.user_id, 1, 'sess-' || u.id || '-' || (t / 5), 'user',
               CASE WHEN t % 10 = 0 THEN (ARRAY['How do black holes evaporate?', 'why do black holes evaporate',
                    'Who won the world cup in 1998?', 'What is the stock market?', 'How do I cook rice?'])[1 + u.id % 5]
                    ELSE 'What does the cell membrane do in week ' || (1 + t % 12) || '?' END,
               now() - (random() * interval '20 days')
        FROM users u, generate_series(0, {TURNS - 1}) t WHERE u.role = 'student'""",
    """INSERT INTO chat_history (id, user_id, course_id, session_id, message_type, message, timestamp, metadata)
       SELECT q.id + 1, q.user_id, 1, q.session_id, 'assistant',
              'I could not find this. The closest topics in this course are Topic 1 (week 1).',
              q.timestamp + interval '2 seconds',
              jsonb_build_object('reply_to', q.id, 'content_gap', q.message NOT LIKE 'What does the cell%')
       FROM chat_history q""",
    "SELECT setval('chat_history_id_seq', (SELECT max(id) FROM chat_history))",
    "ANALYZE",
]


async def timed(session_of: Callable[[], AsyncSession], call: Callable[[AsyncSession], Awaitable[Any]]) -> list[float]:
    samples = []
    for run in range(RUNS + 1):
        async with session_of() as session:
            started = time.perf_counter()
            await call(session)
            if run:  # the first call warms the connection and the plans
                samples.append(1000 * (time.perf_counter() - started))
    return sorted(samples)


async def main() -> None:
    server = os.environ.get("TUTOR_BENCH_PG_URL") or os.environ.get("TUTOR_TEST_DATABASE_URL")
    if not server:
        raise SystemExit("set TUTOR_BENCH_PG_URL to a PostgreSQL server URL (its postgres database)")
    name = f"bench_analytics_{uuid.uuid4().hex[:8]}"
    await create_database(server, name)
    url = with_database(server, name)
    engine = create_engine(url)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        async with engine.begin() as conn:
            for statement in SEED:
                await conn.execute(text(statement))
            messages = await conn.scalar(text("SELECT count(*) FROM chat_history"))
        sessions = session_factory(engine)
        teacher = Principal("teacher-b", "teacher")
        calls: dict[str, Callable[[AsyncSession], Awaitable[Any]]] = {
            "course_summaries": lambda s: course_summaries(s, teacher),
            "weekly_progress": lambda s: weekly_progress(s, 1),
            "stuck_students": lambda s: stuck_students(s, 1),
            "content_gap_groups": lambda s: grouped_content_gaps(s, 1),
            # The console's other reads, for comparison.
            "transcripts_first_page": lambda s: transcripts.sessions(
                s, transcripts.TranscriptFilter(1), limit=50, cursor=None
            ),
            "transcripts_search": lambda s: transcripts.sessions(
                s, transcripts.TranscriptFilter(1, q="black holes"), limit=50, cursor=None
            ),
            "score_distribution": lambda s: analytics.score_distribution(s, 1),
            "most_missed": lambda s: analytics.most_missed(s, 1),
        }
        out: dict[str, Any] = {"students": STUDENTS, "chat_messages": messages, "weeks": WEEKS, "runs": RUNS}
        for label, call in calls.items():
            samples = await timed(sessions, call)
            out[label] = {
                "p50_ms": round(samples[len(samples) // 2], 1),
                "p95_ms": round(samples[int(0.95 * len(samples)) - 1], 1),
            }
        print(json.dumps(out, indent=2))
    finally:
        await engine.dispose()
        await drop_database(server, name)


if __name__ == "__main__":
    asyncio.run(main())
