"""Process-wide resources of one app instance: engine, sessions, Celery, Redis, vector store."""

from __future__ import annotations

import asyncio
import gc
import threading
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from ingestion.celery_app import create_celery
from tutor.identity import TokenVerifier
from tutor.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    celery: Celery
    verifier: TokenVerifier
    _vector_store: Any = field(default=None, repr=False)
    _chat_engine: Any = field(default=None, repr=False)
    _chat_engine_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, settings: Settings) -> AppState:
        if not settings.database_url:
            raise RuntimeError("TUTOR_DATABASE_URL is not set (`tutor up` sets it for its embedded PostgreSQL)")
        if not settings.redis_url:
            raise RuntimeError("TUTOR_REDIS_URL is not set (`tutor up` sets it for its embedded Redis)")
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            redis=Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2),
            celery=create_celery(settings),
            verifier=TokenVerifier(settings),
        )

    def vector_store(self) -> Any:
        """Opened on first use: Chroma's client is heavy to import and most requests never need it."""
        if self._vector_store is None:
            from tutor.vectorstore import open_vector_store

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
                self.settings, self.sessions, self.vector_store(), embedder, get_llm(self.settings)
            )
            # What is loaded by now (models, Chroma, the app) lives as long as the process. Frozen, it is out of
            # the cycle collector's sight: a full collection then scans what requests allocate instead of pausing
            # every open stream for the whole heap (30-110 ms each, measured on this process at start-up).
            gc.collect()
            gc.freeze()

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()
