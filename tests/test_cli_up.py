"""`tutor up` on an empty data dir: starts everything, serves, stops on Ctrl-C with nothing left behind."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import REPO
from tutor.ports import free_port

pytestmark = pytest.mark.slow


class Up:
    """A `tutor up` process whose output is read line by line in the background."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "up"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, needle: str, timeout: float = 90) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {needle!r} in output:\n{''.join(self.output)}") from None
            self.output.append(line)
            if needle in line:
                return line

    def process_tree(self) -> list[psutil.Process]:
        return [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(60)


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])


async def _sql(data_dir: Path, statement: str) -> object:
    url = f"postgresql+asyncpg://postgres@/tutor?host={data_dir / 'postgres'}"
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_tutor_up_starts_serves_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(TUTOR_DATA_DIR=str(data_dir), TUTOR_PORT=str(port), TUTOR_LLM_PROVIDER="extractive")

    up = Up(env)
    try:
        ready = up.wait_for("Ready in")
        assert f"http://127.0.0.1:{port}" in ready
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        # The printed one-click link signs the teacher in to the console, once.
        link = up.wait_for("teacher console").split(": ", 1)[1].strip()
        signed_in = httpx.get(link)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/teach"
        assert "tutor_session" in signed_in.cookies and httpx.get(link).status_code == 400
        another = subprocess.run(
            [sys.executable, "-m", "api.cli", "signin-link", "--user", "ada", "--role", "teacher"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert another.returncode == 0 and "/signin/link?code=" in another.stdout, another.stderr
        pids = [p.pid for p in up.process_tree()] + [_postmaster_pid(data_dir)]
        assert len(pids) >= 4  # supervisor, redis, api, worker, postgres
        asyncio.run(_sql(data_dir, "INSERT INTO users (user_id) VALUES ('kept-across-restarts')"))
    finally:
        code = up.interrupt()  # never leave a process tree behind, even when an assertion failed
    assert code == 0
    assert [pid for pid in pids if _alive(pid)] == []

    again = Up(env)
    again.wait_for("Ready in")
    try:
        assert asyncio.run(_sql(data_dir, "SELECT count(*) FROM users WHERE user_id = 'kept-across-restarts'")) == 1
    finally:
        assert again.interrupt() == 0
