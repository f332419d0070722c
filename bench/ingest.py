"""Ingestion benchmark: orders/second through ``POST /api/v1/orders/bulk`` against a baseline.

Run from the project root with PostgreSQL configured::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gradecraft python -m bench.ingest [--quick]

1. creates a scratch set of sellers (external ids ``bench-<run>-…``) and a staff token;
2. BASELINE: writes N orders with plain ``Order.objects.bulk_create`` in batches of 1,000 (no
   HTTP, no validation), timed, then deletes them;
3. starts the real app under gunicorn on 127.0.0.1:<free port> (DEBUG=False) and pushes the
   same N orders through the bulk endpoint, 1,000 per request, from a few client threads;
4. prints orders/second for both and the ratio API / baseline, checks the row count;
5. cleans up: its rows, its sellers and user, the gunicorn process.

Exit status: 0 on success, 1 if any request failed or the count is wrong, 2 if refused (not
PostgreSQL). Request bodies are encoded before the clock starts: the API figure measures the
server (parsing, validation, upsert) and the loopback transport, not the client's JSON encoding.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000  # the API's maximum bulk size (SPEC §7)
DEFAULT_ORDERS = 200_000
QUICK_ORDERS = 20_000
SCRATCH_SELLERS = 500
KST = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class OrderData:
    external_id: str
    seller: str
    buyer: str
    amount: Decimal
    created_at: datetime
    due_at: datetime
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: str

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "external_id": self.external_id,
            "seller": self.seller,
            "buyer": self.buyer,
            "amount": str(self.amount),
            "created_at": iso(self.created_at),
            "due_at": iso(self.due_at),
            "delivered_at": iso(self.delivered_at),
            "completed_at": iso(self.completed_at),
            "cancelled_at": iso(self.cancelled_at),
            # The API takes null (or no key) for "not cancelled"; "" is refused (a 400).
            "cancelled_by": self.cancelled_by or None,
        }


@dataclass(frozen=True)
class Outcome:
    ok: bool
    seconds: float
    created: int
    updated: int
    error: str = ""


def make_orders(*, prefix: str, sellers: Sequence[str], count: int) -> list[OrderData]:
    """``count`` valid orders (SPEC §2) with a realistic mix of lifecycles, deterministic."""
    rng = random.Random(20261101)
    base = datetime(2026, 1, 1, 9, 0, tzinfo=KST)
    orders = []
    for i in range(count):
        created = base + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        due = created + timedelta(days=rng.randint(2, 10))
        delivered = completed = cancelled = None
        cancelled_by = ""
        roll = rng.random()
        if roll < 0.10:
            cancelled = created + timedelta(hours=rng.uniform(1, 48))
            cancelled_by = rng.choice(("buyer", "buyer", "buyer", "seller", "admin"))
        elif roll < 0.85:
            delivered = created + timedelta(hours=rng.uniform(4, 300))
            if roll < 0.70:
                completed = delivered + timedelta(hours=rng.uniform(1, 72))
        orders.append(
            OrderData(
                external_id=f"{prefix}-o-{i:07d}",
                seller=rng.choice(sellers),
                buyer=f"{prefix}-b-{rng.randrange(count // 3 + 1):06d}",
                amount=Decimal(rng.randrange(10, 2000) * 1000),
                created_at=created,
                due_at=due,
                delivered_at=delivered,
                completed_at=completed,
                cancelled_at=cancelled,
                cancelled_by=cancelled_by,
            )
        )
    return orders


def chunks(items: Sequence[OrderData], size: int) -> Iterator[Sequence[OrderData]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, token: str, body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post_batch(port: int, token: str, body: bytes) -> Outcome:
    started = time.perf_counter()
    try:
        status, payload = request(port, "POST", "/api/v1/orders/bulk", token, body)
    except OSError as exc:
        return Outcome(False, time.perf_counter() - started, 0, 0, f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - started
    if status != 200:
        return Outcome(False, seconds, 0, 0, f"HTTP {status}: {payload[:300]!r}")
    data = json.loads(payload)
    return Outcome(True, seconds, int(data.get("created", 0)), int(data.get("updated", 0)))


def start_server(*, port: int, workers: int, worker_class: str, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",  # plain HTTP on loopback: no TLS proxy in front
        "THROTTLE_USER": "1000000/minute",  # measure ingestion, not the throttle
        "CONN_MAX_AGE": "60",  # persistent DB connections, as in production
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",  # no collectstatic needed here
    }
    command = [
        sys.executable, "-m", "gunicorn", "gradecraft.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", worker_class, "--threads", str(threads),
        "--timeout", "300", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603


def wait_ready(server: subprocess.Popen, port: int, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            status, body = request(port, "GET", "/api/v1/orders?page_size=1", token)
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        raise RuntimeError(f"server not usable: HTTP {status}: {body[:300]!r}")
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # its own session: the master and its workers
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def ensure_database(connection: Any) -> None:
    """Create the target database on a fresh machine (connecting to the ``postgres`` one)."""
    import psycopg2
    from psycopg2 import sql

    params = connection.get_connection_params()
    name = params.pop("database", None) or params.pop("dbname")
    admin = psycopg2.connect(**{**params, "dbname": "postgres"})
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"created database {name}")
    finally:
        admin.close()


def rate(count: int, seconds: float) -> str:
    return f"{count:>9,} orders in {seconds:7.2f} s = {count / seconds:>9,.0f} orders/s"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="default 200,000")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS:,} orders")
    parser.add_argument("--clients", type=int, default=4, help="client threads (2-4), default 4")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, default 2")
    parser.add_argument(
        "--worker-class", default="sync", choices=("sync", "gthread"), help="default sync"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders = QUICK_ORDERS
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradecraft.settings")
    # This driver process uses the ORM only; production's posture (DEBUG off) wants a key.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from orders.models import Order, Seller

    if connection.vendor != "postgresql":
        print(
            "bench.ingest measures PostgreSQL only: set DATABASE_URL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/gradecraft python -m bench.ingest",
            file=sys.stderr,
        )
        return 2
    ensure_database(connection)
    call_command("migrate", interactive=False, verbosity=0)

    prefix = f"bench-{secrets.token_hex(3)}"
    user_model = get_user_model()
    # A superuser: staff tokens are held to Django's model permissions (issue 19), and the
    # benchmark's integration may do everything an ingestion does.
    staff = user_model.objects.create(username=f"{prefix}-staff", is_staff=True, is_superuser=True)
    token = Token.objects.create(user=staff).key
    joined = datetime(2025, 1, 1, tzinfo=KST)
    Seller.objects.bulk_create(
        Seller(external_id=f"{prefix}-s-{i:04d}", username=f"{prefix}-s-{i:04d}", joined_at=joined)
        for i in range(SCRATCH_SELLERS)
    )
    seller_ids = dict(
        Seller.objects.filter(external_id__startswith=f"{prefix}-s-").values_list(
            "external_id", "id"
        )
    )
    orders = make_orders(prefix=prefix, sellers=sorted(seller_ids), count=args.orders)
    table = Order._meta.db_table

    def scratch_orders() -> int:
        return Order.objects.filter(seller_id__in=seller_ids.values()).count()

    def delete_scratch_orders() -> None:
        with connection.cursor() as cursor:
            # Raw delete: the ORM's collector would load every row to check PROTECTed reviews.
            cursor.execute(
                f"DELETE FROM {table} WHERE seller_id = ANY(%s)",  # noqa: S608 - table from _meta
                [list(seller_ids.values())],
            )
            cursor.execute(f"VACUUM ANALYZE {table}")  # both runs start from a clean table

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0].split()[0]
    server = None
    failures: list[str] = []
    try:
        print(
            f"GradeCraft ingestion benchmark: {args.orders:,} orders in batches of {BATCH:,}, "
            f"PostgreSQL {server_version}, {args.workers} gunicorn "
            f"{args.worker_class} workers, {args.clients} client threads, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        # (b) BASELINE: plain bulk_create, no HTTP, no validation.
        started = time.perf_counter()
        for batch in chunks(orders, BATCH):
            Order.objects.bulk_create(
                [
                    Order(
                        external_id=o.external_id,
                        seller_id=seller_ids[o.seller],
                        buyer=o.buyer,
                        amount=o.amount,
                        created_at=o.created_at,
                        due_at=o.due_at,
                        delivered_at=o.delivered_at,
                        completed_at=o.completed_at,
                        cancelled_at=o.cancelled_at,
                        cancelled_by=o.cancelled_by,
                    )
                    for o in batch
                ]
            )
        baseline_seconds = time.perf_counter() - started
        baseline_count = scratch_orders()
        delete_scratch_orders()
        print(f"baseline  ORM bulk_create     {rate(args.orders, baseline_seconds)}")
        if baseline_count != args.orders:
            failures.append(f"baseline wrote {baseline_count:,} rows, expected {args.orders:,}")

        # (c) the real app under gunicorn, the same orders through the bulk endpoint.
        bodies = [
            json.dumps([o.as_json() for o in batch]).encode() for batch in chunks(orders, BATCH)
        ]
        port = free_port()
        server = start_server(
            port=port, workers=args.workers, worker_class=args.worker_class, threads=args.threads
        )
        try:
            wait_ready(server, port, token)
        except RuntimeError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            outcomes = list(pool.map(lambda body: post_batch(port, token, body), bodies))
        api_seconds = time.perf_counter() - started
        failures += [o.error for o in outcomes if not o.ok]
        created = sum(o.created for o in outcomes)
        latencies = sorted(o.seconds for o in outcomes)
        print(f"API       POST /orders/bulk   {rate(args.orders, api_seconds)}")
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        print(
            f"          {len(outcomes)} requests: median {statistics.median(latencies) * 1000:.0f}"
            f" ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms; "
            f"{len(outcomes) - len([o for o in outcomes if not o.ok])} OK, "
            f"created {created:,}"
        )
        print(f"ratio API / baseline: {baseline_seconds / api_seconds:.2f}")

        # (d) every order is there, once.
        in_db = scratch_orders()
        verdict = "OK" if in_db == args.orders else "MISMATCH"
        print(f"rows in DB after the API run: {in_db:,} (expected {args.orders:,}) {verdict}")
        if in_db != args.orders:
            failures.append(f"{in_db:,} rows in the database, expected {args.orders:,}")
    finally:
        # (e) clean up whatever happened.
        if server is not None:
            stop_server(server)
        delete_scratch_orders()
        Seller.objects.filter(id__in=seller_ids.values()).delete()
        staff.delete()
    if failures:
        print(f"FAILED: {len(failures)} problem(s); first: {failures[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
