"""Entry point for `celery -A ingestion.worker worker` (and `tutor worker`)."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init, worker_ready

from ingestion.celery_app import create_celery

app = create_celery()


# Loading the embedding model and the text splitter takes seconds: pay it when the worker starts, not in the
# first teacher's job. Prefork children warm themselves; the solo pool runs tasks in the main process.
@worker_process_init.connect
def _warm_child(**_: Any) -> None:
    from ingestion.tasks import warm_up

    warm_up()


@worker_ready.connect
def _warm_solo(sender: Any = None, **_: Any) -> None:
    if sender is not None and "solo" in type(sender.pool).__module__:
        from ingestion.tasks import warm_up

        warm_up()
