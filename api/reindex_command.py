"""The `tutor reindex` command: rebuild courses' Chroma collections from PostgreSQL, with a progress bar."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tutor.errors import TutorError
from tutor.reindex import Progress as ProgressCallback
from tutor.reindex import Reindexed, reindex_all, reindex_course
from tutor.settings import Settings

console = Console(stderr=True)


async def _run(settings: Settings, database_url: str, course_id: int | None, progress: Progress) -> list[Reindexed]:
    from db.engine import create_engine, session_factory
    from tutor.embeddings import get_embedder
    from tutor.vectorstore import open_vector_store

    engine = create_engine(database_url)
    try:
        sessions = session_factory(engine)
        store, embedder = open_vector_store(settings), get_embedder(settings, batches=True)

        def bar(course: int) -> ProgressCallback:
            task = progress.add_task(f"course {course}", total=None)
            return lambda done, total: progress.update(task, completed=done, total=total)

        if course_id is None:
            return await reindex_all(sessions, store, embedder, bar)
        return [await reindex_course(sessions, store, embedder, course_id, bar(course_id))]
    finally:
        await engine.dispose()


def run_reindex(settings: Settings, database_url: str, course_id: int | None) -> int:
    """Reindex one course (or all with None); print each course's figures; 0 when all went well."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            done = asyncio.run(_run(settings, database_url, course_id, progress))
    except TutorError as exc:
        console.print(f"[red]{exc.code}: {exc.message}[/red]")
        return 1
    for r in done:
        console.print(f"course {r.course_id}: {r.chunks} chunks indexed in {r.seconds:.1f} s ({r.chunks_per_s:.0f}/s)")
    if not done:
        console.print("no course has stored chunks")
    return 0
