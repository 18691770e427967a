"""`tutor up`: embedded services, migrations, the API and a worker as one supervised process tree."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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
class Backoff:
    """When to restart a child that died, and when to give up on it.

    A child that ran at least `healthy_after_s` before dying starts over at `first_delay_s`; each failure
    within that time doubles the delay, and the `max_fast_failures`-th one in a row gives up (a child that
    cannot start is a configuration problem, not bad luck, and restarting it forever hides that).
    """

    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    healthy_after_s: float = 30.0
    max_fast_failures: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> Backoff:
        return cls(
            first_delay_s=settings.restart_delay_s,
            max_delay_s=settings.restart_max_delay_s,
            max_fast_failures=settings.restart_max_fast_failures,
        )


@dataclass
class Child:
    """One supervised part: how to start it and whether it still runs."""

    name: str
    start: Callable[[], None]
    exit_code: Callable[[], int | None]  # None while it runs
    started_at: float = 0.0
    fast_failures: int = 0
    restart_at: float | None = None  # when a dead child is due to start again

    def launch(self) -> None:
        self.start()
        self.started_at = time.monotonic()


class GaveUp(RuntimeError):
    pass


@dataclass
class Stack:
    """Everything `tutor up` started, stopped in reverse order."""

    settings: Settings
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    supervised: list[Child] = field(default_factory=list)
    backoff: Backoff = field(default_factory=Backoff)

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
            self._supervise("postgres", self.postgres.start, self._postgres_exit_code)
        redis_url = settings.redis_url
        if not redis_url:
            self.redis = EmbeddedRedis(settings.data_dir / "redis")
            self.redis.start()
            redis_url = self.redis.url
            _say(f"  redis     embedded, {redis_url}")
            self._supervise("redis", self.redis.start, self.redis.exit_code)
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

    def _postgres_exit_code(self) -> int | None:
        assert self.postgres is not None
        return None if self.postgres.running() else -1

    def _supervise(self, name: str, start: Callable[[], None], exit_code: Callable[[], int | None]) -> None:
        self.supervised.append(Child(name, start, exit_code, started_at=time.monotonic()))

    def spawn(self, name: str, args: list[str]) -> None:
        def start() -> None:
            # A session of its own: Ctrl-C reaches only us, and we stop children in a deliberate order.
            self.children[name] = subprocess.Popen(args, env=self.env, start_new_session=True)

        def exit_code() -> int | None:
            return self.children[name].poll()

        child = Child(name, start, exit_code)
        child.launch()
        self.supervised.append(child)

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

    def check(self, now: float) -> None:
        """Restart what died (after its backoff); GaveUp when a child keeps failing right after it starts."""
        for child in self.supervised:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._restart(child)
                continue
            code = child.exit_code()
            if code is None:
                continue
            ran = now - child.started_at
            child.fast_failures = child.fast_failures + 1 if ran < self.backoff.healthy_after_s else 1
            if child.fast_failures >= self.backoff.max_fast_failures:
                raise GaveUp(
                    f"{child.name} exited with code {code}, {child.fast_failures} times in a row within "
                    f"{self.backoff.healthy_after_s:.0f} s of starting; giving up"
                )
            delay = min(self.backoff.first_delay_s * 2 ** (child.fast_failures - 1), self.backoff.max_delay_s)
            child.restart_at = now + delay
            _say(
                f"{child.name} exited unexpectedly with code {code} after {ran:.1f} s; "
                f"restarting in {delay:.1f} s (failure {child.fast_failures} of {self.backoff.max_fast_failures})"
            )

    def _restart(self, child: Child) -> None:
        child.restart_at = None
        try:
            child.launch()
        except Exception as exc:  # e.g. PostgreSQL refusing to start while its old backends still exit
            child.started_at = time.monotonic()
            child.fast_failures += 1
            if child.fast_failures >= self.backoff.max_fast_failures:
                raise GaveUp(f"{child.name} could not be restarted ({exc}); giving up") from exc
            delay = min(self.backoff.first_delay_s * 2 ** (child.fast_failures - 1), self.backoff.max_delay_s)
            child.restart_at = time.monotonic() + delay
            _say(f"{child.name} did not start again ({exc}); retrying in {delay:.1f} s")
            return
        _say(f"{child.name} restarted")

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
    """Start everything, print the URL, restart what dies until Ctrl-C (or a child keeps failing); stop all."""
    started = time.monotonic()
    stack = Stack(settings, backoff=Backoff.from_settings(settings))
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
            stack.check(time.monotonic())
            time.sleep(0.2)
    except Exception as exc:
        _say(f"error: {exc}")
        code = 1
    finally:
        _say("Stopping ...")
        stack.stop()
        _say("Stopped.")
    return code
