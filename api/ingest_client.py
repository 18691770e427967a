"""The client side of `tutor ingest`: upload over HTTP, then follow the job until it ends."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:300]}"


def run_ingest(
    api: str,
    token: str,
    files: list[Path],
    *,
    title: str | None,
    description: str | None,
    course_id: int | None,
    timeout: float,
) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    data = {k: str(v) for k, v in {"title": title, "description": description, "course_id": course_id}.items() if v}
    with httpx.Client(base_url=api, headers=headers, timeout=120) as client:
        handles = [p.open("rb") for p in files]
        try:
            response = client.post(
                "/api/upload-pdfs",
                data=data,
                files=[("files", (p.name, h, "application/pdf")) for p, h in zip(files, handles, strict=True)],
            )
        except httpx.HTTPError as exc:
            console.print(f"[red]cannot reach {api}: {exc}[/red]")
            return 2
        finally:
            for h in handles:
                h.close()
        if response.status_code != 202:
            console.print(f"[red]upload refused: {_error_text(response)}[/red]")
            return 1
        accepted = response.json()
        for dup in accepted["duplicates"]:
            console.print(f"{dup['filename']} is already in the course (as {dup['existing_file_id']}); skipped")
        job_id = accepted["job_id"]
        console.print(f"course {accepted['course_id']}, job {job_id}")
        deadline = time.monotonic() + timeout
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task("queued", total=100)
            while True:
                job = client.get(f"/api/jobs/{job_id}").json()
                progress.update(bar, completed=job.get("progress") or 0, description=(job.get("message") or "")[:60])
                if job["status"] in ("completed", "failed"):
                    break
                if time.monotonic() > deadline:
                    console.print(f"[red]still {job['status']} after {timeout:.0f} s; follow it at /api/jobs/{job_id}")
                    return 1
                time.sleep(0.5)
    if job["status"] == "failed":
        console.print(f"[red]failed: {job['error']}[/red]")
        return 1
    r = job["result"]
    console.print(
        f"course {r['course_id']}: {r['modules']} weeks, {r['topics']} topics, {r['quizzes']} quizzes "
        f"({r['questions']} questions), {r['chunks']} chunks from {r['pages']} pages"
    )
    print(r["course_id"])
    return 0
