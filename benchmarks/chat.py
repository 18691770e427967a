"""Chat server overhead and throughput (extractive provider: no model time), with llama-index as a peer.

    python benchmarks/chat.py        # prints JSON

Time to first `token` event at 1, 10 and 50 concurrent streams (p50, p95; closed loop: each stream asks again
as soon as its answer ends, after an untimed round that opens the connections), the same for bursts (all streams
asking at one instant), and turns per second sustained on one API worker process (uvicorn, `tutor api`).
`cpu_ms_per_turn`: the API process's CPU time (user + system, all its threads) over the timed turns, divided by
their number: unlike the wall-clock figures it hardly moves with the machine's load; `database_cpu_ms_per_turn` the
same for the PostgreSQL server processes serving the database's connections (a server on this machine; connections
opened during the timed turns, as at 50 streams past the pool's size, are not counted).
The course's sentence vectors are computed first, as the worker does once a course is ready.
`BENCH_STREAMS=1,10` measures only those concurrencies (default 1,10,50); `BENCH_PEER=0` skips the peer.
The peer runs the same questions through a llama-index chat engine (context mode, MockLLM so neither side
spends model time) over the same Chroma collection.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from common import REPO, bench_settings, ingest, median, percentile, sciq, sciq_pdf

from tutor.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(*pids: int) -> dict[int, float]:
    """Each live process's CPU time so far, user + system, all threads (Linux /proc)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings by the processes alive at both."""
    return sum(after[pid] - before[pid] for pid in before if pid in after)


async def database_backends(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving the API's connections now (a server on this machine)."""
    from sqlalchemy import text

    from db.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            return [int(p) for p in (await conn.execute(text(query))).scalars()]
    finally:
        await engine.dispose()


async def first_token_ms(client: httpx.AsyncClient, headers: dict[str, str], course_id: int, question: str) -> float:
    started = time.perf_counter()
    first = None
    async with client.stream(
        "POST", "/api/chat/stream", headers=headers, json={"course_id": course_id, "message": question}
    ) as response:
        async for line in response.aiter_lines():
            if first is None and line.startswith("event: token"):
                first = time.perf_counter()
    assert first is not None, "no token event"
    return 1000 * (first - started)


async def closed_loop(
    client: httpx.AsyncClient, headers: dict[str, str], course_id: int, questions: list[str], streams: int, turns: int
) -> tuple[list[float], float]:
    """`streams` clients, each asking its next question as soon as its previous answer ends (like wrk -c N)."""
    samples: list[float] = []
    asked = 0

    async def client_loop() -> None:
        nonlocal asked
        while asked < turns:
            question = questions[asked % len(questions)]
            asked += 1
            samples.append(await first_token_ms(client, headers, course_id, question))

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(streams)))
    return samples, len(samples) / (time.perf_counter() - started)


async def measure(
    base: str, headers: dict[str, str], course_id: int, questions: list[str], server_pid: int, database_url: str
) -> dict[str, object]:
    out: dict[str, object] = {}
    questions = questions * 3  # the rounds below ask more questions than SciQ has; later rounds ask again
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        for q in questions[:5]:  # warm up: model load, connection pool
            await first_token_ms(client, headers, course_id, q)
        offset = 5
        for streams in [int(n) for n in os.environ.get("BENCH_STREAMS", "1,10,50").split(",")]:
            # Untimed: opens the connections (client and database pools) this concurrency needs.
            await closed_loop(client, headers, course_id, questions[offset:], streams, 2 * streams)
            offset += 2 * streams
            turns = max(300, 6 * streams)  # a p95 of a few hundred turns moves less with the machine's noise
            backends = await database_backends(database_url)  # the pools are open after the untimed round
            cpu, db_cpu = cpu_seconds(server_pid), cpu_seconds(*backends)
            samples, rate = await closed_loop(client, headers, course_id, questions[offset:], streams, turns)
            used, db_used = cpu_used(cpu, cpu_seconds(server_pid)), cpu_used(db_cpu, cpu_seconds(*backends))
            offset += turns
            out[f"first_token_ms_c{streams}"] = {
                "p50": median(samples),
                "p95": percentile(samples, 0.95),
                "n": len(samples),
                "turns_per_s": round(rate, 1),
                "cpu_ms_per_turn": round(1000 * used / len(samples), 1),
                "database_cpu_ms_per_turn": round(1000 * db_used / len(samples), 1),
            }
            # All `streams` questions sent at the same instant, 5 times: the worst case of a burst.
            burst: list[float] = []
            for r in range(5):
                batch = questions[offset + r * streams : offset + (r + 1) * streams]
                burst += await asyncio.gather(*(first_token_ms(client, headers, course_id, q) for q in batch))
            offset += 5 * streams
            out[f"first_token_ms_burst_of_{streams}"] = {"p50": median(burst), "p95": percentile(burst, 0.95)}
        if "first_token_ms_c10" in out:
            out["turns_per_s_c10"] = out["first_token_ms_c10"]["turns_per_s"]  # type: ignore[index]
    return out


