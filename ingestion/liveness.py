"""Whether a running job's worker is alive: heartbeats on the job row, and stalled jobs found and sent again.

A worker marks its job alive every `job_heartbeat_s`. A `processing` job without a heartbeat for
`job_stalled_after_s` lost its worker (killed, out of memory, machine gone): it is shown as `stalled` and sent
to the queue again at once, instead of waiting for the broker's visibility timeout (an hour by default). A job
that stalls `job_max_attempts` times fails (`worker_lost`): it is likely the file that kills its worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tutor.settings import Settings

log = logging.getLogger(__name__)


def default_worker_name() -> str:
    """Distinct for every worker process, also several on one host: `tutor-<pid>@<host>`."""
    return f"tutor-{os.getpid()}@{socket.gethostname()}"


_BEAT = text(
    """
    UPDATE job_queue SET heartbeat_at = now(), worker = :worker, status = 'processing'
    WHERE job_id = :job_id AND status IN ('processing', 'stalled')
    """
)


@contextlib.asynccontextmanager
async def heartbeat(
    sessions: async_sessionmaker[AsyncSession], job_id: str, worker: str, interval_s: float
) -> AsyncIterator[None]:
    """Mark the job alive every `interval_s` while the block runs (the job's own work runs off this loop)."""

    async def beat() -> None:
        # The run claims the job with a heartbeat of its own; beating only after that never keeps alive a job
        # this delivery turns out not to own (another live worker runs it). A live worker whose job was taken
        # for stalled (its beats were late) takes it back: the job's other delivery leaves it to this run.
        while True:
            await asyncio.sleep(interval_s)
            try:
                async with sessions() as session, session.begin():
                    await session.execute(_BEAT, {"job_id": job_id, "worker": worker})
            except Exception as exc:  # the database is away for a moment: the next beat tries again
                log.warning("heartbeat of job %s failed: %s", job_id, exc)

    task = asyncio.create_task(beat(), name=f"heartbeat-{job_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(frozen=True)
class StalledJob:
    job_id: str
    task_id: str | None
    failed: bool  # out of attempts: failed for good rather than sent again


# Processing jobs whose worker went quiet become stalled (or failed, out of attempts); stalled jobs whose resend
# was not picked up (no worker, or the broker was down) are sent again. The row update decides who sends: of
# several API processes running this, exactly one gets each row back.
_FIND_STALLED = text(
    """
    UPDATE job_queue SET
        status = CASE WHEN attempts >= :max_attempts THEN 'failed' ELSE 'stalled' END,
        message = CASE WHEN attempts >= :max_attempts
            THEN 'Failed: its worker stopped ' || attempts || ' times while processing it'
            ELSE 'Stalled: the worker processing it stopped (' || COALESCE(worker, 'unknown') || '); retrying' END,
        error = CASE WHEN attempts >= :max_attempts
            THEN 'its worker stopped ' || attempts || ' times while processing it; the file may be too complex'
            ELSE error END,
        result = CASE WHEN attempts >= :max_attempts
            THEN COALESCE(result, '{}'::jsonb) || '{"error_code": "worker_lost"}'::jsonb ELSE result END,
        completed_at = CASE WHEN attempts >= :max_attempts THEN now() ELSE completed_at END,
        heartbeat_at = now()
    WHERE (status = 'processing' AND COALESCE(heartbeat_at, started_at) < now() - make_interval(secs => :after_s))
       OR (status = 'stalled' AND heartbeat_at < now() - make_interval(secs => :after_s))
    RETURNING job_id, task_id, status = 'failed'
    """
)


async def find_stalled(
    sessions: async_sessionmaker[AsyncSession], *, stalled_after_s: float, max_attempts: int
) -> list[StalledJob]:
    async with sessions() as session, session.begin():
        rows = await session.execute(_FIND_STALLED, {"after_s": stalled_after_s, "max_attempts": max_attempts})
        return [StalledJob(r[0], r[1], bool(r[2])) for r in rows]


async def retry_stalled(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], send: Callable[[str, str | None], None]
) -> list[StalledJob]:
    """One pass: stalled jobs marked and sent again through `send(job_id, task_id)` (the broker's client)."""
    stalled = await find_stalled(
        sessions, stalled_after_s=settings.job_stalled_after_s, max_attempts=settings.job_max_attempts
    )
    for job in stalled:
        if job.failed:
            log.warning("job %s failed: its worker stopped %d times", job.job_id, settings.job_max_attempts)
            continue
        log.warning("job %s stalled (its worker stopped); sending it again", job.job_id)
        try:
            await asyncio.to_thread(send, job.job_id, job.task_id)
        except Exception as exc:  # stays stalled; the next pass sends it again
            log.warning("could not send stalled job %s again: %s", job.job_id, exc)
    return stalled
