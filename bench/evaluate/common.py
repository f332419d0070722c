"""Shared pieces of ``bench.evaluate``: scales, periods and windows, databases, processes.

Periods and windows are computed here from SPEC §3 on purpose, not imported from
``metrics.engine.periods``: the SQL floor must be an independent reading of the SPEC.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
# This benchmark's own Redis database (the smoke test gives it another: BENCH_BROKER_URL).
BROKER_URL = os.environ.get("BENCH_BROKER_URL") or "redis://127.0.0.1:6379/13"
TIME_ZONE = ZoneInfo(os.environ.get("TIME_ZONE") or "Asia/Seoul")  # the app's default (SPEC §3)


@dataclass(frozen=True)
class Scale:
    name: str
    sellers: int
    orders: int
    messages: int
    reviews: int


SCALES = {
    # TINY: the smoke test's (tests/bench): every step runs, in seconds; its times mean nothing.
    "TINY": Scale("TINY", sellers=40, orders=2_000, messages=6_000, reviews=800),
    "XS": Scale("XS", sellers=300, orders=30_000, messages=90_000, reviews=12_000),
    "S": Scale("S", sellers=10_000, orders=1_000_000, messages=3_000_000, reviews=400_000),
    "L": Scale("L", sellers=10_000, orders=1_000_000, messages=30_000_000, reviews=400_000),
}


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month in TIME_ZONE: [start, cutoff) (SPEC §3)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            year, month = (int(part) for part in text.split("-"))
        except ValueError:
            raise ValueError(f"period {text!r} is not YYYY-MM") from None
        if not 1 <= month <= 12 or year < 1900:
            raise ValueError(f"period {text!r} is not YYYY-MM")
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shifted(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=TIME_ZONE)

    @property
    def cutoff(self) -> datetime:
        return self.shifted(1).start


# The criteria the benchmark gives windows of their own (SPEC §5), so that its policy uses three
# distinct windows (the policy's three months, 60 and 30 days): (level, metric, days).
OWN_WINDOWS = (("Level 3", "success_rate", 60), ("Level 2", "response_rate", 30))


def set_own_windows(cursor: Any, *, enabled: bool) -> None:
    """Give the active policy's OWN_WINDOWS criteria their own windows (or none)."""
    for level, metric, days in OWN_WINDOWS:
        cursor.execute(
            "UPDATE metrics_criterion c SET window_days = %s FROM metrics_gradelevel l,"
            " metrics_gradepolicy p WHERE c.level_id = l.id AND l.policy_id = p.id"
            " AND p.is_active AND l.name = %s AND c.metric = %s",
            [days if enabled else None, level, metric],
        )


@dataclass(frozen=True)
class Policy:
    """The window fields of the active grade policy (SPEC §5)."""

    window_months: int | None
    window_days: int | None
    response_window_hours: int
    # (metric, days) of each criterion with a window of its own, distinct pairs, sorted.
    own: tuple[tuple[str, int], ...] = ()

    def own_start(self, period: Period, days: int) -> datetime:
        return period.cutoff - timedelta(days=days)

    def window_start(self, period: Period) -> datetime | None:
        """Start of the rolling window of ``period``; None = all time before the cutoff."""
        if self.window_days:  # when set it wins: the N days before the cutoff
            return period.cutoff - timedelta(days=self.window_days)
        if not self.window_months:
            return None
        return period.shifted(1 - self.window_months).start

    def describe(self, period: Period) -> str:
        start = self.window_start(period)
        window = f"[{start:%Y-%m-%d %H:%M}, cutoff)" if start else "all time before the cutoff"
        own = "".join(f", {metric} over {days} days" for metric, days in self.own)
        return f"window {window}, response window {self.response_window_hours} h{own}"


def read_policy(cursor: Any) -> Policy:
    cursor.execute(
        "SELECT id, window_months, window_days, response_window_hours FROM metrics_gradepolicy"
        " WHERE is_active"
    )
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("no active grade policy in metrics_gradepolicy")
    cursor.execute(
        "SELECT DISTINCT c.metric, c.window_days FROM metrics_criterion c"
        " JOIN metrics_gradelevel l ON l.id = c.level_id"
        " WHERE l.policy_id = %s AND c.window_days IS NOT NULL ORDER BY 1, 2",
        [row[0]],
    )
    return Policy(
        window_months=row[1],
        window_days=row[2],
        response_window_hours=row[3],
        own=tuple((metric, int(days)) for metric, days in cursor.fetchall()),
    )


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def connect(url: str) -> Any:
    """A psycopg2 connection in UTC with JIT off (the app's setting: JIT costs more than it
    saves on these queries) and no statement timeout."""
    conn = psycopg2.connect(url, options="-c jit=off -c TimeZone=UTC")
    conn.autocommit = True
    return conn


def ensure_database(url: str) -> bool:
    """Create the database of ``url`` if missing (connecting to ``postgres``); True if created."""
    name = database_name(url)
    admin = connect(database_url(url, "postgres"))
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is not None:
                return False
            cursor.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        admin.close()


def drop_database(url: str) -> None:
    admin = connect(database_url(url, "postgres"))
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    finally:
        admin.close()


def app_env(db_url: str, **extra: str) -> dict[str, str]:
    """Environment of an app subprocess on the scratch database: eager tasks unless ``extra``
    names a broker; nothing inherited that could point it elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")
    }
    env.setdefault("SECRET_KEY", _SECRET_KEY)  # production's posture (DEBUG off) wants one
    env.update(
        DATABASE_URL=db_url,
        DEBUG="False",
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore:No directory at:UserWarning",  # no collectstatic needed
    )
    env.update(extra)
    return env


_SECRET_KEY = secrets.token_urlsafe(50)


def manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


def run_manage(db_url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        manage(*args), cwd=ROOT, env=app_env(db_url, **extra_env), capture_output=True, text=True
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_group(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Stop a process started with ``start_new_session=True`` and all its children."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed: ...``; then ``elapsed[0]`` holds the seconds."""
    elapsed = [0.0]
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - started


def say(text: str = "") -> None:
    print(text, flush=True)


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
