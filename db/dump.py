"""A logical copy of the tutor's tables: every row as CSV (PostgreSQL's COPY), and where each sequence stands.

Version-independent by design: no pg_dump binary has to match the server (embedded or external, any version), and
the schema itself comes from the migrations, so a copy restores into any database migrated to the copy's revision.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Tables whose rows the copy leaves out: the migrations own alembic_version.
SKIPPED = {"alembic_version"}


@dataclass
class TableCopy:
    name: str
    rows: int
    csv: bytes


@dataclass
class DatabaseCopy:
    revision: str | None
    tables: list[TableCopy] = field(default_factory=list)  # in an order that satisfies foreign keys
    sequences: dict[str, int] = field(default_factory=dict)  # sequence -> last value handed out


async def _tables_in_dependency_order(conn: AsyncConnection) -> list[str]:
    """Referenced tables before the tables that refer to them (a plain topological sort of the foreign keys)."""
    tables = list(
        (
            await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
        ).scalars()
    )
    edges = (
        await conn.execute(
            text(
                """
                SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
                FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                WHERE c.contype = 'f' AND n.nspname = 'public'
                """
            )
        )
    ).all()
    needs: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in edges:
        if child in needs and parent in needs and child != parent:
            needs[child].add(parent)
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if not parents - set(ordered))
        if not ready:  # a cycle of foreign keys: none in this schema; keep going rather than loop forever
            ready = sorted(needs)
        for t in ready:
            ordered.append(t)
            del needs[t]
    return [t for t in ordered if t not in SKIPPED]


def _raw(conn: Any) -> Any:
    return conn.driver_connection  # the asyncpg connection under SQLAlchemy's adapter


async def copy_database(conn: AsyncConnection) -> DatabaseCopy:
    """Every row of every table, read in one REPEATABLE READ snapshot, so the copy is consistent."""
    await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    revision = await conn.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))
    copy = DatabaseCopy(revision=revision)
    raw = _raw(await conn.get_raw_connection())
    for table in await _tables_in_dependency_order(conn):
        out = io.BytesIO()
        await raw.copy_from_table(table, output=_writer(out), format="csv", header=True)
        rows = int(await conn.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)
        copy.tables.append(TableCopy(table, rows, out.getvalue()))
    sequences = await conn.execute(
        text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
    )
    copy.sequences = {name: int(value) for name, value in sequences if value is not None}
    return copy


def _writer(out: io.BytesIO) -> Callable[[bytes], Awaitable[None]]:
    async def write(chunk: bytes) -> None:
        out.write(chunk)

    return write


async def nonempty_tables(conn: AsyncConnection) -> list[str]:
    found = []
    for table in await _tables_in_dependency_order(conn):
        if await conn.scalar(text(f'SELECT EXISTS (SELECT 1 FROM "{table}")')):
            found.append(table)
    return found


async def load_database(conn: AsyncConnection, copy: DatabaseCopy) -> None:
    """Rows into an empty database migrated to the copy's revision, then every sequence where it stood."""
    raw = _raw(await conn.get_raw_connection())
    for table in copy.tables:
        if table.rows:
            columns = _header(table.csv)
            await raw.copy_to_table(
                table.name, source=io.BytesIO(table.csv), columns=columns, format="csv", header=True
            )
    for name, value in copy.sequences.items():
        await conn.execute(text("SELECT setval(CAST(:name AS regclass), :value, true)"), {"name": name, "value": value})


def _header(csv_bytes: bytes) -> list[str]:
    import csv

    first = csv_bytes.split(b"\n", 1)[0].decode()
    return next(csv.reader([first]))
