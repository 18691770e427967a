"""The quoting tutor's hit rate per kind of question on the dev set (benchmarks/answers_devset.json).

    python benchmarks/answers.py [--show]     # prints JSON

Ingests the dev set's Erickson chapters through the real pipeline, then asks each question as the chat engine
would (retrieval with follow-ups resolved against the earlier question, the refusal threshold, the extractive
provider with the embedding model) and checks the reply for the phrases of the passages that answer it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import defaultdict
from typing import Any

from common import REPO, bench_settings, engine_retrieval, ingest, median

DEVSET = REPO / "benchmarks" / "answers_devset.json"
DATA = REPO.parent / "shared" / "data" / "erickson_algorithms"


def hit(entry: dict[str, Any], reply: str, declined: bool) -> bool:
    text = reply.lower()
    if entry.get("expect_not_found"):
        return declined
    if declined:
        return False
    if "expect_all" in entry:
        return all(p in text for p in entry["expect_all"])
    return any(p in text for p in entry["expect"])


async def main(show: bool) -> None:
    devset = json.loads(DEVSET.read_text())
    async with bench_settings() as settings:
        from tutor.chat.prompts import resolve_follow_up
        from tutor.llm.base import GenerationRequest
        from tutor.llm.extractive import NOT_FOUND
        from tutor.retrieval import covers, passages_of

        first, *rest = [(name, (DATA / name).read_bytes()) for name in devset["files"]]
        course_id = (await ingest(settings, first[1], first[0], more=rest)).course_id
        retriever, llm, cache = await engine_retrieval(settings, course_id)
        by_kind: dict[str, list[bool]] = defaultdict(list)
        times: list[float] = []
        shown = []
        for entry in devset["questions"]:
            earlier = [entry["after"]] if "after" in entry else []
            query = resolve_follow_up(entry["question"], earlier)
            hits = await retriever.retrieve(course_id, query, k=settings.retrieval_k)
            started = time.perf_counter()
            if not covers(hits, settings.refusal_threshold):  # as the chat engine decides
                reply, declined = NOT_FOUND, True
            else:
                passages = passages_of(hits)
                request = GenerationRequest([], entry["question"], passages, query=query)
                await cache.fetch(course_id, (p.text for p in passages))
                reply = "".join([d async for d in llm.stream(request)])
                declined = reply == NOT_FOUND
            times.append(1000 * (time.perf_counter() - started))
            ok = hit(entry, reply, declined)
            by_kind[entry["kind"]].append(ok)
            shown.append({"kind": entry["kind"], "question": entry["question"], "hit": ok, "reply": reply[:400]})
        total = [ok for oks in by_kind.values() for ok in oks]
        out: dict[str, Any] = {
            "questions": len(total),
            "hit_rate": round(sum(total) / len(total), 3),
            "hit_rate_by_kind": {k: f"{sum(v)}/{len(v)}" for k, v in by_kind.items()},
            "answer_ms_p50": median(times),
        }
        if show:
            out["replies"] = shown
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", action="store_true", help="print each reply")
    asyncio.run(main(parser.parse_args().show))
