"""Server time of the student page /learn/{course} for a student with 1,000 chat sessions in the course.

    python benchmarks/learn_page.py      # prints JSON

One API process (uvicorn in a thread of this one), 12 weeks of 4 topics with quizzes, the student's 1,000 sessions
(4 messages each), quiz responses, review cards and mastery rows; sequential GETs with the session cookie after
warm-up, timed at the client on the loopback (an upper bound of the server's time), the CPU time they took, and
the SQL statements each page ran (counted at the driver).
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote

import httpx
from common import bench_settings, median, percentile

from tests.servers import api_server

SESSIONS = 1000
REQUESTS = 300


async def seed(settings) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from db.engine import create_engine, session_factory
    from tests.quiz.rows import make_course
    from tutor.identity import Principal, sign_in

    engine = create_engine(settings.database_url or "")
    sessions = session_factory(engine)
    rows = await make_course(sessions, teacher="bench-teacher", weeks=12)
    async with sessions() as session, session.begin():
        await sign_in(session, Principal("bench-student", "student"))
    async with engine.begin() as conn:
        for week, module_id in enumerate(rows.module_ids, 1):
            for n in range(2, 5):
                await conn.execute(
                    text("INSERT INTO topics (module_id, title, content, order_index) VALUES (:m, :t, 'x', :n)"),
                    {"m": module_id, "t": f"Topic {week}.{n}", "n": n},
                )
        await conn.execute(
            text(
                """INSERT INTO chat_history (user_id, course_id, session_id, message_type, message, timestamp)
                   SELECT 'bench-student', :c, 'sess-' || s, CASE WHEN m % 2 = 0 THEN 'user' ELSE 'assistant' END,
                          'message ' || m || ' of session ' || s, now() - (s || ' minutes')::interval
                   FROM generate_series(1, :n) s, generate_series(0, 3) m"""
            ),
            {"c": rows.course_id, "n": SESSIONS},
        )
        # Other students' history in the same course, as a real course has.
        await conn.execute(
            text(
                """INSERT INTO users (user_id, role) SELECT 'other-' || u, 'student' FROM generate_series(1, 50) u;
                   """
            )
        )
        await conn.execute(
            text(
                """INSERT INTO chat_history (user_id, course_id, session_id, message_type, message)
                   SELECT 'other-' || (s % 50 + 1), :c, 'other-sess-' || s, 'user', 'hello'
                   FROM generate_series(1, 20000) s"""
            ),
            {"c": rows.course_id},
        )
    async with engine.connect() as conn:
        # Statistics, as autovacuum keeps them on a live database: bulk-loaded tables have none yet.
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return rows.course_id


def _count_statements():  # type: ignore[no-untyped-def]
    """From now on, count the statements every engine of this process sends (the API runs in a thread here)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen = [0]

    def count(*_: object) -> None:
        seen[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    return lambda: seen[0]


async def main() -> None:
    async with bench_settings() as settings:
        course_id = await seed(settings)
        with api_server(settings) as api:
            from tutor.identity import mint_token

            token = mint_token(settings, "bench-student", "student")
            async with httpx.AsyncClient(base_url=api, timeout=30) as client:
                # Graded answers, so the page has progress, mastery and reviews to show.
                quizzes = (
                    await client.get(
                        f"/api/quizzes?course_id={course_id}", headers={"Authorization": f"Bearer {token}"}
                    )
                ).json()
                for quiz in quizzes:
                    await client.post(
                        f"/api/quizzes/{quiz['quiz_id']}/responses",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"answers": {"1": "A", "2": "B", "3": "C", "4": "D"}},
                    )
                link = (await client.post("/api/sign-in-links", headers={"Authorization": f"Bearer {token}"})).json()
                target = f"/learn/{course_id}"
                landed = await client.get(f"{link['url']}&next={quote(target, safe='')}")
                assert landed.status_code == 303, landed.text
                for _ in range(20):
                    assert (await client.get(target)).status_code == 200
                samples = []
                statements = _count_statements()
                cpu_started = time.process_time()
                for _ in range(REQUESTS):
                    started = time.perf_counter()
                    page = await client.get(target)
                    samples.append(1000 * (time.perf_counter() - started))
                    assert page.status_code == 200
                cpu_ms = 1000 * (time.process_time() - cpu_started) / REQUESTS
                queries = statements() / REQUESTS
    print(
        json.dumps(
            {
                "page": "/learn/{course}",
                "student_sessions": SESSIONS,
                "weeks": 12,
                "requests": REQUESTS,
                "p50_ms": median(samples),
                "p95_ms": percentile(samples, 0.95),
                # This process's CPU per request, server and client together: what contention cannot inflate.
                "cpu_ms_per_request": round(cpu_ms, 1),
                "sql_statements_per_page": round(queries, 2),
                "bytes": len(page.content),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
