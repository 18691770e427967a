"""A real Learning Record Store for the tests: Ralph (ralph-malph), on loopback, storing statements in files.

Ralph pins FastAPI, Starlette and uvicorn releases older than ours, so it cannot share the project's environment:
it gets a virtual environment of its own under the user's cache directory, installed from PyPI on first use
(about 15 s, once per machine) and reused after. The server runs from that environment as a separate process,
as an LRS would run beside the tutor.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

RALPH = "ralph-malph[cli,lrs]==5.1.0"
# Ralph 5.1's API imports requests without declaring it.
EXTRAS = ("requests>=2.31",)

# Ralph's file backend creates its file with the first statement and refuses every later write ("already
# exists"): appending is what its LRS needs. Then uvicorn serves Ralph's own app, as `ralph runserver` does,
# without runserver's file-watching reloader (a second process, and seconds of start-up).
LAUNCH = """
import sys
import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend
FSLRSBackend.default_operation_type = BaseOperationType.APPEND
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

# Each statement checked by Ralph's own model of an xAPI statement (the LRS accepts statements laxly).
VALIDATE = """
import json, sys
from ralph.models.xapi.base.statements import BaseXapiStatement
for statement in json.load(sys.stdin):
    try:
        BaseXapiStatement(**statement)
    except Exception as error:
        print(statement.get("id"), str(error).replace(chr(10), " "))
"""

USERNAME, PASSWORD = "tutor", "lrs-test-password"
# bcrypt of PASSWORD with a low cost: Ralph checks it on every request.
PASSWORD_HASH = "$2b$04$b.J.8sts/KTuWbxZSmOxIuBPACy28l90Tm4jCr6RFo9FUAivKEdnK"
VERSION_HEADER = {"X-Experience-API-Version": "1.0.3"}


def ralph_python() -> Path:
    """The interpreter of Ralph's own environment, installed on first use."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ai-tutor" / "tools"
    home = cache / RALPH.replace("[cli,lrs]==", "-")
    python, done = home / "bin" / "python", home / ".installed"
    if done.exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "ralph.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test sessions running at once install it once
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=120)
            installed = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", RALPH, *EXTRAS], capture_output=True, timeout=600
            )
            if installed.returncode:
                raise RuntimeError(f"could not install {RALPH}: {installed.stderr.decode()[-2000:]}")
            done.write_text(RALPH)
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Ralph:
    """One LRS whose statements outlive a stop and a start (the outage a test makes)."""

    def __init__(self, python: Path, root: Path) -> None:
        self.python, self.root, self.port = python, root, free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        (root / "statements").mkdir(parents=True, exist_ok=True)
        auth = [
            {
                "agent": {"objectType": "Agent", "account": {"homePage": "https://lrs.test", "name": USERNAME}},
                "scopes": ["all"],
                "hash": PASSWORD_HASH,
                "username": USERNAME,
            }
        ]
        (root / "auth.json").write_text(json.dumps(auth))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def start(self, timeout: float = 30.0) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RALPH_")},
            "RALPH_APP_DIR": str(self.root),
            "RALPH_AUTH_FILE": str(self.root / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.root / "statements"),
        }
        log = (self.root / "ralph.log").open("ab")
        self.proc = subprocess.Popen(
            [str(self.python), "-c", LAUNCH, str(self.port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Ralph exited with {self.proc.returncode}: {self.log()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Ralph did not answer within {timeout} s: {self.log()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log(self) -> str:
        path = self.root / "ralph.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def statements(self, **query: str) -> list[dict[str, Any]]:
        """The statements the LRS stores that match an xAPI query (GET /statements)."""
        response = httpx.get(
            f"{self.endpoint}statements",
            params={"limit": "500", **query},
            headers=VERSION_HEADER,
            auth=(USERNAME, PASSWORD),
            timeout=10,
        )
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["statements"]
        return found

    def problems(self, statements: list[dict[str, Any]]) -> list[str]:
        """What Ralph's xAPI statement model finds wrong with each statement; empty when all are valid."""
        checked = subprocess.run(
            [str(self.python), "-c", VALIDATE],
            input=json.dumps(statements).encode(),
            capture_output=True,
            check=True,
            timeout=60,
        )
        return [line for line in checked.stdout.decode().splitlines() if line.strip()]
