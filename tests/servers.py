"""Real servers for tests: the API under uvicorn in a thread or as `tutor api` processes, `tutor worker`s, a
Chroma server (`chroma run`), an S3 server (moto's) and llama.cpp's OpenAI-compatible server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from tests.conftest import REPO, poll, settings_env
from tutor.ports import free_port
from tutor.settings import Settings

# The venv's own `chroma` (chromadb's server), also when the venv is not on PATH.
CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.1)


@contextmanager
def api_server(settings: Settings) -> Iterator[str]:
    """The real app on a real socket (for disconnects, browsers and other origins)."""
    from api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    _wait_http(f"{base}/healthz", 30)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(15)


@contextmanager
def llama_server(log: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` (through `tutor.llm.llama_server`, which keeps it alive on CPUs with AMX) with
    the packaged SmolLM2 model; yields its OpenAI base URL."""
    from tutor.llm.local import packaged_model_path

    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tutor.llm.llama_server",
                "--model",
                str(packaged_model_path()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "1",  # the suite runs two test processes on two cores: a second thread would only wait for a core
                "--model_alias",
                "smollm2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_http(f"http://127.0.0.1:{port}/v1/models", 90, proc)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    stop_processes([proc], timeout)


def stop_processes(procs: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    """SIGTERM to all at once (they shut down side by side), then SIGKILL to any still there after `timeout`."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ChromaServer:
    """`chroma run` on a fixed port and path, so a restart serves the same collections at the same address."""

    def __init__(self, path: Path) -> None:
        self.path, self.port = path, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> None:
        assert CHROMA is not None, "the chroma CLI is not installed"
        log = (self.path.parent / "chroma.log").open("ab")
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log,
            stderr=log,
        )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        poll(self._up, timeout=timeout, interval=0.2, message="chroma run answering")

    def _up(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, "chroma run exited"
        try:
            return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@contextmanager
def s3_server(bucket: str) -> Iterator[str]:
    """moto's S3 server on a port (a real HTTP server, reachable from other processes) with `bucket` in it;
    yields its endpoint URL. The caller puts `S3_ENV` in the environment of whatever talks to it."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, **_boto_credentials()).create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_ENV["AWS_DEFAULT_REGION"],
    }


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, **_boto_credentials())


@contextmanager
def tutor_process(
    settings: Settings, args: list[str], log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`tutor <args>` (python -m api.cli) configured by `settings` only, as a deployment would run it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args],
            env={**settings_env(settings), **(extra_env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        try:
            yield proc
        finally:
            stop_process(proc)


@contextmanager
def tutor_worker(
    settings: Settings, name: str, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with tutor_process(settings, ["worker", "--name", name], log, extra_env) as proc:
        yield proc


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    _wait_http(f"{base}/readyz", timeout, proc)
