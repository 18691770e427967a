"""A durable outbox: messages to other systems, committed with the rows they report and delivered by workers.

`enqueue` inserts a message in the caller's transaction, so an event and its message commit together (or neither
does); a `sender` registered for the message's kind delivers it later. Delivery retries with a doubling delay
until `outbox_max_attempts`; a sender raising `PermanentError` fails the message at once. Workers claim due
messages with `FOR UPDATE SKIP LOCKED` and send them outside the row lock: a claim pushes the message's due time
forward by a lease, so the claim of a worker that died while sending expires and another worker sends it.

A sender may run more than once for one message (its worker died after sending, before recording it): make the
receiving side idempotent (an xAPI statement's id, a score's timestamp).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from tutor.settings import Settings

log = logging.getLogger(__name__)

Sender = Callable[[dict[str, Any], Settings], Awaitable[None]]

# Modules whose import registers senders: a worker imports them before it delivers anything.
SENDER_MODULES = ("tutor.xapi.delivery", "tutor.lti.grades")
# Enqueued messages wake the workers listening on this channel when their transaction commits.
CHANNEL = "tutor_outbox"
BATCH = 10  # messages claimed and sent at once; the lease covers one batch's sends

_senders: dict[str, tuple[Sender, Callable[[Settings], bool]]] = {}


class PermanentError(Exception):
    """The message can never be delivered (the receiver refused it as malformed): fail it without retrying."""


def sender(kind: str, *, when: Callable[[Settings], bool] = lambda _: True) -> Callable[[Sender], Sender]:
    """Register `async def send(payload, settings) -> None` as the delivery of messages of `kind`.

    `when`: whether this process's settings let it send them (an LRS configured, say); a worker that cannot
    leaves the messages to one that can instead of spending their attempts.
    """

    def register(send: Sender) -> Sender:
        _senders[kind] = (send, when)
        return send

    return register


_ENQUEUE = text(
    """
    WITH added AS (
        INSERT INTO outbox_messages (kind, dedup_key, payload)
        VALUES (:kind, :key, CAST(:payload AS jsonb))
        ON CONFLICT ON CONSTRAINT uq_outbox_kind_key DO NOTHING
        RETURNING 1
    )
    SELECT pg_notify(:channel, :kind) FROM added
    """
)


async def enqueue(session: AsyncSession, *, kind: str, key: str, payload: dict[str, Any]) -> None:
    """Add a message in the session's transaction; one already enqueued with this kind and key is left as it is."""
    await session.execute(_ENQUEUE, {"kind": kind, "key": key, "payload": json.dumps(payload), "channel": CHANNEL})


# Due messages of the kinds this process can send, oldest due first; the claim pushes them a lease ahead and
# counts the attempt. The attempt number is the claim's token: a late outcome of an expired claim changes nothing.
_CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM outbox_messages
        WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() AND kind = ANY(:kinds)
        ORDER BY next_attempt_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox_messages AS m
    SET attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease_s)
    FROM due WHERE m.id = due.id
    RETURNING m.id, m.kind, m.payload, m.attempts
    """
)
_DELIVERED = text(
    "UPDATE outbox_messages SET delivered_at = now(), last_error = NULL "
    "WHERE id = :id AND attempts = :attempts AND delivered_at IS NULL"
)
_RETRY = text(
    "UPDATE outbox_messages SET next_attempt_at = now() + make_interval(secs => :delay_s), last_error = :error "
    "WHERE id = :id AND attempts = :attempts AND delivered_at IS NULL"
)
_FAILED = text(
    "UPDATE outbox_messages SET failed_at = now(), last_error = :error "
    "WHERE id = :id AND attempts = :attempts AND delivered_at IS NULL"
)


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling from outbox_retry_s, capped."""
    return float(min(settings.outbox_retry_max_s, settings.outbox_retry_s * 2 ** min(attempts - 1, 30)))


def _load_senders() -> None:
    for module in SENDER_MODULES:
        importlib.import_module(module)


