"""Answer quality on SciQ (../shared/data): retrieval hit@5, and answers containing the right answer.

python benchmarks/quality.py [--local-sample 40]     # prints JSON
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator

from common import bench_settings, ingest, sciq, sciq_pdf


async def _replay(text: str) -> AsyncIterator[str]:
    yield text


async def main(local_sample: int) -> None:
    items = sciq()
    async with bench_settings() as settings:
        started = time.perf_counter()
        course_id = (await ingest(settings, sciq_pdf(items))).course_id
        ingest_s = time.perf_counter() - started

        from db.engine import create_engine, session_factory
        from tutor.answers.verify import SupportChecker, Verification, verified
        from tutor.embeddings import get_embedder
        from tutor.llm.base import GenerationRequest, Passage
        from tutor.llm.extractive import ExtractiveLLM
        from tutor.retrieval import Retriever
        from tutor.vectorstore import open_vector_store

        embedder = get_embedder(settings)
        engine = create_engine(settings.database_url or "")
        retriever = Retriever(open_vector_store(settings), embedder, session_factory(engine))
        hits5 = support5 = extractive_ok = 0
        local_ok = local_n = verified_ok = 0
        llm = ExtractiveLLM(embedder)
        checker = SupportChecker(embedder, llm.tutor.vectors)
        local = None
        if local_sample:
            from tutor.llm.local import LocalLLM

            local = LocalLLM()
        from tutor.chat.prompts import build_messages

        for n, item in enumerate(items):
            hits = await retriever.retrieve(course_id, item["question"], k=5)
            answer = item["correct_answer"].lower()
            if any(answer in h.text.lower() for h in hits):
                hits5 += 1
            if any(item["support"][:60].lower() in h.text.lower().replace("\n", " ") for h in hits):
                support5 += 1
            passages = [Passage(i, h.text, h.metadata.filename) for i, h in enumerate(hits, 1)]
            request = GenerationRequest(
                build_messages(course="SciQ", history=[], question=item["question"], passages=passages),
                item["question"],
                passages,
            )
            text = "".join([d async for d in llm.stream(request)])
            extractive_ok += answer in text.lower()
            if local and n < local_sample:
                local_n += 1
                text = "".join([d async for d in local.stream(request)])
                local_ok += answer in text.lower()
                # As the chat engine does: unsupported sentences dropped; nothing left, the quoted answer.
                check = Verification()
                kept = "".join([d async for d in verified(_replay(text), passages, checker, check)])
                if not check.verified:
                    kept = "".join([d async for d in llm.stream(request)])
                verified_ok += answer in kept.lower()
        total = len(items)
        print(
            json.dumps(
                {
                    "questions": total,
                    "ingest_seconds": round(ingest_s, 1),
                    "top5_contains_answer": round(hits5 / total, 3),
                    "top5_contains_support_paragraph": round(support5 / total, 3),
                    "extractive_answer_contains_correct": round(extractive_ok / total, 3),
                    "local_smollm2_answer_contains_correct": round(local_ok / local_n, 3) if local_n else None,
                    "local_smollm2_verified_answer_contains_correct": (
                        round(verified_ok / local_n, 3) if local_n else None
                    ),
                    "local_sample": local_n,
                    "target_top5": 0.9,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--local-sample", type=int, default=40)
    asyncio.run(main(parser.parse_args().local_sample))
