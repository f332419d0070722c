"""The benchmarks cannot rot (issue 23): ``bench.ingest`` and ``bench.evaluate`` run here at a
tiny size, each in a subprocess on a scratch database of their own, and must exit 0 with every
row where they say it is. Their speed is not asserted: the figures at this size mean nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from bench import ingest
from tests.factories import SellerFactory

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 600


def _scratch_url(suffix: str) -> str:
    """A database beside the suite's own (``<name>_bench_<suffix>``), so helpers and CI runs on
    one PostgreSQL server never share one."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "gradecraft"
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}_bench_{suffix}", "", ""))


def _drop(url: str) -> None:
    parts = urlsplit(url)
    admin = psycopg2.connect(urlunsplit((parts.scheme, parts.netloc, "/postgres", "", "")))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
    finally:
        admin.close()


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    return subprocess.run(  # noqa: S603 - our own modules, fixed arguments
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_every_order_the_ingestion_benchmark_sends_is_accepted_by_the_bulk_api(staff_client):
    # given the benchmark's orders (10 % cancelled, the others not) for two sellers
    sellers = [f"bench-s-{i}" for i in range(2)]
    for name in sellers:
        SellerFactory(external_id=name)
    orders = ingest.make_orders(prefix="bench", sellers=sellers, count=200)
    assert any(o.cancelled_by for o in orders) and any(not o.cancelled_by for o in orders)
    # when they are posted as the benchmark posts them
    response = staff_client.post(
        "/api/v1/orders/bulk", [o.as_json() for o in orders], format="json"
    )
    # then all of them are written (before the fix: 400 on cancelled_by "" of every live order)
    assert response.status_code == 200, response.content[:500]
    assert response.json()["created"] == 200


@pytest.mark.postgres
def test_ingestion_benchmark_runs_and_writes_every_order():
    # given a scratch database of this run's own
    url = _scratch_url("ingest")
    _drop(url)
    try:
        # when the benchmark pushes 2,000 orders through the API
        done = _run(["bench.ingest", "--orders", "2000", "--clients", "2"], {"DATABASE_URL": url})
        # then it exits 0 and says every order was written, by the baseline and by the API
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "2 requests:" in done.stdout and "2 OK, created 2,000" in done.stdout
        assert "rows in DB after the API run: 2,000 (expected 2,000) OK" in done.stdout
        assert re.search(r"baseline\s+ORM bulk_create\s+2,000 orders", done.stdout)
    finally:
        _drop(url)


@pytest.mark.postgres
@pytest.mark.worker
def test_evaluation_benchmark_runs_every_step_and_every_metric_matches_the_floor():
    # given a scratch database and the test broker (the benchmark empties it between runs)
    url = _scratch_url("evaluate")
    broker = os.environ.get("WORKER_TEST_BROKER_URL")
    if not broker:
        pytest.skip("WORKER_TEST_BROKER_URL is not set (the Celery runs need a Redis broker)")
    _drop(url)
    try:
        # when the benchmark runs at TINY: generation, the floor, (a), (b1), (b2), the read paths
        done = _run(
            ["bench.evaluate", "--scale", "TINY", "--database-url", url, "--requests", "2"],
            {"BENCH_BROKER_URL": broker},
        )
        out = done.stdout
        # then it exits 0, every run succeeded, and every stored metric equals the floor's
        assert done.returncode == 0, out[-4000:] + done.stderr[-3000:]
        assert "generating TINY: 40 sellers, 2,000 orders, 6,000 messages, 800 reviews" in out
        assert "(c) SQL floor:" in out and "; 40 sellers" in out
        assert "(a) manage.py evaluate: " in out and "40 sellers" in out
        assert "check (a) against (c): 40 sellers x " in out
        assert "check (b2) against (c): 40 sellers x " in out
        assert out.count("metrics: all equal") == 2
        assert re.search(
            r"\(b1\) via broker, 1 worker process: [\d.]+ s .*succeeded, 40 sellers", out
        )
        assert re.search(
            r"\(b2\) via broker, 2 worker processes: [\d.]+ s .*succeeded, 40 sell", out
        )
        assert "FAILED" not in out
    finally:
        _drop(url)


@pytest.mark.postgres
def test_grades_benchmark_exports_and_pages_every_grade():
    # given a scratch database of this run's own
    url = _scratch_url("grades")
    _drop(url)
    try:
        # when the benchmark stores 500 grades and reads them back through /api/v1/grades
        done = _run(["bench.grades", "--scale", "XS", "--repeat", "1", "--database-url", url], {})
        # then every grade was exported (the benchmark checks each line) and paged; its exit
        # status says whether the speed goals were met (1), which is not asserted at this size
        assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
        assert "NDJSON export of 500 grades" in done.stdout, done.stdout[-3000:]
        assert "page of 1,000: p50" in done.stdout
    finally:
        _drop(url)
