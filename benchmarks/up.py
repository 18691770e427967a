"""`tutor up` start-up and footprint: seconds to ready (first and second start) and resident memory at rest.

python benchmarks/up.py        # prints JSON
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tutor.ports import free_port  # noqa: E402


def tree_rss_mb(pid: int, data_dir: Path) -> dict[str, float]:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    pg = [psutil.Process(postmaster), *psutil.Process(postmaster).children(recursive=True)]
    ours = sum(p.memory_info().rss for p in procs) / 2**20
    postgres = sum(p.memory_info().rss for p in pg) / 2**20
    return {
        "python_and_redis_mb": round(ours),
        "postgres_mb": round(postgres),
        "total_mb": round(ours + postgres),
        "processes": len(procs) + len(pg),
    }


def start(env: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[str], float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "up"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Ready in" in line:
            return proc, time.monotonic() - started
    raise RuntimeError("tutor up exited before it was ready")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
        env.update(TUTOR_DATA_DIR=str(data_dir), TUTOR_PORT=str(free_port()))
        proc, first = start(env, data_dir)
        time.sleep(5)  # at rest: after start-up work has settled
        memory = tree_rss_mb(proc.pid, data_dir)
        proc.send_signal(signal.SIGINT)
        stop_started = time.monotonic()
        proc.wait(60)
        stop = time.monotonic() - stop_started
        proc, second = start(env, data_dir)
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    print(
        json.dumps(
            {
                "first_start_ready_s": round(first, 2),
                "second_start_ready_s": round(second, 2),
                "stop_s": round(stop, 2),
                "memory_at_rest": memory,
                "targets": {"ready_s_under": 15, "total_mb_under": 1024},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
