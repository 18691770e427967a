"""Teachers' view of the chat: transcripts of their courses, searchable, paged, exportable; content gaps."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import ChatMessage, Module, SourceFile, Topic
from tutor.errors import TutorError


def naive_utc(moment: datetime | None) -> datetime | None:
    """The seed's TIMESTAMP columns hold naive UTC: an aware time (`...+02:00`) is converted, a naive one is
    taken as UTC already."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class TranscriptFilter:
    course_id: int
    user_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", naive_utc(self.since))
        object.__setattr__(self, "until", naive_utc(self.until))


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    user_id: str
    course_id: int | None
    started_at: datetime | None
    last_message_at: datetime | None
    messages: int
    title: str


@dataclass(frozen=True)
class Page:
    items: list[SessionRow]
    next_cursor: str | None


def _encode(last: datetime, session_id: str) -> str:
    return base64.urlsafe_b64encode(f"{last.isoformat()}|{session_id}".encode()).decode()


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, session_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(stamp), session_id
    except Exception:
        raise TutorError("invalid_cursor", "the cursor is not one this API gave out", status=422) from None


def _matching(f: TranscriptFilter) -> Select[Any]:
    """Sessions of the course with at least one message matching every filter."""
    query = select(ChatMessage.session_id).where(ChatMessage.course_id == f.course_id)
    if f.user_id:
        query = query.where(ChatMessage.user_id == f.user_id)
    if f.since:
        query = query.where(ChatMessage.timestamp >= f.since)
    if f.until:
        query = query.where(ChatMessage.timestamp < f.until)
    if f.q:
        escaped = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(ChatMessage.message.ilike(f"%{escaped}%", escape="\\"))
    return query.distinct()


async def sessions(session: AsyncSession, f: TranscriptFilter, *, limit: int, cursor: str | None) -> Page:
    """Newest activity first; the cursor is (last activity, session id), so pages never skip or repeat."""
    last = func.max(ChatMessage.timestamp)
    first_id = func.min(ChatMessage.id)
    grouped = (
        select(
            ChatMessage.session_id,
            func.min(ChatMessage.user_id).label("user_id"),
            last.label("last"),
            func.min(ChatMessage.timestamp).label("first"),
            func.count().label("n"),
            first_id.label("first_id"),
        )
        .where(ChatMessage.session_id.in_(_matching(f)))
        .group_by(ChatMessage.session_id)
    ).subquery()
    query = select(grouped).order_by(grouped.c.last.desc(), grouped.c.session_id.desc()).limit(limit + 1)
    if cursor:
        stamp, session_id = _decode(cursor)
        query = query.where(tuple_(grouped.c.last, grouped.c.session_id) < tuple_(stamp, session_id))
    rows = (await session.execute(query)).all()
    titles = dict(
        (
            await session.execute(
                select(ChatMessage.id, ChatMessage.message).where(ChatMessage.id.in_([r.first_id for r in rows]))
            )
        ).all()
    )
    items = [
        SessionRow(r.session_id, r.user_id, f.course_id, r.first, r.last, int(r.n), titles.get(r.first_id, "")[:80])
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return Page(
        items, _encode(items[-1].last_message_at, items[-1].session_id) if more and items[-1].last_message_at else None
    )


EXPORT_FIELDS = (
    "session_id",
    "user_id",
    "message_id",
    "message_type",
    "timestamp",
    "message",
    "citations",
    "incomplete",
)


async def export_rows(session: AsyncSession, f: TranscriptFilter) -> AsyncIterator[dict[str, Any]]:
    query = (
        select(ChatMessage)
        .where(ChatMessage.session_id.in_(_matching(f)), ChatMessage.course_id == f.course_id)
        .order_by(ChatMessage.session_id, ChatMessage.id)
        .execution_options(yield_per=500)
    )
    async for m in (await session.stream(query)).scalars():
        meta = m.metadata_ or {}
        cites = [f"{c['filename']} p. {c['page_start']}" for c in meta.get("citations", [])]
        yield {
            "session_id": m.session_id,
            "user_id": m.user_id,
            "message_id": m.id,
            "message_type": m.message_type,
            "timestamp": m.timestamp.isoformat() if m.timestamp else None,
            "message": m.message,
            "citations": "; ".join(cites),
            "incomplete": bool(meta.get("incomplete", False)),
        }


# A spreadsheet runs a cell that starts with one of these as a formula (`=HYPERLINK(...)` sends data away).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """OWASP's advice against CSV injection: text that a spreadsheet would read as a formula gets a leading `'`,
    so it shows as the text it is. Every text cell, since student messages and PDF file names are untrusted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv_line(row: dict[str, Any] | None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    if row is None:
        writer.writeheader()
    else:
        writer.writerow({name: neutralise_cell(value) for name, value in row.items()})
    return buffer.getvalue()


def as_jsonl_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class ContentGap:
    question: str
    asked: int
    last_asked: datetime | None
    closest_topics: str


async def content_gaps(session: AsyncSession, course_id: int, limit: int = 50) -> list[ContentGap]:
    """Student questions the tutor could not answer from the course, most asked first."""
    reply = aliased(ChatMessage)
    asked = aliased(ChatMessage)
    rows = (
        await session.execute(
            select(
                func.lower(func.trim(asked.message)).label("q"),
                func.count(),
                func.max(asked.timestamp),
                func.max(reply.message),
            )
            .join(
                reply, and_(reply.session_id == asked.session_id, reply.metadata_["reply_to"].as_integer() == asked.id)
            )
            .where(
                asked.course_id == course_id,
                asked.message_type == "user",
                reply.metadata_["content_gap"].as_boolean().is_(True),
            )
            .group_by(text("q"))
            .order_by(func.count().desc(), func.max(asked.timestamp).desc())
            .limit(limit)
        )
    ).all()
    gaps = []
    for question, count, last, answer in rows:
        closest = (
            answer.split("closest topics in this course are", 1)[-1].strip(" .") if "closest topics" in answer else ""
        )
        gaps.append(ContentGap(question, int(count), last, closest))
    return gaps


@dataclass(frozen=True)
class CitedTargets:
    """Which of the files and topics a transcript cites are still in the course: a citation of one deleted since
    the answer was given is shown without a link (it would open a 404)."""

    files: frozenset[str]
    topics: frozenset[int]


async def cited_targets(session: AsyncSession, course_id: int, messages: list[ChatMessage]) -> CitedTargets:
    cited = [c for m in messages for c in ((m.metadata_ or {}).get("citations") or []) if isinstance(c, dict)]
    file_ids = {str(c["file_id"]) for c in cited if c.get("file_id")}
    topic_ids = {c["topic_id"] for c in cited if isinstance(c.get("topic_id"), int)}
    files: set[str] = set()
    topics: set[int] = set()
    if file_ids:
        found = select(SourceFile.file_id).where(SourceFile.course_id == course_id, SourceFile.file_id.in_(file_ids))
        files = set((await session.execute(found)).scalars())
    if topic_ids:
        found_topics = (
            select(Topic.id)
            .join(Module, Module.id == Topic.module_id)
            .where(Module.course_id == course_id, Topic.id.in_(topic_ids))
        )
        topics = set((await session.execute(found_topics)).scalars())
    return CitedTargets(frozenset(files), frozenset(topics))
