"""A crashed process comes back: `tutor up` restarts its children, `tutor api` its uvicorn workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import REPO, poll, settings_env
from tests.test_cli_up import Up, _alive, _postmaster_pid
from tutor.ports import free_port
from tutor.settings import Settings

pytestmark = pytest.mark.slow


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _child(up: Up, command: str) -> psutil.Process:
    """The child of `tutor up` running `python -m api.cli <command>`, or the program named `command`."""
    for proc in up.process_tree()[1:]:
        try:
            args = proc.cmdline()
        except psutil.NoSuchProcess:
            continue
        if args[1:4] == ["-m", "api.cli", command] or (bool(args) and Path(args[0]).name.startswith(command)):
            return proc
    raise AssertionError(f"no {command} process under tutor up")


def _kill_and_time_recovery(up: Up, port: int, pid: int, name: str) -> float:
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    up.wait_for(f"{name} exited unexpectedly with code")
    up.wait_for(f"{name} restarted", timeout=60)
    poll(lambda: _ready(port), timeout=90, interval=0.1, message=f"ready again after {name} was killed")
    return time.monotonic() - killed


def test_tutor_up_restarts_a_killed_api_redis_and_postgres_and_still_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(TUTOR_DATA_DIR=str(data_dir), TUTOR_PORT=str(port), TUTOR_LLM_PROVIDER="extractive")
    up = Up(env)
    recovery: dict[str, float] = {}
    try:
        up.wait_for("Ready in")
        api = _child(up, "api")
        recovery["api"] = _kill_and_time_recovery(up, port, api.pid, "api")
        assert _child(up, "api").pid != api.pid

        redis = _child(up, "redis-server")
        recovery["redis"] = _kill_and_time_recovery(up, port, redis.pid, "redis")

        postmaster = _postmaster_pid(data_dir)
        recovery["postgres"] = _kill_and_time_recovery(up, port, postmaster, "postgres")
        assert _postmaster_pid(data_dir) != postmaster

        worker = _child(up, "worker")
        os.kill(worker.pid, signal.SIGKILL)
        up.wait_for("worker restarted", timeout=60)
        print(f"\nseconds from kill -9 to ready again: { {k: round(v, 1) for k, v in recovery.items()} }")
        pids = [p.pid for p in up.process_tree()] + [_postmaster_pid(data_dir)]
    finally:
        code = up.interrupt()
    assert code == 0
    assert [pid for pid in pids if _alive(pid)] == []


def test_tutor_up_gives_up_on_a_child_that_keeps_dying_right_after_it_starts(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(
        TUTOR_DATA_DIR=str(tmp_path / "data"),
        TUTOR_PORT=str(port),
        TUTOR_LLM_PROVIDER="extractive",
        TUTOR_RESTART_DELAY_S="0.1",
        TUTOR_RESTART_MAX_FAST_FAILURES="3",
    )
    up = Up(env)
    try:
        up.wait_for("Ready in")
        for failure in (1, 2, 3):
            worker = _child(up, "worker")
            os.kill(worker.pid, signal.SIGKILL)  # each time within seconds of its start
            if failure < 3:
                assert f"failure {failure} of 3" in up.wait_for("worker exited unexpectedly")
                up.wait_for("worker restarted")
        assert "3 times in a row" in up.wait_for("giving up")
        up.wait_for("Stopped.")
        assert up.proc.wait(60) == 1
    finally:
        if up.proc.poll() is None:
            up.interrupt()


def test_tutor_api_with_two_workers_keeps_serving_when_one_is_killed(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = {**settings_env(settings), "TUTOR_PORT": str(port), "TUTOR_API_WORKERS": "2"}
    log = (tmp_path / "api.log").open("wb")
    api = subprocess.Popen([sys.executable, "-m", "api.cli", "api"], env=env, cwd=REPO, stdout=log, stderr=log)
    try:
        parent = psutil.Process(api.pid)

        def workers() -> list[psutil.Process]:
            found = []
            for p in parent.children():
                try:
                    if "spawn_main" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                        found.append(p)
                except psutil.NoSuchProcess:
                    pass
            return found

        poll(lambda: _ready(port), timeout=90, interval=0.2, message="tutor api ready")
        before = poll(lambda: len(workers()) == 2 and workers(), timeout=30, message="two workers")
        victim = before[0]
        victim.kill()
        # Every request meanwhile is answered by the other worker; none fails.
        answers = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answers.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code)
            alive = [w for w in workers() if w.pid != victim.pid and w.is_running()]
            if len(alive) == 2:
                break
        assert set(answers) == {200}
        assert len([w for w in workers() if w.pid != victim.pid]) == 2, "uvicorn started a new worker"
        poll(lambda: _ready(port), timeout=60, interval=0.2, message="ready with the new worker")
    finally:
        api.send_signal(signal.SIGINT)
        try:
            api.wait(30)
        except subprocess.TimeoutExpired:
            api.kill()
            api.wait()
        log.close()


def test_a_restarted_api_opens_its_index_once_however_many_first_requests_arrive_together(
    settings: Settings, tmp_path: Path
) -> None:
    """Right after a restart under load, many chats (and /readyz) open the index at the same moment: each gets
    the one client, none a 500 or a 503 (Chroma's client registry is not thread-safe)."""
    import threading

    from api.state import AppState

    state = AppState.create(settings.model_copy(update={"chroma_path": tmp_path / "chroma"}))
    start = threading.Barrier(8)
    opened: list[object] = []
    failed: list[BaseException] = []

    def first_request() -> None:
        start.wait()
        try:
            opened.append(state.vector_store())
        except Exception as exc:
            failed.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failed == [] and len(opened) == 8 and len({id(s) for s in opened}) == 1
