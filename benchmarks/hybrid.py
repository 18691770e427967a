"""What hybrid retrieval costs a chat turn: dense-only (reranked) vs hybrid retrieval, in process; prints JSON.

    python benchmarks/hybrid.py [--items 150] [--questions 300]

The chat benchmark's course (SciQ's first 150 paragraphs). Each question is retrieved both ways, alternating
(so a slow spell of the machine hits both); the first hybrid question of a course builds its lexical index
(reported apart), later ones reuse it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from common import bench_settings, ingest, median, percentile, sciq, sciq_pdf


async def main(n_items: int, n_questions: int) -> None:
    from db.engine import create_engine, session_factory
    from tutor.embeddings import get_embedder
    from tutor.retrieval import CANDIDATES_PER_RESULT, Retriever, rerank
    from tutor.vectorstore import open_vector_store

    items = sciq()
    async with bench_settings() as settings:
        course_id = (await ingest(settings, sciq_pdf(items[:n_items]))).course_id
        engine = create_engine(settings.database_url or "")
        store, embedder = open_vector_store(settings), get_embedder(settings)
        retriever = Retriever(store, embedder, session_factory(engine))

        def dense_only(question: str) -> list[str]:
            vector = embedder.embed_query(question)
            hits = store.query(course_id, vector, k=5 * CANDIDATES_PER_RESULT, embedding_model=embedder.name)
            return [h.chunk_id for h in rerank(question, hits, 5)]

        started = time.perf_counter()
        await retriever.retrieve(course_id, items[0]["question"], k=5)
        first_ms = 1000 * (time.perf_counter() - started)
        dense_ms, hybrid_ms, same = [], [], 0
        questions = [i["question"] for i in items][:n_questions]
        for q in questions:
            t = time.perf_counter()
            a = await asyncio.to_thread(dense_only, q)  # as the chat ran it: in a thread
            dense_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            b = [h.chunk_id for h in await retriever.retrieve(course_id, q, k=5)]
            hybrid_ms.append(1000 * (time.perf_counter() - t))
            same += a == b
        await engine.dispose()
    print(
        json.dumps(
            {
                "questions": len(questions),
                "dense_reranked_ms": {"p50": median(dense_ms), "p95": percentile(dense_ms, 0.95)},
                "hybrid_ms": {"p50": median(hybrid_ms), "p95": percentile(hybrid_ms, 0.95)},
                "hybrid_first_question_ms": round(first_ms, 1),
                "same_top5": round(same / len(questions), 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=150)
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.items, args.questions))
