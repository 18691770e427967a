"""Process-wide resources of one app instance: engine, sessions, Celery, Redis, vector store."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from ingestion.celery_app import create_celery
from tutor.chat.autosave import ReplyAutosave
from tutor.identity import TokenVerifier
from tutor.review.clock import Clock, SystemClock
from tutor.settings import Settings, local_jwt_secret
from tutor.sourcelinks import SourceLinks

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    celery: Celery
    verifier: TokenVerifier
    autosave: ReplyAutosave
    clock: Clock = field(default_factory=SystemClock)  # the review schedule's time; a test's own clock moves by hand
    _source_links: Any = field(default=None, repr=False)
    _vector_store: Any = field(default=None, repr=False)
    _chat_engine: Any = field(default=None, repr=False)
    _chat_engine_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _vector_store_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _background: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> AppState:
        if not settings.database_url:
            raise RuntimeError("TUTOR_DATABASE_URL is not set (`tutor up` sets it for its embedded PostgreSQL)")
        if not settings.redis_url:
            raise RuntimeError("TUTOR_REDIS_URL is not set (`tutor up` sets it for its embedded Redis)")
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        sessions = session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            autosave=ReplyAutosave(settings, sessions),
            redis=Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2),
            celery=create_celery(settings),
            verifier=TokenVerifier(settings),
            clock=clock or SystemClock(),
        )

    def source_links(self) -> SourceLinks:
        if self._source_links is None:
            self._source_links = SourceLinks(local_jwt_secret(self.settings))
        return self._source_links  # type: ignore[no-any-return]

    def vector_store(self) -> Any:
        """Opened on first use: Chroma's client is heavy to import and most requests never need it."""
        if self._vector_store is None:
            from tutor.vectorstore import open_vector_store

            # Opened from several threads at once after a restart under load (the first chats, /readyz): Chroma's
            # client registry is not thread-safe (a KeyError, a 500, for all but one of them).
            with self._vector_store_lock:
                if self._vector_store is None:
                    self._vector_store = open_vector_store(self.settings)
        return self._vector_store

    @property
    def vector_store_open(self) -> bool:
        return self._vector_store is not None

    async def chat_engine(self) -> Any:
        """Built on first chat, in a thread: loading the models takes seconds, and the event loop serves others."""
        if self._chat_engine is None:
            await asyncio.to_thread(self._build_chat_engine)
        return self._chat_engine

    def _build_chat_engine(self) -> None:
        with self._chat_engine_lock:  # two first chats at once build it once
            if self._chat_engine is not None:
                return
            from tutor.chat.engine import ChatEngine
            from tutor.embeddings import get_embedder
            from tutor.llm.factory import get_llm

            embedder = get_embedder(self.settings)
            embedder.embed_query("warm up")  # loads the model: this process keeps it for good
            self._chat_engine = ChatEngine(
                self.settings,
                self.sessions,
                self.vector_store(),
                embedder,
                get_llm(self.settings),
                autosave=self.autosave,
                clock=self.clock,
            )
            # What is loaded by now (models, Chroma, the app) lives as long as the process. Frozen, it is out of
            # the cycle collector's sight: a full collection then scans what requests allocate instead of pausing
            # every open stream for the whole heap (30-110 ms each, measured on this process at start-up).
            gc.collect()
            gc.freeze()

    def start(self) -> None:
        """Background work of the process: streaming replies saved, orphaned ones closed (also right now), and
        jobs whose worker died sent again."""
        self.autosave.start()
        self._background.append(asyncio.create_task(self._watch_jobs(), name="stalled-jobs"))

    async def _watch_jobs(self) -> None:
        from ingestion.liveness import retry_stalled

        while True:
            try:
                lost = [j.job_id for j in await retry_stalled(self.settings, self.sessions, self._send_job) if j.failed]
                await asyncio.gather(*(self._undo_lost_job(job_id) for job_id in lost))
            except Exception as exc:  # the database is away: the next pass looks again
                log.warning("looking for stalled jobs failed: %s", exc)
            await asyncio.sleep(max(1.0, self.settings.job_stalled_after_s / 3))

    async def _undo_lost_job(self, job_id: str) -> None:
        """A job failed for good as `worker_lost` leaves no half-built course (its chunks, files, new course)."""
        from ingestion.storage import open_storage
        from ingestion.undo import undo_lost_job

        try:
            store = await asyncio.to_thread(self.vector_store)
            if await undo_lost_job(self.sessions, open_storage(self.settings), store, job_id):
                log.warning("job %s failed (its worker kept stopping); what it had built was removed", job_id)
        except Exception as exc:
            log.warning("could not remove what lost job %s had built: %s", job_id, exc)

    def _send_job(self, job_id: str, task_id: str | None) -> None:
        self.celery.send_task("tutor.ingest", args=[job_id], task_id=task_id, queue=self.settings.celery_queue)

    async def close(self) -> None:
        await self.autosave.stop()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.redis.aclose()
        await self.engine.dispose()
