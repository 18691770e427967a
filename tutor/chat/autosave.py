"""Streaming replies saved as they grow, and replies orphaned by a dead process closed as interrupted.

One task per API process saves the text of all its open streams about every second in one statement, so the
token loop never writes; a stream that produced nothing new is only marked alive. The same task closes, at
start-up and then periodically, replies no process has saved for `chat_stale_after_s`: their process died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tutor.chat import recording
from tutor.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _Live:
    parts: list[str]  # the turn's own list of deltas, appended to as it streams
    saved_parts: int = 0


@dataclass
class ReplyAutosave:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    _live: dict[int, _Live] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _last_touch: float = 0.0
    _last_sweep: float = float("-inf")

    def track(self, reply_id: int, parts: list[str]) -> None:
        self._live[reply_id] = _Live(parts)

    def forget(self, reply_id: int) -> None:
        self._live.pop(reply_id, None)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="reply-autosave")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        interval = self.settings.chat_write_interval_s
        while True:
            try:
                await self.tick(time.monotonic())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the next tick tries again
                log.warning("saving streaming replies failed: %s", exc)
            await asyncio.sleep(interval)

    async def tick(self, now: float) -> None:
        stale = self.settings.chat_stale_after_s
        # Unchanged streams are marked alive well within the stale time, not every tick.
        touch = now - self._last_touch >= stale / 4
        replies: dict[int, str | None] = {}
        counts: dict[int, int] = {}
        for reply_id, live in list(self._live.items()):
            counts[reply_id] = count = len(live.parts)
            if count != live.saved_parts:
                replies[reply_id] = "".join(live.parts[:count])
            elif touch:
                replies[reply_id] = None
        await recording.save_streaming(self.sessions, replies)
        for reply_id, count in counts.items():
            if reply_id in self._live:
                self._live[reply_id].saved_parts = count
        if touch:
            self._last_touch = now
        if now - self._last_sweep >= stale / 2:
            self._last_sweep = now
            closed = await recording.close_orphaned(self.sessions, stale)
            if closed:
                log.info("closed %d reply(ies) left streaming by a stopped process: %s", len(closed), closed[:20])
