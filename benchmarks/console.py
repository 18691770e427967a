"""Server time of the console's transcripts and analytics pages on a busy course (10,000 chat messages, 200
students, quiz results and progress), through the real app in process with a signed-in session.

    python benchmarks/console.py        # prints JSON (p50/p95 ms per page)
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import httpx
from common import bench_settings, median, percentile

STUDENTS, MESSAGES, WEEKS, RUNS = 200, 10_000, 6, 40


async def seed(settings: Any) -> int:
    from sqlalchemy import text

    from db.engine import create_engine

    rng = random.Random(7)
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        users = [{"u": f"student-{i:03d}"} for i in range(STUDENTS)] + [{"u": "bench-teacher"}]
        await conn.execute(text("INSERT INTO users (user_id, role) VALUES (:u, 'student')"), users)
        await conn.execute(text("UPDATE users SET role = 'teacher' WHERE user_id = 'bench-teacher'"))
        course_id = await conn.scalar(
            text(
                "INSERT INTO courses (title, created_by, status) VALUES ('Bench', 'bench-teacher', 'active') RETURNING course_id"
            )
        )
        for week in range(1, WEEKS + 1):
            module_id = await conn.scalar(
                text("INSERT INTO modules (course_id, week, title) VALUES (:c, :w, :t) RETURNING id"),
                {"c": course_id, "w": week, "t": f"Week {week}"},
            )
            quiz_id = f"quiz-bench-{week}"
            await conn.execute(
                text("INSERT INTO quizzes (quiz_id, course_id, module_id, title) VALUES (:q, :c, :m, :t)"),
                {"q": quiz_id, "c": course_id, "m": module_id, "t": f"Week {week} quiz"},
            )
            await conn.execute(
                text(
                    "INSERT INTO quiz_questions (quiz_id, question_number, question_text, options, correct_answer) "
                    "VALUES (:q, :n, :t, CAST(:o AS JSONB), 'A')"
                ),
                [
                    {
                        "q": quiz_id,
                        "n": n,
                        "t": f"Question {n} of week {week}?",
                        "o": '{"A":"a","B":"b","C":"c","D":"d"}',
                    }
                    for n in range(1, 6)
                ],
            )
            await conn.execute(
                text(
                    "INSERT INTO quiz_responses (quiz_id, user_id, answers, score, total_questions, correct_answers) "
                    "VALUES (:q, :u, CAST(:a AS JSONB), :s, 5, :k)"
                ),
                [
                    {
                        "q": quiz_id,
                        "u": f"student-{i:03d}",
                        "a": json.dumps({"1": rng.choice("ABCD")}),
                        "s": k * 20,
                        "k": k,
                    }
                    for i in range(0, STUDENTS, 2)
                    for k in [rng.randint(0, 5)]
                ],
            )
            await conn.execute(
                text(
                    "INSERT INTO user_progress (user_id, course_id, module_id, status, progress_percentage) "
                    "VALUES (:u, :c, :m, 'in_progress', :p)"
                ),
                [
                    {"u": f"student-{i:03d}", "c": course_id, "m": module_id, "p": rng.randint(0, 100)}
                    for i in range(STUDENTS)
                ],
            )
        citation = json.dumps({"citations": [{"number": 1, "file_id": "f", "filename": "notes.pdf", "page_start": 3}]})
        rows = []
        for n in range(MESSAGES // 2):
            student = f"student-{n % STUDENTS:03d}"
            session = f"sess-{n % (STUDENTS * 5)}"
            rows.append(
                {"u": student, "c": course_id, "s": session, "k": "user", "m": f"question {n} about cells?", "d": "{}"}
            )
            gap = n % 20 == 0
            meta = json.dumps({"content_gap": True}) if gap else citation
            rows.append({"u": student, "c": course_id, "s": session, "k": "assistant", "m": f"answer {n}.", "d": meta})
        await conn.execute(
            text(
                "INSERT INTO chat_history (user_id, course_id, session_id, message_type, message, metadata) "
                "VALUES (:u, :c, :s, :k, :m, CAST(:d AS JSONB))"
            ),
            rows,
        )
        # content gaps link a reply to its question
        await conn.execute(
            text(
                "UPDATE chat_history a SET metadata = a.metadata || jsonb_build_object('reply_to', a.id - 1) "
                "WHERE a.metadata ? 'content_gap'"
            )
        )
        await conn.execute(text("ANALYZE"))  # as autovacuum would after a bulk load: plans for real row counts
    await engine.dispose()
    return int(course_id)


async def timed(client: httpx.AsyncClient, path: str, params: dict[str, str] | None = None) -> list[float]:
    await client.get(path, params=params)  # warm
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = await client.get(path, params=params)
        times.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200, response.text[:500]
    return times


async def main() -> None:
    from api.app import create_app
    from tutor.identity import mint_token

    async with bench_settings() as settings:
        course_id = await seed(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                token = mint_token(settings, "bench-teacher", "teacher")
                link = await client.post("/api/sign-in-links", headers={"Authorization": f"Bearer {token}"})
                await client.get(link.json()["url"])
                pages = {
                    "transcripts": (f"/teach/courses/{course_id}/transcripts", None),
                    "transcripts_filtered_text": (f"/teach/courses/{course_id}/transcripts", {"q": "question 77"}),
                    "transcripts_one_student": (f"/teach/courses/{course_id}/transcripts", {"student": "student-042"}),
                    "transcript_session": (f"/teach/courses/{course_id}/transcripts/sess-42", None),
                    "analytics": (f"/teach/courses/{course_id}/analytics", None),
                    "courses": ("/teach", None),
                }
                results = {}
                for name, (path, params) in pages.items():
                    times = await timed(client, path, params)
                    results[name] = {"p50_ms": round(median(times), 1), "p95_ms": round(percentile(times, 0.95), 1)}
    print(
        json.dumps(
            {"students": STUDENTS, "messages": MESSAGES, "weeks": WEEKS, "runs": RUNS, "pages": results}, indent=2
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
