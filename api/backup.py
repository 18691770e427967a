"""`tutor backup PATH` / `tutor restore PATH`: one archive with a deployment's rows, uploaded files and index.

The archive (a .tar.gz) holds `manifest.json`, `db/<table>.csv` (db.dump: a consistent logical copy, restored into
a database migrated to the same revision, then upgraded), `files/<file_id>.pdf` and `chroma/<course>/<n>.json`
(chunks with their vectors: the restored index answers exactly as before, without re-embedding). It works the same
for the embedded services and for external PostgreSQL, S3 and a Chroma server, since it reads and writes through
the tutor's own storage and vector store.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import tarfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from api.supervisor import database_url
from db import migrate
from db.dump import DatabaseCopy, TableCopy, copy_database, load_database, nonempty_tables
from ingestion.storage import open_storage
from tutor.errors import TutorError
from tutor.settings import Settings
from tutor.vectorstore import StoredBatch, open_vector_store

FORMAT = 1
log = logging.getLogger(__name__)


class BackupError(TutorError):
    status = 400


@dataclass
class Report:
    path: str
    revision: str | None
    rows: dict[str, int]
    files: int
    chunks: int
    seconds: float
    bytes: int = 0
    missing_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        total = sum(self.rows.values())
        lost = f"; {len(self.missing_files)} files were already missing: {', '.join(self.missing_files)}"
        return (
            f"{self.path}: {total} rows in {len(self.rows)} tables, {self.files} files, {self.chunks} indexed chunks "
            f"({self.bytes / 2**20:.1f} MB) in {self.seconds:.1f} s" + (lost if self.missing_files else "")
        )


@dataclass
class _Snapshot:
    copy: DatabaseCopy
    files: list[tuple[str, int, str]] = field(default_factory=list)  # file id, course id, location
    courses: list[int] = field(default_factory=list)


async def _snapshot(url: str) -> _Snapshot:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn, conn.begin():
            copy = await copy_database(conn)
            # Read in the same snapshot as the rows: the archive's files are exactly the rows' files.
            files = (await conn.execute(text("SELECT file_id, course_id, file_path FROM source_files"))).all()
            courses = (await conn.execute(text("SELECT course_id FROM courses ORDER BY course_id"))).scalars().all()
    finally:
        await engine.dispose()
    return _Snapshot(copy, [(f, int(c), p or "") for f, c, p in files], [int(c) for c in courses])


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), int(time.time())
    tar.addfile(info, io.BytesIO(data))


def backup(settings: Settings, path: Path) -> Report:
    started = time.perf_counter()
    with database_url(settings) as url:
        snap = asyncio.run(_snapshot(url))
    storage, store = open_storage(settings), open_vector_store(settings)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "revision": snap.copy.revision,
        "tables": [{"name": t.name, "rows": t.rows} for t in snap.copy.tables],
        "sequences": snap.copy.sequences,
        "files": [],
        "collections": [],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    chunks, missing = 0, []
    with tarfile.open(partial, "w:gz") as tar:
        for table in snap.copy.tables:
            _add(tar, f"db/{table.name}.csv", table.csv)
        for file_id, course_id, location in snap.files:
            member = f"files/{file_id}.pdf"
            try:
                data = storage.get(location)
            except (OSError, ValueError) as exc:  # a file lost before the backup: the rest is still worth keeping
                log.warning("file %s (%s) is missing from storage; backed up without it: %s", file_id, location, exc)
                missing.append(file_id)
                continue
            _add(tar, member, data)
            manifest["files"].append({"file_id": file_id, "course_id": course_id, "member": member})
        for course_id in snap.courses:
            batches = 0
            for n, stored in enumerate(store.export(course_id)):
                _add(tar, f"chroma/{course_id}/{n}.json", json.dumps(asdict(stored)).encode())
                chunks += len(stored.ids)
                batches += 1
            if batches:
                manifest["collections"].append({"course_id": course_id, "batches": batches})
        manifest["missing_files"] = missing
        _add(tar, "manifest.json", json.dumps(manifest, indent=1).encode())
    partial.replace(path)  # a half-written archive never stands under the final name
    return Report(
        str(path),
        snap.copy.revision,
        {t.name: t.rows for t in snap.copy.tables},
        len(manifest["files"]),
        chunks,
        round(time.perf_counter() - started, 2),
        path.stat().st_size,
        missing,
    )


async def _target_state(url: str) -> tuple[str | None, list[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await nonempty_tables(conn)
    finally:
        await engine.dispose()
    return await migrate.current_revision(url), tables


async def _load(url: str, copy: DatabaseCopy, moved: dict[str, str]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await load_database(conn, copy)
            for file_id, location in moved.items():
                await conn.execute(
                    text("UPDATE source_files SET file_path = :p WHERE file_id = :f"), {"p": location, "f": file_id}
                )
    finally:
        await engine.dispose()


def restore(settings: Settings, path: Path) -> Report:
    """Into an empty database (or data dir): refuses a database, or an index, that already holds a course."""
    started = time.perf_counter()
    if not path.is_file():
        raise BackupError("backup_not_found", f"no backup archive at {path}")
    try:
        tar = tarfile.open(path, "r:gz")  # noqa: SIM115 (closed by the `with` below, once it is known to open)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError("backup_unreadable", f"{path} is not a tutor backup archive: {exc}") from None
    with tar:
        manifest = _read_json(tar, "manifest.json")
        if manifest.get("format") != FORMAT:
            raise BackupError("backup_format", f"{path} has backup format {manifest.get('format')}, expected {FORMAT}")
        copy = DatabaseCopy(
            revision=manifest["revision"],
            tables=[TableCopy(t["name"], t["rows"], _read(tar, f"db/{t['name']}.csv")) for t in manifest["tables"]],
            sequences={k: int(v) for k, v in manifest["sequences"].items()},
        )
        store = open_vector_store(settings)
        taken = [c["course_id"] for c in manifest["collections"] if store.count(c["course_id"])]
        if taken:
            raise BackupError("restore_target_not_empty", f"the search index already holds courses {taken}")
        with database_url(settings) as url:
            current, filled = asyncio.run(_target_state(url))
            if filled:
                raise BackupError(
                    "restore_target_not_empty", f"the database already holds data (tables {', '.join(filled)})"
                )
            # The rows go into the schema they were copied from; the migrations then bring them to this release.
            if current != copy.revision:
                if current is not None:
                    migrate.downgrade(url, "base")
                migrate.upgrade(url, copy.revision or "head")
            storage = open_storage(settings)
            moved = {}
            for f in manifest["files"]:
                moved[f["file_id"]] = storage.put(f"{f['course_id']}/{f['file_id']}.pdf", _read(tar, f["member"]))
            asyncio.run(_load(url, copy, moved))
            migrate.upgrade(url, "head")
        chunks = 0
        for c in manifest["collections"]:
            for n in range(c["batches"]):
                stored = StoredBatch(**_read_json(tar, f"chroma/{c['course_id']}/{n}.json"))
                store.restore(c["course_id"], stored)
                chunks += len(stored.ids)
    return Report(
        str(path),
        copy.revision,
        {t.name: t.rows for t in copy.tables},
        len(manifest["files"]),
        chunks,
        round(time.perf_counter() - started, 2),
        path.stat().st_size,
    )


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        member = tar.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise BackupError("backup_incomplete", f"the archive has no {name}")
    return member.read()


def _read_json(tar: tarfile.TarFile, name: str) -> dict[str, Any]:
    value = json.loads(_read(tar, name))
    if not isinstance(value, dict):
        raise BackupError("backup_incomplete", f"{name} is not a JSON object")
    return value
