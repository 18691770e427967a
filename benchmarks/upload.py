"""A big upload against the app in process: how long /healthz waits meanwhile, and the memory the upload takes.

20 PDFs of ~5 MB each (random-pixel pages: incompressible, like scans) in one POST /api/upload-pdfs, while /healthz
is asked 50 times a second; the API's resident memory is sampled every 10 ms. Prints JSON (medians of the rounds).
Needs TUTOR_DATABASE_URL (a scratch database is made on its server) and TUTOR_REDIS_URL, or embedded ones.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import REPO, bench_settings, median

ROUNDS = 3
FILES = 20


async def one_round(client, headers: dict[str, str], pdfs: list[bytes]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import psutil

    process = psutil.Process()
    base_rss, peak = process.memory_info().rss, [0]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], process.memory_info().rss - base_rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    files = [("files", (f"big{i}.pdf", pdf, "application/pdf")) for i, pdf in enumerate(pdfs)]
    started = time.perf_counter()
    uploading = asyncio.create_task(
        client.post("/api/upload-pdfs", headers=headers, files=files, data={"title": "Bench"})
    )
    waits: list[float] = []
    while not uploading.done():
        asked = time.perf_counter()
        await client.get("/healthz")
        waits.append(1000 * (time.perf_counter() - asked))
        await asyncio.sleep(0.02)  # a monitor asking 50 times a second, not a flood that starves the upload
    response = await uploading
    seconds = time.perf_counter() - started
    sampling.set()
    sampler.join()
    assert response.status_code == 202, response.text
    return {
        "upload_s": seconds,
        "healthz_max_ms": max(waits),
        "healthz_answered": len(waits),
        "rss_growth_mb": peak[0] / 2**20,
    }


async def main() -> None:
    import httpx

    from api.app import create_app
    from db.engine import create_database, drop_database, with_database
    from tests.factories import noise_pdf
    from tutor.identity import mint_token

    server_url = os.environ.get("TUTOR_DATABASE_URL")
    scratch = f"bench_upload_{uuid.uuid4().hex[:8]}"
    if server_url:
        await create_database(server_url, scratch)
        os.environ["TUTOR_DATABASE_URL"] = with_database(server_url, scratch)
    try:
        # A queue no worker reads: the jobs stay pending, the upload is what is measured.
        async with bench_settings(rate_limit_uploads_per_hour=10**6, celery_queue=f"bench-{scratch}") as settings:
            app = create_app(settings)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=600) as client,
            ):
                rounds = []
                for r in range(ROUNDS):
                    headers = {
                        "Authorization": f"Bearer {mint_token(settings, f'bench-{uuid.uuid4().hex}', 'teacher')}"
                    }
                    pdfs = [noise_pdf(seed=1000 * r + i) for i in range(FILES)]
                    rounds.append(await one_round(client, headers, pdfs))
    finally:
        if server_url:
            await drop_database(server_url, scratch)
    print(
        json.dumps(
            {
                "files": FILES,
                "mb": round(FILES * len(noise_pdf(seed=0)) / 2**20, 1),
                "rounds": ROUNDS,
                **{key: median([r[key] for r in rounds]) for key in rounds[0]},
                "repo": str(REPO),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
