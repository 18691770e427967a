"""The README's "At scale" recipe, run: external PostgreSQL and Redis, a Chroma server, S3 storage, two API
processes and two Celery workers, each with a data directory of its own (nothing shared on disk), configured only
by the settings the README lists. A teacher's PDF goes in through one API, a worker builds the course, and a
student chats with citations through both APIs and opens the cited PDF and its download through either."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chat.sse import parse_sse
from tests.conftest import poll
from tests.factories import course_pdf, sciq_chapters, sciq_items, unique_user
from tests.servers import (
    CHROMA,
    S3_ENV,
    ChromaServer,
    s3_client,
    s3_server,
    stop_processes,
    tutor_process,
    tutor_worker,
    wait_ready,
)
from tutor.ports import free_port
from tutor.settings import Settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMA is None, reason="the chroma CLI is not installed"),
]
Auth = Callable[..., dict[str, str]]
BUCKET = "tutor-at-scale"
WORKERS = ("ingest-1@scale", "ingest-2@scale")
FILENAME = "Zellen \u2013 \u00dcbung.pdf"  # stored as given, served as RFC 6266 names it


def _process_settings(shared: Settings, root: Path, name: str, **more: Any) -> Settings:
    """One process's settings: the shared services, a data directory of its own."""
    return shared.model_copy(update={"data_dir": root / name, "chroma_path": None, **more})


@pytest.fixture(scope="module")
def deployment(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, list[str]]]:
    """The services and processes of docker-compose.yml, on loopback; yields the shared settings and the two
    APIs' base URLs."""
    pytest.importorskip("moto.server")
    root = tmp_path_factory.mktemp("scale")
    with ExitStack() as stack:
        chroma = ChromaServer(root / "chroma")
        chroma.start(wait=False)  # it starts while the rest does
        stack.callback(chroma.stop)
        endpoint = stack.enter_context(s3_server(BUCKET))
        shared = settings.model_copy(
            update={
                "chroma_url": chroma.url,
                "storage_backend": "s3",
                "s3_bucket": BUCKET,
                "s3_endpoint_url": endpoint,
                "s3_prefix": "school/",
                "celery_queue": f"scale-{uuid.uuid4().hex[:8]}",
                "api_workers": 1,
                "log_level": "warning",
            }
        )
        procs = []
        for name in WORKERS:
            own = _process_settings(shared, root, name.split("@")[0])
            procs.append(stack.enter_context(tutor_worker(own, name, root / f"{name}.log", S3_ENV)))
        apis = []
        for name in ("api-a", "api-b"):
            port = free_port()
            own = _process_settings(shared, root, name, port=port)
            proc = stack.enter_context(tutor_process(own, ["api"], root / f"{name}.log", S3_ENV))
            apis.append((f"http://127.0.0.1:{port}", proc))
            procs.append(proc)
        stack.callback(stop_processes, procs)  # first thing on the way out: all four stop side by side
        chroma.wait_ready()
        for base, proc in apis:
            wait_ready(base, proc, timeout=120)
        yield shared, [base for base, _ in apis]


def _chat(base: str, headers: dict[str, str], course_id: int, question: str) -> list[tuple[str, Any]]:
    r = httpx.post(
        f"{base}/api/chat/stream", json={"course_id": course_id, "message": question}, headers=headers, timeout=120
    )
    assert r.status_code == 200, r.text
    return parse_sse(r.text)


def test_a_course_uploaded_to_one_api_is_built_by_a_worker_and_answered_with_citations_by_both(
    deployment: tuple[Settings, list[str]], auth: Auth, db: object
) -> None:
    from tutor.vectorstore import open_vector_store

    shared, (api_a, api_b) = deployment
    teacher, student = auth(unique_user("teacher-scale"), "teacher"), auth(unique_user("student-scale"))
    pdf = course_pdf(sciq_chapters(2, 2, 2), title="Scale notes")

    accepted = httpx.post(
        f"{api_a}/api/upload-pdfs",
        headers=teacher,
        data={"title": "At scale"},
        files=[("files", (FILENAME, pdf, "application/pdf"))],
        timeout=60,
    )
    assert accepted.status_code == 202, accepted.text
    job_id, course_id = accepted.json()["job_id"], accepted.json()["course_id"]
    (stored,) = [o["Key"] for o in s3_client(shared.s3_endpoint_url or "").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert stored.startswith("school/")

    def finished() -> dict[str, Any] | None:
        job = httpx.get(f"{api_b}/api/jobs/{job_id}", headers=teacher, timeout=10).json()
        return job if job["status"] in ("completed", "failed") else None

    job = poll(finished, timeout=120, interval=0.25, message="the job built by a worker")
    assert job["status"] == "completed", job
    assert job["worker"] in WORKERS
    # The vectors are in the Chroma server, not in any process's data directory.
    assert open_vector_store(shared).count(course_id) == job["result"]["chunks"] > 0

    for base, other in ((api_a, api_b), (api_b, api_a)):
        events = _chat(base, student, course_id, sciq_items()[0]["question"])  # its answer is in the PDF
        assert events[-1][0] == "done", events[-1]
        citations = [d for n, d in events if n == "citation"]
        assert citations and all(c["filename"] == FILENAME and c["page_start"] >= 1 for c in citations)
        # The signed link one API wrote opens the PDF (from S3) through the other.
        source = httpx.get(f"{other}{citations[0]['url'].split('#')[0]}", timeout=30)
        assert source.status_code == 200 and source.content == pdf

    (listed,) = httpx.get(f"{api_b}/api/files", params={"course_id": course_id}, headers=teacher, timeout=10).json()
    download = httpx.get(f"{api_a}/api/files/{listed['file_id']}/download", headers=teacher, timeout=30)
    assert download.status_code == 200 and download.content == pdf
    assert "filename*=UTF-8''Zellen%20%E2%80%93%20%C3%9Cbung.pdf" in download.headers["content-disposition"]