async def deliver_due(sessions: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int = 100) -> int:
    """Send up to `limit` due messages, a batch at a time, and record each outcome: how many were delivered."""
    _load_senders()
    kinds = sorted(kind for kind, (_, when) in _senders.items() if when(settings))
    if not kinds:
        return 0
    delivered = claimed_total = 0
    while claimed_total < limit:
        async with sessions() as session, session.begin():
            rows = (
                await session.execute(
                    _CLAIM,
                    {
                        "kinds": kinds,
                        "limit": min(BATCH, limit - claimed_total),
                        "lease_s": settings.outbox_lease_s,
                    },
                )
            ).all()
        if not rows:
            break
        claimed_total += len(rows)
        batch = [_Claimed(int(r.id), r.kind, r.payload, int(r.attempts)) for r in rows]
        outcomes = await asyncio.gather(*(_send(m, settings) for m in batch))
        async with sessions() as session, session.begin():
            for message, error in zip(batch, outcomes, strict=True):
                delivered += await _record(session, settings, message, error)
    return delivered


async def _send(message: _Claimed, settings: Settings) -> BaseException | None:
    """The sender's exception, or None when it delivered; a send never outlives half its claim's lease."""
    try:
        async with asyncio.timeout(settings.outbox_lease_s / 2):
            await _senders[message.kind][0](message.payload, settings)
    except Exception as exc:
        return exc
    return None


async def _record(session: AsyncSession, settings: Settings, message: _Claimed, error: BaseException | None) -> int:
    ids = {"id": message.id, "attempts": message.attempts}
    if error is None:
        await session.execute(_DELIVERED, ids)
        return 1
    reason = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, PermanentError) or message.attempts >= settings.outbox_max_attempts:
        log.error(
            "outbox message %s (%s) failed for good after %s attempts: %s",
            message.id,
            message.kind,
            message.attempts,
            reason,
        )
        await session.execute(_FAILED, {**ids, "error": reason})
    else:
        delay = retry_delay(settings, message.attempts)
        log.warning(
            "outbox message %s (%s) not delivered, retry in %.3g s: %s", message.id, message.kind, delay, reason
        )
        await session.execute(_RETRY, {**ids, "error": reason, "delay_s": delay})
    return 0


@dataclass
class DeliveryLoop:
    """A worker's delivery: a thread of its own sends due messages as soon as an enqueue's transaction commits
    (PostgreSQL NOTIFY) and sweeps every `outbox_sweep_s` for retries and for wake-ups it missed."""

    settings: Settings
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    async def _main(self) -> None:
        from db.engine import create_engine, session_factory

        if not self.settings.database_url:
            raise RuntimeError("TUTOR_DATABASE_URL is not set")
        engine = create_engine(self.settings.database_url, pool_size=2)
        sessions = session_factory(engine)
        wake = asyncio.Event()
        listening: AsyncConnection | None = None
        log.info("outbox delivery started: every %s s and on each commit", self.settings.outbox_sweep_s)
        try:
            while not self._stop.is_set():
                if listening is None:
                    listening = await self._listen(engine, wake)
                wake.clear()
                try:
                    delivered = await deliver_due(sessions, self.settings)
                except Exception as exc:  # the database is away: the next sweep tries again
                    log.warning("outbox delivery failed: %s", exc)
                    delivered = 0
                    await self._close(listening)
                    listening = None
                if not delivered:  # otherwise more may be due right away
                    await self._pause(wake)
        finally:
            await self._close(listening)
            await engine.dispose()

    async def _pause(self, wake: asyncio.Event) -> None:
        """Until the next sweep, a wake-up, or a stop (looked at every second)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.outbox_sweep_s
        while not wake.is_set() and not self._stop.is_set() and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=min(1.0, max(0.0, deadline - loop.time())))

    async def _listen(self, engine: AsyncEngine, wake: asyncio.Event) -> AsyncConnection | None:
        """A connection that LISTENs for enqueued messages; None when that fails (the sweep still finds them)."""
        conn: AsyncConnection | None = None
        try:
            conn = await engine.connect()
            raw: Any = (await conn.get_raw_connection()).driver_connection  # asyncpg's connection
            await raw.add_listener(CHANNEL, lambda *_: wake.set())
            return conn
        except Exception as exc:
            log.warning("outbox cannot listen (it sweeps every %s s): %s", self.settings.outbox_sweep_s, exc)
            await self._close(conn)
            return None

    async def _close(self, conn: AsyncConnection | None) -> None:
        if conn is not None:
            try:
                await conn.invalidate()  # never back to the pool with a listener on it
                await conn.close()
            except Exception as exc:
                log.debug("closing the outbox listener: %s", exc)
