"""Timings of the real engine: ``manage.py evaluate`` in-process (eager) and via the broker.

(a) ``manage.py evaluate --period P`` as a subprocess, no broker: the command computes and
    stores the period in its own process. Wall time, Python start-up included (≈ 1 s).
(b) the same through Celery: N prefork pool processes (``celery worker -P prefork -c N``, one
    worker node) on this benchmark's Redis database, then ``manage.py evaluate --period P
    --via-broker``, which enqueues the run and waits for it to finish; timed end to end, from
    the command's start to its exit. The worker is started and ready before the clock starts.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import BROKER_URL, ROOT, app_env, manage, say, stop_group, tail

TIMEOUT = 3600  # seconds a run may take before the benchmark gives up on it


def timed_manage(args: list[str], env: dict[str, str]) -> tuple[float, int, str, str]:
    """Run ``manage.py *args``: (seconds, exit status, stdout, stderr); status -1 on timeout."""
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - our own manage.py
            manage(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return time.perf_counter() - started, -1, output, f"timed out after {TIMEOUT} s"
    return time.perf_counter() - started, done.returncode, done.stdout, done.stderr


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: float | None  # None: failed or not available
    note: str = ""


# The tables every run writes and the next one rewrites: staged rows, figures, evaluations.
RUN_TABLES = ("metrics_stagedevaluation", "metrics_runsellerfigures", "metrics_sellerevaluation")


def settle(db_url: str) -> None:
    """VACUUM (ANALYZE) the tables a run writes, as autovacuum would have between two monthly
    runs: each benchmark run rewrites 10,000 evaluations and their ~3 kB of JSON, and a kept
    scratch database re-run many times (autovacuum may be off, as on this machine) otherwise
    times the previous runs' dead rows (330,000 of them measured 1.6× slower)."""
    from .common import connect

    conn = connect(db_url)
    try:
        with conn.cursor() as cursor:
            for table in RUN_TABLES:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        conn.close()


def run_eager(db_url: str, period: str) -> Timing:
    label = "(a) manage.py evaluate"
    settle(db_url)
    args = ["evaluate", "--period", period]
    seconds, status, stdout, stderr = timed_manage(args, app_env(db_url))
    if status != 0:
        say(f"{label}: FAILED (exit {status}) after {seconds:.2f} s")
        say(tail(stderr or stdout))
        return Timing(label, None, f"exit {status}")
    say(f"{label}: {seconds:.2f} s  ({tail(stdout, 1)})")
    return Timing(label, seconds)


def flush_broker() -> None:
    """Empty this benchmark's Redis database: no task of an interrupted run is redelivered."""
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def start_worker(db_url: str, concurrency: int, log: Path) -> tuple[subprocess.Popen[Any], str]:
    node = f"bench-evaluate-{concurrency}-{secrets.token_hex(3)}@localhost"
    command = [
        str(ROOT / ".venv/bin/celery"), "-A", "gradecraft", "worker",
        "-P", "prefork", "-c", str(concurrency), "--without-gossip", "--without-mingle",
        "-Q", "celery", "--loglevel", "WARNING", "-n", node,
    ]  # fmt: skip
    env = app_env(db_url, CELERY_BROKER_URL=BROKER_URL, CELERY_TASK_ALWAYS_EAGER="False")
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return process, node


def wait_worker(process: subprocess.Popen[Any], node: str, timeout: float = 90) -> None:
    from celery import Celery

    app = Celery(broker=BROKER_URL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited with status {process.returncode}")
            replies = app.control.ping(destination=[node], timeout=1.0) or []
            if any(node in reply for reply in replies):
                return
        raise RuntimeError(f"the worker did not answer a ping within {timeout:.0f} s")
    finally:
        app.close()


def run_via_broker(db_url: str, period: str, concurrency: int) -> Timing:
    label = f"(b{concurrency}) via broker, {concurrency} worker process{'es' * (concurrency > 1)}"
    flush_broker()
    settle(db_url)
    handle, name = tempfile.mkstemp(prefix=f"bench-evaluate-worker-{concurrency}-", suffix=".log")
    os.close(handle)
    log = Path(name)
    process, node = start_worker(db_url, concurrency, log)
    try:
        try:
            wait_worker(process, node)
        except RuntimeError as exc:
            say(f"{label}: FAILED to start the worker: {exc}; log {log}:\n{tail(log.read_text())}")
            return Timing(label, None, "no worker")
        env = app_env(db_url, CELERY_BROKER_URL=BROKER_URL, CELERY_TASK_ALWAYS_EAGER="False")
        seconds, status, stdout, stderr = timed_manage(
            ["evaluate", "--period", period, "--via-broker"], env
        )
    finally:
        stop_group(process)
        flush_broker()
    if status != 0:
        output = stderr or stdout
        missing = "--via-broker" in output and "unrecognized" in output
        note = "--via-broker not available yet" if missing else f"exit {status}"
        say(f"{label}: FAILED ({note}) after {seconds:.2f} s")
        say(tail(output))
        if not missing:
            say(f"  worker log: {log}\n{tail(log.read_text())}")
        return Timing(label, None, note)
    log.unlink(missing_ok=True)
    say(f"{label}: {seconds:.2f} s  ({tail(stdout, 1)})")
    return Timing(label, seconds)
