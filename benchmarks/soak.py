"""Soak and chaos: many concurrent SSE chats against `tutor up` for minutes, while an API worker, the Celery worker
(mid-ingestion) and Redis are killed with SIGKILL; prints JSON.

    python benchmarks/soak.py                                    # 500 streams, 5 minutes, 1 then 2 API workers
    python benchmarks/soak.py --duration 60 --streams 100        # a short run
    python benchmarks/soak.py --api-workers 2 --no-chaos         # load alone

The service runs as a user runs it: `tutor up` (which supervises the API, the worker and its embedded Redis, and
restarts what dies), extractive provider, PostgreSQL from TUTOR_BENCH_PG_URL (a server URL; a database of its own
is created and dropped) or an embedded one. Each stream is one student in one session: ask, read the answer, think
(`--think` seconds, +-50%), ask again, until the run's end. Everything runs on loopback; every loop is bounded in
count and time.

Reported per number of API workers: turns, error rate (non-200, an `error` event, a refused or dropped stream),
first-token p50/p95 (all turns; and without those in flight at a kill or started in the 20 s after), turns/s, CPU
seconds and memory per API worker process (how evenly connections are spread); for each kill: the seconds until the part serves again; afterwards: chat rows lost
(a turn the client saw start, whose question or reply row is missing), replies still `streaming`, stuck jobs, chunks
in the index beyond the course's own, and database connections left idle in a transaction, active, or open after
`tutor up` stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from common import REPO, percentile, sciq, sciq_pdf

from tutor.ports import free_port

QUIET_AFTER_KILL_S = 20.0  # figures "outside kills" leave out turns in flight at a kill or started this soon after
REQUEST_TIMEOUT_S = 120.0


@dataclass
class Turn:
    started: float  # monotonic
    ended: float = 0.0
    first_token_ms: float | None = None
    outcome: str = "pending"  # done | error_event | http_<status> | dropped (cut mid-stream) | refused (no server)
    message_id: int | None = None
    recovered_status: str | None = None  # a dropped stream's reply fetched by its id: finished | interrupted | ...
    error: str | None = None  # the client's exception, for a dropped or refused stream
    retried: bool = False  # sent again once: its first connection was closed before any answer began


@dataclass
class Kill:
    what: str
    at: float  # monotonic
    pid: int
    recovered_s: float | None = None
    note: str = ""


@dataclass
class Run:
    turns: list[Turn] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    job: dict[str, Any] = field(default_factory=dict)
    api_pids: set[int] = field(default_factory=set)  # every API worker process seen serving during the run


async def watch_api_workers(up: Up, run: Run, deadline: float) -> None:
    """Which API worker processes served, sampled each second: replacements beyond the ones we killed mean a
    supervisor (uvicorn's health check, `tutor up`) restarted a worker on its own."""
    while time.monotonic() < deadline:
        run.api_pids.update(p.pid for p in await asyncio.to_thread(up.api_workers))
        await asyncio.sleep(1)


class Up:
    """`tutor up` as a child, its output kept (and scanned for its restart lines)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "up"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w") as out:
            for line in self.proc.stdout:
                self.lines.append(line)
                out.write(line)
                out.flush()

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if text in line:
                    return line
            if self.proc.poll() is not None:
                raise RuntimeError(f"tutor up exited ({self.proc.returncode}); see {self.log}")
            time.sleep(0.1)
        raise TimeoutError(f"no '{text}' from tutor up within {timeout} s; see {self.log}")

    def child(self, command: str) -> psutil.Process | None:
        """Its child `python -m api.cli <command>`, or the program named `command`."""
        try:
            tree = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return None
        for p in tree:
            try:
                args = p.cmdline()
            except psutil.Error:
                continue
            if args[1:4] == ["-m", "api.cli", command] or (bool(args) and Path(args[0]).name.startswith(command)):
                return p
        return None

    def api_workers(self) -> list[psutil.Process]:
        """The processes that serve requests: uvicorn's workers, or the API process itself when it has none."""
        api = self.child("api")
        if api is None:
            return []
        try:
            spawned = [
                p
                for p in api.children()
                if "spawn_main" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE
            ]
        except psutil.Error:
            return []
        return spawned or [api]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                for p in psutil.Process(self.proc.pid).children(recursive=True):
                    p.kill()
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


async def _until(predicate: Callable[[], Any], timeout: float, interval: float = 0.2) -> float | None:
    """Seconds until `predicate()` held (None: not within `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if await asyncio.to_thread(predicate):
                return time.monotonic() - started
        except Exception:
            pass
        await asyncio.sleep(interval)
    return None


def _ready(base: str) -> bool:
    return httpx.get(f"{base}/readyz", timeout=2).status_code == 200


async def chat_turn(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], turn: Turn) -> str | None:
    """One question; returns the session id the server gave it."""
    for attempt in (1, 2):
        try:
            return await _chat_turn(client, headers, body, turn)
        except httpx.RemoteProtocolError as exc:
            # Closed before any byte of an answer: a kept-alive connection the server had closed as it was reused.
            # The server saw no request; a browser sends it again on a new connection, and so does this client, once.
            if attempt == 2 or turn.message_id is not None:
                turn.outcome, turn.error = "dropped", type(exc).__name__
                break
            turn.retried = True
    return None


async def _chat_turn(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], turn: Turn
) -> str | None:
    session_id = None
    try:
        async with client.stream("POST", "/api/chat/stream", headers=headers, json=body) as response:
            if response.status_code != 200:
                await response.aread()
                turn.outcome = f"http_{response.status_code}"
                return None
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    if event == "token" and turn.first_token_ms is None:
                        turn.first_token_ms = 1000 * (time.monotonic() - turn.started)
                elif line.startswith("data:") and event == "meta":
                    meta = json.loads(line[5:])
                    turn.message_id, session_id = int(meta["message_id"]), str(meta["session_id"])
                elif line.startswith("data:") and event in ("done", "error"):
                    turn.outcome = "done" if event == "done" else "error_event"
        if turn.outcome == "pending":
            turn.outcome = "dropped"
    except httpx.ConnectError as exc:
        turn.outcome, turn.error = "refused", type(exc).__name__  # nothing listening: the API is down
    except httpx.RemoteProtocolError:
        if turn.message_id is None and turn.first_token_ms is None:
            raise  # no answer began: the caller may send it again
        turn.outcome, turn.error = "dropped", "RemoteProtocolError"
    except (httpx.HTTPError, OSError) as exc:
        turn.outcome, turn.error = "dropped", type(exc).__name__
    if turn.outcome == "dropped" and turn.message_id is not None:
        # What a client that lost its stream does: fetch the reply by its id instead of asking again.
        for _ in range(5):
            try:
                r = await client.get(f"/api/chat/messages/{turn.message_id}", headers=headers, timeout=10)
                if r.status_code == 200:
                    turn.recovered_status = str(r.json().get("status"))
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
    return session_id


async def student(
    client: httpx.AsyncClient,
    token: str,
    course_id: int,
    questions: list[str],
    deadline: float,
    think_s: float,
    run: Run,
    rng: random.Random,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    session_id: str | None = None
    await asyncio.sleep(rng.uniform(0, think_s))  # streams start spread over one think time, not at one instant
    for _ in range(100_000):  # bounded; the deadline ends it long before
        if time.monotonic() >= deadline:
            return
        turn = Turn(started=time.monotonic())
        run.turns.append(turn)
        body: dict[str, Any] = {"course_id": course_id, "message": rng.choice(questions)}
        if session_id:
            body["session_id"] = session_id
        session_id = await chat_turn(client, headers, body, turn) or session_id
        turn.ended = time.monotonic()
        await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


async def upload_course(base: str, teacher: str, pdf: bytes, title: str) -> tuple[str, int]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        r = await client.post(
            "/api/upload-pdfs",
            headers={"Authorization": f"Bearer {teacher}"},
            data={"title": title},
            files=[("files", (f"{title}.pdf", pdf, "application/pdf"))],
        )
        r.raise_for_status()
        return r.json()["job_id"], int(r.json()["course_id"])


def job_state(base: str, teacher: str, job_id: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/jobs/{job_id}", headers={"Authorization": f"Bearer {teacher}"}, timeout=10)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


async def wait_job(base: str, teacher: str, job_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            job = await asyncio.to_thread(job_state, base, teacher, job_id)
            if job["status"] in ("completed", "failed"):
                return job
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)
    return job


async def chaos(up: Up, base: str, teacher: str, pdf: bytes, duration: float, run: Run, workers: int) -> None:
    """Kill -9, in turn: one API worker, the Celery worker while it embeds, Redis; time each recovery."""
    start = time.monotonic()

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, start + fraction * duration - time.monotonic()))

    await at(0.2)
    victims = up.api_workers()
    if victims:
        victim = victims[0]
        kill = Kill("api_worker", time.monotonic(), victim.pid)
        victim.kill()
        run.kills.append(kill)

        def api_back() -> bool:
            alive = [p for p in up.api_workers() if p.pid != victim.pid]
            return len(alive) >= workers and _ready(base)

        kill.recovered_s = await _until(api_back, timeout=180)

    await at(0.4)
    job_id, course_id = await upload_course(base, teacher, pdf, "Chaos")
    run.job = {"job_id": job_id, "course_id": course_id}

    def some_chunks_stored() -> bool:
        # "Embedding chunks 129-192 of N": two batches embedded, so the first is stored and a retry has some to keep.
        found = re.search(r"Embedding chunks (\d+)-", job_state(base, teacher, job_id).get("message") or "")
        return found is not None and int(found.group(1)) > 2 * 64

    embedding = await _until(some_chunks_stored, timeout=300, interval=0.1)
    worker = up.child("worker")
    if embedding is not None and worker is not None:
        kill = Kill("celery_worker_mid_ingestion", time.monotonic(), worker.pid)
        worker.kill()
        run.kills.append(kill)
        done = await wait_job(base, teacher, job_id, timeout=max(240.0, duration))
        run.job.update(done)
        if done.get("status") == "completed":
            kill.recovered_s = time.monotonic() - kill.at  # stalled, sent again, resumed and finished
    else:
        run.kills.append(Kill("celery_worker_mid_ingestion", time.monotonic(), 0, note="job never stored chunks"))

    await at(0.6)
    redis = up.child("redis-server")
    if redis is not None:
        kill = Kill("redis", time.monotonic(), redis.pid)
        redis.kill()
        run.kills.append(kill)
        kill.recovered_s = await _until(lambda: _ready(base), timeout=120)


async def pg_connections(admin_url: str, database: str) -> dict[str, int]:
    """Connections to the soak's database by state (this one left out)."""
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT coalesce(state, 'unknown') AS state, count(*) AS n FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid() GROUP BY 1",
            database,
        )
        return {r["state"]: int(r["n"]) for r in rows}
    finally:
        await conn.close()