def peer(settings_path: str, course_id: int, questions: list[str]) -> dict[str, object]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from tutor.embeddings import packaged_model_dir

    client = chromadb.PersistentClient(path=settings_path, settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_collection(f"course_{course_id}")
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=collection),
        embed_model=HuggingFaceEmbedding(model_name=str(packaged_model_dir()), device="cpu"),
    )
    engine = index.as_chat_engine(chat_mode="context", llm=MockLLM(max_tokens=64), similarity_top_k=5)
    for q in questions[:5]:
        engine.reset()
        engine.chat(q)
    samples = []
    started = time.perf_counter()
    for q in questions[:100]:
        engine.reset()
        t = time.perf_counter()
        engine.chat(q)
        samples.append(1000 * (time.perf_counter() - t))
    return {
        "turn_ms_p50": median(samples),
        "turns_per_s_sequential": round(len(samples) / (time.perf_counter() - started), 1),
    }


async def precompute_sentences(settings: Settings, course_id: int) -> float:
    """What the worker does once a course is ready: its sentence vectors for quoted answers (seconds)."""
    from db.engine import create_engine, session_factory
    from tutor.answers.sentence_store import precompute_course
    from tutor.embeddings import get_embedder

    engine = create_engine(settings.database_url or "")
    try:
        started = time.perf_counter()
        await precompute_course(session_factory(engine), get_embedder(settings), course_id)
        return round(time.perf_counter() - started, 2)
    finally:
        await engine.dispose()


async def main() -> None:
    items = sciq()
    questions = [i["question"] for i in items]
    async with bench_settings() as settings:
        course_id = (await ingest(settings, sciq_pdf(items[:150]))).course_id
        precompute_s = await precompute_sentences(settings, course_id)
        from tutor.identity import mint_token

        env = {
            **os.environ,
            **{f"TUTOR_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None},
        }
        port = free_port()  # several benchmarks may run on one machine
        env.update(TUTOR_PORT=str(port), TUTOR_LOG_LEVEL="warning")
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "api"], env=env, cwd=REPO)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            ours = await measure(
                base,
                {"Authorization": f"Bearer {mint_token(settings, 'bench-student')}"},
                course_id,
                questions,
                server.pid,
                settings.database_url or "",
            )
        finally:
            server.terminate()
            server.wait(30)
        report: dict[str, object] = {"ours_one_api_worker": ours, "sentence_vectors_precompute_s": precompute_s}
        if os.environ.get("BENCH_PEER", "1") != "0":
            theirs = await asyncio.to_thread(peer, str(settings.resolved_chroma_path), course_id, questions)
            report["peer_llama_index_context_chat_engine"] = theirs
            if "turns_per_s_c10" in ours:
                report["turns_per_s_ratio_ours_vs_peer"] = round(
                    float(ours["turns_per_s_c10"])  # type: ignore[arg-type]
                    / float(theirs["turns_per_s_sequential"]),  # type: ignore[arg-type]
                    2,
                )
    report["targets"] = {"p50_c1_ms_under": 30, "p95_c10_ms_under": 150}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
