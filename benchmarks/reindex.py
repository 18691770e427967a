"""Reindex speed: a course's Chroma collection rebuilt from PostgreSQL vs its first ingestion; prints JSON.

    python benchmarks/reindex.py [--pages 264] [--repeat 1]

The book is the Erickson chapters concatenated to `--pages` pages (as benchmarks/ingest.py builds it). The
first ingestion is the whole job (parse, structure, quizzes, chunk, embed, store); a reindex reads the chunks
from PostgreSQL and embeds and stores them again. Both with the embedding model warm.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path

from common import bench_settings, ingest
from ingest import build_pdf


async def main(pages: int, repeat: int) -> None:
    from db.engine import create_engine, session_factory
    from tutor.embeddings import get_embedder
    from tutor.reindex import reindex_course
    from tutor.vectorstore import open_vector_store

    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "book.pdf"
        real_pages = build_pdf(pages, pdf)
        async with bench_settings() as settings:
            run = await ingest(settings, pdf.read_bytes(), pdf.name)
            engine = create_engine(settings.database_url or "")
            sessions = session_factory(engine)
            store, embedder = open_vector_store(settings), get_embedder(settings, batches=True)
            runs = [await reindex_course(sessions, store, embedder, run.course_id) for _ in range(repeat)]
            await engine.dispose()
    chunks = int(run.result["chunks"])
    reindex_s = statistics.median(r.seconds for r in runs)
    print(
        json.dumps(
            {
                "pages": real_pages,
                "chunks": chunks,
                "first_ingestion": {
                    "seconds": round(run.seconds, 2),
                    "chunks_per_s": round(chunks / run.seconds, 1),
                    "embed_seconds": round(run.stage_seconds.get("embed", 0.0), 2),
                },
                "reindex": {
                    "seconds_median": round(reindex_s, 2),
                    "runs_seconds": [round(r.seconds, 2) for r in runs],
                    "chunks_per_s": round(chunks / reindex_s, 1),
                },
                "reindex_speedup": round(run.seconds / reindex_s, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=264)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.pages, args.repeat))
