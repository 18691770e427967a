"""Backup and restore of a 264-page course: seconds, archive size, rows and chunks (prints JSON).

    python benchmarks/backup.py [--pages 264] [--repeat 3]

The course is the Erickson chapters concatenated to the page count (as benchmarks/ingest.py builds them),
ingested by the real pipeline; each run backs it up and restores it into a fresh database, data dir and index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from pathlib import Path

from common import bench_settings, ingest, median
from ingest import build_pdf


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=264)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from sqlalchemy.engine import make_url

    from api.backup import backup, restore
    from db.engine import create_database, drop_database

    async with bench_settings() as settings:
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "book.pdf"
            pages = build_pdf(args.pages, pdf)
            run = await ingest(settings, pdf.read_bytes(), "book.pdf")
            backups, restores, report = [], [], None
            for i in range(args.repeat):
                archive = Path(tmp) / f"backup-{i}.tar.gz"
                made = await asyncio.to_thread(backup, settings, archive)
                backups.append(made.seconds)
                name = f"bench_restore_{uuid.uuid4().hex[:8]}"
                server = make_url(settings.database_url or "").set(database="postgres")
                server_url = server.render_as_string(hide_password=False)
                await create_database(server_url, name)
                target = settings.model_copy(
                    update={
                        "database_url": make_url(server_url).set(database=name).render_as_string(hide_password=False),
                        "data_dir": Path(tmp) / f"restore-{i}",
                        "chroma_path": Path(tmp) / f"restore-{i}" / "chroma",
                    }
                )
                report = await asyncio.to_thread(restore, target, archive)
                restores.append(report.seconds)
                await drop_database(server_url, name)
            assert report is not None
            print(
                json.dumps(
                    {
                        "pages": pages,
                        "chunks": report.chunks,
                        "rows": sum(report.rows.values()),
                        "archive_mb": round(report.bytes / 2**20, 2),
                        "ingest_s": round(run.seconds, 2),
                        "backup_s": backups,
                        "restore_s": restores,
                        "backup_median_s": median(backups),
                        "restore_median_s": median(restores),
                    },
                    indent=1,
                )
            )


if __name__ == "__main__":
    asyncio.run(main())
