"""`tutor up`: embedded services, migrations, the API and a worker as one supervised process tree."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from db import migrate
from db.embedded import EmbeddedPostgres
from db.engine import create_database, with_database
from ingestion.embedded_redis import EmbeddedRedis
from tutor.settings import Settings

EMBEDDED_DATABASE = "tutor"


def _say(message: str) -> None:
    print(message, flush=True)


def sign_in_link(api_url: str, token: str) -> str:
    """A one-time browser sign-in link for the token's user, from the running API (which keeps only its hash)."""
    response = httpx.post(f"{api_url}/api/sign-in-links", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if response.status_code != 200:
        raise RuntimeError(f"the API refused a sign-in link: {response.text}")
    return str(response.json()["url"])


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured database, or the embedded one under the data dir (started only for the block)."""
    if settings.database_url:
        yield settings.database_url
        return
    server = EmbeddedPostgres(settings.data_dir / "postgres")
    server.start()
    try:
        asyncio.run(create_database(server.url(), EMBEDDED_DATABASE))
        yield server.url(EMBEDDED_DATABASE)
    finally:
        server.stop()


@dataclass
class Stack:
    """Everything `tutor up` started, stopped in reverse order."""

    settings: Settings
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def start_services(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db_url = settings.database_url
        if not db_url:
            self.postgres = EmbeddedPostgres(settings.data_dir / "postgres")
            self.postgres.start()
            asyncio.run(create_database(self.postgres.url(), EMBEDDED_DATABASE))
            db_url = with_database(self.postgres.url(), EMBEDDED_DATABASE)
            _say(f"  postgres  embedded, data in {self.postgres.pgdata}")
        redis_url = settings.redis_url
        if not redis_url:
            self.redis = EmbeddedRedis(settings.data_dir / "redis")
            self.redis.start()
            redis_url = self.redis.url
            _say(f"  redis     embedded, {redis_url}")
        migrate.upgrade(db_url)
        _say(f"  database  migrated to {migrate.head()}")
        self.env = {
            **os.environ,
            "TUTOR_DATABASE_URL": db_url,
            "TUTOR_REDIS_URL": redis_url,
            "TUTOR_DATA_DIR": str(settings.data_dir.resolve()),
        }
        if not settings.chroma_url:
            self.env["TUTOR_CHROMA_PATH"] = str(settings.resolved_chroma_path.resolve())

    def spawn(self, name: str, args: list[str]) -> None:
        # A session of its own: Ctrl-C reaches only us, and we stop children in a deliberate order.
        self.children[name] = subprocess.Popen(args, env=self.env, start_new_session=True)

    def start_processes(self) -> None:
        s = self.settings
        py = sys.executable
        self.spawn("api", [py, "-m", "api.cli", "api"])
        self.spawn(
            "worker",
            [py, "-m", "api.cli", "worker", "--concurrency", str(s.worker_concurrency)],
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        url = f"http://{self.settings.host}:{self.settings.port}/readyz"
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for name, proc in self.children.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {proc.returncode} during start-up")
            try:
                response = httpx.get(url, timeout=2.0)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise RuntimeError(f"not ready after {timeout:.0f} s: {last}")

    def stop(self) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.children.clear()
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()


def run_up(settings: Settings) -> int:
    """Start everything, print the URL, supervise until Ctrl-C or a child dies; stop everything."""
    started = time.monotonic()
    stack = Stack(settings)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    _say("Starting the AI Tutor ...")
    code = 0
    try:
        stack.start_services()
        stack.start_processes()
        stack.wait_ready()
        base = f"http://{settings.host}:{settings.port}"
        _say(f"Ready in {time.monotonic() - started:.1f} s: {base}  (API docs: {base}/docs)")
        if not settings.jwt_jwks_url:
            from api.web_session import CODE_TTL_S
            from tutor.identity import mint_token

            teacher_token = mint_token(settings, "teacher", "teacher")
            try:
                link = sign_in_link(base, teacher_token)
                _say(f"  teacher console (one-click sign-in, one use, {CODE_TTL_S // 60} minutes): {link}")
            except (RuntimeError, httpx.HTTPError) as exc:
                _say(f"  teacher console: {base}/teach (no sign-in link: {exc})")
            _say(f"  teacher token: {teacher_token}")
            _say(f"  student token: {mint_token(settings, 'student', 'student')}")
        _say("Press Ctrl-C to stop.")
        while not stopping:
            for name, proc in stack.children.items():
                if proc.poll() is not None:
                    _say(f"{name} exited unexpectedly with code {proc.returncode}; stopping")
                    stopping, code = True, 1
                    break
            time.sleep(0.2)
    except Exception as exc:
        _say(f"error: {exc}")
        code = 1
    finally:
        _say("Stopping ...")
        stack.stop()
        _say("Stopped.")
    return code