async def chat_rows(db_url: str, message_ids: list[int]) -> dict[str, int]:
    """Of the replies the client saw start: how many lack their row or their question's row, by status."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT a.id, a.metadata->>'status' AS status, u.id AS asked FROM chat_history a "
            "LEFT JOIN chat_history u ON u.id = (a.metadata->>'reply_to')::int AND u.message_type = 'user' "
            "WHERE a.id = ANY($1::int[]) AND a.message_type = 'assistant'",
            message_ids,
        )
        counts: dict[str, int] = {"lost": len(set(message_ids)) - len(rows)}
        counts["question_lost"] = sum(1 for r in rows if r["asked"] is None)
        for r in rows:
            key = f"status_{r['status'] or 'finished'}"
            counts[key] = counts.get(key, 0) + 1
        return counts
    finally:
        await conn.close()


async def course_chunk_rows(db_url: str, course_id: int) -> int:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM course_chunks WHERE course_id = $1", course_id))
    finally:
        await conn.close()


def summarise(run: Run, started: float, ended: float) -> dict[str, Any]:
    turns = [t for t in run.turns if t.outcome != "pending"]
    errors = [t for t in turns if t.outcome != "done"]
    firsts = [t.first_token_ms for t in turns if t.first_token_ms is not None]
    kills = [k.at for k in run.kills if k.pid]

    def near_a_kill(t: Turn) -> bool:
        """In flight at a kill, or started within QUIET_AFTER_KILL_S after one."""
        return any(t.started <= k + QUIET_AFTER_KILL_S and (t.ended or t.started) >= k for k in kills)

    quiet = [t.first_token_ms for t in turns if t.first_token_ms is not None and not near_a_kill(t)]
    quiet_errors = [t for t in errors if not near_a_kill(t)]
    outcomes: dict[str, int] = {}
    for t in turns:
        outcomes[t.outcome] = outcomes.get(t.outcome, 0) + 1
    causes: dict[str, int] = {}
    for t in turns:
        if t.error:
            causes[t.error] = causes.get(t.error, 0) + 1
    recovered: dict[str, int] = {}
    for t in turns:
        if t.recovered_status:
            recovered[t.recovered_status] = recovered.get(t.recovered_status, 0) + 1
    return {
        "turns": len(turns),
        "turns_per_s": round(len(turns) / max(ended - started, 1e-9), 1),
        "error_rate": round(len(errors) / max(len(turns), 1), 4),
        "error_rate_outside_kills": round(len(quiet_errors) / max(len(turns), 1), 4),
        "outcomes": outcomes,
        "client_errors": causes,
        "sent_again_on_a_new_connection": sum(1 for t in turns if t.retried),
        "dropped_streams_fetched_by_message_id": recovered,
        "first_token_ms": {"p50": percentile(firsts, 0.5), "p95": percentile(firsts, 0.95)} if firsts else None,
        "first_token_ms_outside_kills": (
            {"p50": percentile(quiet, 0.5), "p95": percentile(quiet, 0.95)} if quiet else None
        ),
    }


async def soak(args: argparse.Namespace, workers: int, admin_url: str | None, work: Path, logs: Path) -> dict[str, Any]:
    import asyncpg

    from db.engine import create_database, drop_database, with_database
    from tutor.identity import mint_token
    from tutor.settings import Settings

    embedded = None
    if admin_url is None:
        from db.embedded import EmbeddedPostgres

        embedded = EmbeddedPostgres(work / f"pg-{workers}")
        await asyncio.to_thread(embedded.start)
        admin_url = embedded.url()
    database = f"soak_{uuid.uuid4().hex[:8]}"
    await create_database(admin_url, database)
    db_url = with_database(admin_url, database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    secret = uuid.uuid4().hex
    data_dir = work / f"up-{workers}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(
        TUTOR_DATA_DIR=str(data_dir),
        TUTOR_DATABASE_URL=db_url,
        TUTOR_PORT=str(port),
        TUTOR_API_WORKERS=str(workers),
        TUTOR_LLM_PROVIDER="extractive",
        TUTOR_JWT_SECRET=secret,
        TUTOR_LOG_LEVEL="warning",
        TUTOR_RATE_LIMIT_CHAT_PER_MINUTE="1000000",
        TUTOR_JOB_HEARTBEAT_S=str(max(1.0, args.stalled_after / 5)),
        TUTOR_JOB_STALLED_AFTER_S=str(args.stalled_after),
        TUTOR_CHAT_STALE_AFTER_S=str(args.stale_after),
        HF_HUB_OFFLINE="1",
    )
    settings = Settings(jwt_secret=secret, data_dir=data_dir)
    teacher = mint_token(settings, "soak-teacher", "teacher", ttl_s=4 * 3600)
    items = sciq()
    questions = [i["question"] for i in items]
    out: dict[str, Any] = {"api_workers": workers}
    up = Up(env, logs / f"up-{workers}-api-workers.log")
    try:
        ready_line = up.wait_for("Ready in", timeout=300)
        out["ready_in_s"] = float(ready_line.split("Ready in")[1].split("s")[0])
        job_id, course_id = await upload_course(base, teacher, sciq_pdf(items[:150]), "Soak")
        first = await wait_job(base, teacher, job_id, timeout=600)
        assert first.get("status") == "completed", first
        chaos_pdf = sciq_pdf(items[150:600]) if args.chaos else b""
        tokens = [mint_token(settings, f"soak-{i}", "student", ttl_s=4 * 3600) for i in range(args.streams)]
        run = Run()
        limits = httpx.Limits(max_connections=args.streams + 10, max_keepalive_connections=args.streams + 10)
        rng = random.Random(7)
        async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
            started = time.monotonic()
            deadline = started + args.duration
            load = [
                student(client, tokens[i], course_id, questions, deadline, args.think, run, random.Random(rng.random()))
                for i in range(args.streams)
            ]
            extra = [watch_api_workers(up, run, deadline)]
            if args.chaos:
                extra.append(chaos(up, base, teacher, chaos_pdf, args.duration, run, workers))
            cpu_before = {p.pid: sum(p.cpu_times()[:2]) for p in up.api_workers()}
            await asyncio.wait_for(asyncio.gather(*load, *extra), timeout=args.duration + REQUEST_TIMEOUT_S + 600)
            ended = time.monotonic()
            cpu = []
            out["rss_mb_per_api_worker"] = []
            for p in up.api_workers():
                with contextlib.suppress(psutil.Error):
                    out["rss_mb_per_api_worker"].append(round(p.memory_info().rss / 2**20))
                with contextlib.suppress(psutil.Error):
                    cpu.append(round(sum(p.cpu_times()[:2]) - cpu_before.get(p.pid, 0.0), 1))
        out.update(summarise(run, started, ended))
        out["cpu_s_per_api_worker"] = sorted(cpu, reverse=True)
        killed = sum(1 for k in run.kills if k.what == "api_worker" and k.pid)
        out["api_workers_restarted_unasked"] = max(0, len(run.api_pids) - workers - killed)
        out["kills"] = [
            {"what": k.what, "recovered_s": None if k.recovered_s is None else round(k.recovered_s, 1), "note": k.note}
            for k in run.kills
        ]
        # Replies whose process died are closed as interrupted within the stale time: wait for that (bounded).
        ids = [t.message_id for t in run.turns if t.message_id is not None]

        async def settled() -> bool:
            rows = await chat_rows(db_url, ids)
            return rows.get("status_streaming", 0) == 0

        for _ in range(int(args.stale_after * 3 / 0.5) + 10):
            if await settled():
                break
            await asyncio.sleep(0.5)
        out["chat_rows"] = await chat_rows(db_url, ids)
        out["chat_rows_lost"] = out["chat_rows"]["lost"] + out["chat_rows"]["question_lost"]
        if run.job:
            job = await wait_job(base, teacher, run.job["job_id"], timeout=max(60.0, args.stalled_after * 4))
            out["chaos_job"] = {k: job.get(k) for k in ("status", "attempts", "progress", "message") if k in job} | {
                "chunks": (job.get("result") or {}).get("chunks"),
                "resumed_chunks": (job.get("result") or {}).get("resumed_chunks"),
            }
            out["stuck_jobs"] = int(job.get("status") not in ("completed", "failed"))
        # A connection busy at one look may be a periodic sweep's statement; one busy at every look is held.
        busy = []
        for _ in range(5):
            await asyncio.sleep(1)
            out["db_connections_after_load"] = await pg_connections(admin_url, database)
            busy.append(
                sum(n for st, n in out["db_connections_after_load"].items() if st in ("idle in transaction", "active"))
            )
        out["db_connections_leaked"] = min(busy)
    finally:
        out["tutor_up_exit_code"] = await asyncio.to_thread(up.stop)
    try:
        out["db_connections_open_after_stop"] = sum((await pg_connections(admin_url, database)).values())
        if run.job and run.job.get("course_id"):
            course = int(run.job["course_id"])
            from tutor.vectorstore import open_vector_store

            store = open_vector_store(Settings(data_dir=data_dir, jwt_secret=secret))
            indexed = await asyncio.to_thread(store.count, course)
            rows = await course_chunk_rows(db_url, course)
            out["duplicated_chunks"] = (
                max(0, indexed - rows) if out.get("chaos_job", {}).get("status") == "completed" else None
            )
            out["chunks_indexed_vs_rows"] = [indexed, rows]
    finally:
        await asyncio.sleep(1)
        try:
            await drop_database(admin_url, database)
        except (asyncpg.PostgresError, OSError) as exc:
            out["drop_database_error"] = str(exc)
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=300, help="seconds of load per run (default 300)")
    parser.add_argument("--streams", type=int, default=500, help="concurrent chats (default 500)")
    parser.add_argument("--api-workers", type=int, nargs="+", default=[1, 2], help="runs, by API workers (default 1 2)")
    parser.add_argument("--think", type=float, default=5.0, help="seconds a student thinks between turns, +-50%%")
    parser.add_argument("--no-chaos", dest="chaos", action="store_false", help="load alone, no kills")
    parser.add_argument("--stalled-after", type=float, default=10.0, help="TUTOR_JOB_STALLED_AFTER_S (default 10)")
    parser.add_argument("--stale-after", type=float, default=10.0, help="TUTOR_CHAT_STALE_AFTER_S (default 10)")
    args = parser.parse_args()
    assert 1 <= args.streams <= 2000 and 1 <= args.duration <= 3600, "bounded runs only"
    admin_url = os.environ.get("TUTOR_BENCH_PG_URL")
    results = []
    logs = Path(tempfile.mkdtemp(prefix="soak-logs-"))  # kept: tutor up's output of each run
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        for workers in args.api_workers:
            results.append(await soak(args, workers, admin_url, Path(tmp), logs))
    print(
        json.dumps(
            {
                "settings": {
                    "duration_s": args.duration,
                    "streams": args.streams,
                    "think_s": args.think,
                    "chaos": args.chaos,
                    "job_stalled_after_s": args.stalled_after,
                    "chat_stale_after_s": args.stale_after,
                    "cores": os.cpu_count(),
                    "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
                    "logs": str(logs),
                },
                "runs": results,
                "targets": {"error_rate_under": 0.005, "chat_rows_lost": 0, "stuck_jobs": 0, "duplicated_chunks": 0},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
