"""Entry point for `celery -A ingestion.worker worker` (and `tutor worker`)."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from ingestion.celery_app import create_celery
from tutor.outbox import DeliveryLoop
from tutor.settings import get_settings

app = create_celery()


# The outbox (xAPI statements, LMS scores) is delivered by a thread of the worker's main process, not by Celery
# tasks: a message is sent as soon as its transaction commits (PostgreSQL NOTIFY, which never fires for a
# transaction that rolled back) and retried by a sweep, without waiting behind an ingestion job in the solo pool.
# Connected before the warm-up below, so delivery starts while the models load.
_delivery: list[DeliveryLoop] = []


@worker_ready.connect
def _start_delivery(**_: Any) -> None:
    loop = DeliveryLoop(get_settings())
    loop.start()
    _delivery.append(loop)


@worker_shutdown.connect
def _stop_delivery(**_: Any) -> None:
    while _delivery:
        _delivery.pop().stop()


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
