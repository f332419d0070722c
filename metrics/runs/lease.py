"""The one lease model of runs and chunks (issue 23): an owner and an expiry on each row.

- A lease lasts ``lease_length()`` (``EVALUATION_LEASE_SECONDS``). Whoever works on a run or a
  chunk holds its lease and renews it while working (``kept``: a thread renews it a third of a
  lease apart, so a step longer than the lease does not lose it).
- A pending run's lease is the queue's: ``start_run`` gives it one, and a run whose message
  never reached a worker (the broker restarted empty) expires like any other.
- A chunk taken by a worker has a lease of its own; a queued chunk lives under its run's, which
  every chunk's worker renews too. So while any worker makes progress, the run is alive.
- The minute sweep (``lifecycle.sweep``) re-queues what expired, with ``SELECT … FOR UPDATE
  SKIP LOCKED`` so that two sweepers never re-queue one row twice, and fails a run open past
  ``deadline()`` (``EVALUATION_DEADLINE_SECONDS``).

A lease says who should be working; it never stops a delivered task from computing: every step
is idempotent (a chunk is staged under its row's lock, a run published under the period's
advisory lock), so a duplicate only repeats work. Celery gives the rest: ``acks_late`` and
``reject_on_worker_lost`` (a task is redelivered if its worker dies before it ends) and the
broker's visibility timeout, which ``metrics.checks`` holds below the deadline.

The kind of work does not matter here: a correction run (some sellers of a published period,
``EvaluationRun.seller_ids``) has the same rows, leases and sweep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from metrics.models import EvaluationRun, RunChunk, RunStatus

logger = logging.getLogger(__name__)

OPEN = (RunStatus.PENDING, RunStatus.RUNNING)


def lease_length() -> timedelta:
    """How long a lease lasts unless renewed (``EVALUATION_LEASE_SECONDS``)."""
    return timedelta(seconds=settings.EVALUATION_LEASE_SECONDS)


def deadline() -> timedelta:
    """A run open this long after it started is failed (``EVALUATION_DEADLINE_SECONDS``)."""
    return timedelta(seconds=settings.EVALUATION_DEADLINE_SECONDS)


def expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + lease_length()


def owner() -> str:
    """This worker: host, process and thread (two threads of one process are two owners)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:200]


def renew(
    *, run_id: int, chunk_id: int | None = None, take: bool = False, by: str | None = None
) -> None:
    """Renew the run's lease (a running run only) and, with ``chunk_id``, the chunk's (one not
    done) for ``by`` (default: this thread); ``take``: the chunk is taken now (``started_at``)."""
    now = timezone.now()
    until = expiry(now)
    EvaluationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(lease_expires_at=until)
    if chunk_id is None:
        return
    fields: dict[str, object] = {"lease_expires_at": until, "lease_owner": by or owner()}
    if take:
        fields["started_at"] = now
    RunChunk.objects.filter(pk=chunk_id, done_at__isnull=True).update(**fields)


@contextmanager
def kept(*, run_id: int, chunk_id: int | None = None) -> Iterator[None]:
    """Keep the lease of the run (and chunk) renewed while the block runs.

    A thread renews it every third of a lease on a connection of its own. Inside a transaction
    (a test's) another connection could not see the rows, and SQLite has one writer: there the
    block's own steps renew it (at its start and end), which the tests' short work needs.
    """
    holder = owner()
    renew(run_id=run_id, chunk_id=chunk_id, take=chunk_id is not None, by=holder)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    stop = threading.Event()
    interval = max(lease_length().total_seconds() / 3, 0.1)

    def keep() -> None:
        try:
            while not stop.wait(interval):
                try:
                    renew(run_id=run_id, chunk_id=chunk_id, by=holder)
                except DatabaseError:
                    # The next renewal tries again; a lease that expires is re-queued.
                    logger.warning("Could not renew the lease of run %s", run_id, exc_info=True)
        finally:
            connections.close_all()

    keeper = threading.Thread(target=keep, name=f"lease-run-{run_id}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join(timeout=10)
