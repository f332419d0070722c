"""``python -m bench.grades``: the grades API at scale (issue 19; SPEC §7 ``GET /api/v1/grades``).

In a scratch database (name containing ``bench``; everything in it is replaced) it stores one
published period for N sellers (S: 10,000), each grade with every SPEC §4 metric, then measures
through the app (Django's test client, in process, authenticated with an API key of scope
``read``):

- the full NDJSON export of the period (``?format=ndjson``): seconds, and the growth of the
  process's peak RSS while it streams (flat memory: the rows go through a server-side cursor);
- pages of 1,000 by cursor: p50 / p95 over every page of the period, repeated;

each against an in-run baseline on the same rows: the raw ``SELECT`` of the export's columns
(psycopg2, every row fetched, no JSON) and a ``COPY ... TO STDOUT`` of them; and the raw
keyset ``SELECT ... LIMIT 1000`` for the page. Goals: export ≤ 2 s, page p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.evaluate.common import (
    SERVER_URL,
    connect,
    database_name,
    database_url,
    drop_database,
    ensure_database,
    run_manage,
    say,
    tail,
)

SCALES = {"XS": 500, "S": 10_000, "L": 100_000}
PERIOD = "2026-10"
GOALS = {"export seconds": 2.0, "page p95 ms": 100.0}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.grades", description=__doc__)
    parser.add_argument("--scale", type=str.upper, choices=sorted(SCALES), default="S")
    parser.add_argument(
        "--database-url",
        help=f"scratch database (name must contain 'bench'), default "
        f"{SERVER_URL}/gradecraft_bench_grades_<scale>",
    )
    parser.add_argument("--repeat", type=int, default=3, help="times each measure is taken")
    parser.add_argument("--keep-data", action="store_true", help="keep the scratch database")
    return parser.parse_args(argv)


def generate(url: str, sellers: int) -> None:
    """Sellers, one succeeded run and one grade per seller, all in SQL."""
    from metrics.engine.registry import METRIC_KEYS, METRICS, Kind

    def value(key: str, i: int) -> str:
        # As the engine stores them: counts and money as ints, rates and averages as exact
        # fractions "n/d" (the slow path of the display rounding); null now and then.
        number = f"(s * {i + 3}) %% 997"
        if METRICS[key].integral or METRICS[key].kind is Kind.MONEY:
            return f"CASE WHEN s %% 7 = 0 THEN NULL ELSE {number} END"
        return f"CASE WHEN s %% 7 = 0 THEN NULL ELSE to_jsonb(({number})::text || '/997') END"

    metrics = ", ".join(f"'{key}', {value(key, i)}" for i, key in enumerate(METRIC_KEYS))
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute(
            "TRUNCATE metrics_sellerevaluation, metrics_evaluationrun, orders_seller CASCADE"
        )
        cur.execute(
            "INSERT INTO orders_seller (external_id, username, display_name, joined_at, "
            "created, modified) SELECT 's-' || lpad(s::text, 6, '0'), 'seller' || s, "
            "'Seller ' || s, timestamptz '2025-01-01', now(), now() "
            "FROM generate_series(1, %s) s",
            [sellers],
        )
        cur.execute(
            "INSERT INTO metrics_evaluationrun (period, status, trigger, kind, policy_snapshot, "
            "created_at, seller_count, level_counts, error, task_id, chunks_total, lease_owner) "
            "VALUES (%s, 'succeeded', 'manual', 'period', '{}', now(), %s, '{}', '', '', 1, '') "
            "RETURNING id",
            [PERIOD, sellers],
        )
        (run_id,) = cur.fetchone()
        cur.execute(
            "INSERT INTO metrics_sellerevaluation (run_id, seller_id, period, level, level_rank, "
            "computed_level, previous_level, at_risk, grace_used, metrics, criteria, next_level, "
            "created_at, updated_at) "
            "SELECT %s, id, %s, (ARRAY['Level 1','Level 2','Level 3','Master'])[1 + s %% 4], "
            "1 + s %% 4, NULL, (ARRAY['Level 1','Level 2','Level 3','Master'])[1 + (s / 3) %% 4], "
            f"s %% 11 = 0, 0, jsonb_build_object({metrics}), '[]', NULL, now(), now() "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) AS s FROM orders_seller) x",
            [run_id, PERIOD],
        )
        cur.execute("ANALYZE")
    conn.close()


def baseline_export(url: str) -> tuple[float, float]:
    """Seconds of the raw SELECT (every row fetched) and of a COPY of the same columns."""
    sql = (
        "SELECT s.external_id, e.period, e.level, e.previous_level, e.at_risk, e.metrics "
        "FROM metrics_sellerevaluation e JOIN orders_seller s ON s.id = e.seller_id "
        f"WHERE e.period = '{PERIOD}' ORDER BY e.seller_id"
    )
    conn = connect(url)
    with conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute(sql)
        cur.fetchall()
        select = time.perf_counter() - started
        sink = io.StringIO()
        started = time.perf_counter()
        cur.copy_expert(f"COPY ({sql}) TO STDOUT", sink)
        copy = time.perf_counter() - started
    conn.close()
    return select, copy


def baseline_pages(url: str) -> list[float]:
    """Milliseconds of each raw keyset page of 1,000 rows."""
    conn = connect(url)
    times = []
    with conn.cursor() as cur:
        after = 0
        while True:
            started = time.perf_counter()
            cur.execute(
                "SELECT e.seller_id, s.external_id, e.period, e.level, e.previous_level, "
                "e.at_risk, e.metrics FROM metrics_sellerevaluation e JOIN orders_seller s "
                "ON s.id = e.seller_id WHERE e.period = %s AND e.seller_id > %s "
                "ORDER BY e.seller_id LIMIT 1001",
                [PERIOD, after],
            )
            rows = cur.fetchall()
            times.append((time.perf_counter() - started) * 1000)
            if len(rows) <= 1000:
                break
            after = rows[999][0]
    conn.close()
    return times


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_app(url: str, sellers: int, repeat: int) -> dict[str, Any]:
    # The served process's start-up, as gunicorn loads it (gradecraft/wsgi.py: django.setup()
    # and the garbage collector's freeze of what start-up loaded).
    from django.test import Client

    import gradecraft.wsgi  # noqa: F401
    from access.models import ApiKey

    ApiKey.objects.filter(name="bench").delete()
    _, secret = ApiKey.objects.create_key(name="bench", scopes=["read"], throttle_rate="1000/s")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    def export() -> tuple[float, int]:
        started = time.perf_counter()
        response = client.get("/api/v1/grades", {"format": "ndjson", "period": PERIOD})
        pieces = response.streaming_content  # type: ignore[attr-defined]
        lines = sum(piece.count(b"\n") for piece in pieces)
        return time.perf_counter() - started, lines

    def pages() -> list[float]:
        times, url_ = [], f"/api/v1/grades?period={PERIOD}&page_size=1000"
        while url_:
            started = time.perf_counter()
            response = client.get(url_)
            times.append((time.perf_counter() - started) * 1000)
            url_ = json.loads(response.content)["next"]  # the client's parsing is not timed
        return times

    pages()  # warm up (imports, connection, plans)
    rss_before = peak_rss_mb()
    exports = []
    for _ in range(repeat):
        seconds, lines = export()
        assert lines == sellers, (lines, sellers)
        exports.append(seconds)
    rss_growth = peak_rss_mb() - rss_before
    page_times = [t for _ in range(repeat) for t in pages()]
    return {"exports": exports, "rss_growth_mb": rss_growth, "pages": page_times}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sellers = SCALES[args.scale]
    url = args.database_url or database_url(
        SERVER_URL, f"gradecraft_bench_grades_{args.scale.lower()}"
    )
    if "bench" not in database_name(url):
        say("refusing: the scratch database's name must contain 'bench'")
        return 2
    ensure_database(url)
    migrated = run_manage(url, "migrate", "--no-input")
    if migrated.returncode != 0:
        say(tail(migrated.stdout + migrated.stderr))
        return 1
    # The app in this process, on the scratch database (development mode: no secret needed).
    os.environ.update(DATABASE_URL=url, DEBUG="True", DEMO="False", LOG_LEVEL="WARNING")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradecraft.settings")
    say(f"scale {args.scale}: {sellers:,} sellers, period {PERIOD}")
    started = time.perf_counter()
    generate(url, sellers)
    say(f"generated in {time.perf_counter() - started:.1f} s")
    selects, copies = zip(*(baseline_export(url) for _ in range(args.repeat)), strict=True)
    raw_pages = [t for _ in range(args.repeat) for t in baseline_pages(url)]
    app = measure_app(url, sellers, args.repeat)
    export_s, select_s, copy_s = min(app["exports"]), min(selects), min(copies)
    page_p95, page_p50, raw_p95 = p95(app["pages"]), statistics.median(app["pages"]), p95(raw_pages)
    say(
        f"NDJSON export of {sellers:,} grades: {export_s:.3f} s (best of {args.repeat}; goal "
        f"<= {GOALS['export seconds']} s) = {export_s / select_s:.1f}x the raw SELECT "
        f"({select_s:.3f} s), {export_s / copy_s:.1f}x a COPY ({copy_s:.3f} s)"
    )
    say(f"peak RSS growth while streaming: {app['rss_growth_mb']:.1f} MB")
    say(
        f"page of 1,000: p50 {page_p50:.1f} ms, p95 {page_p95:.1f} ms (goal <= "
        f"{GOALS['page p95 ms']} ms) = {page_p95 / raw_p95:.1f}x the raw keyset SELECT "
        f"(p95 {raw_p95:.1f} ms), over {len(app['pages'])} pages"
    )
    if not args.keep_data:
        from django.db import connections

        connections.close_all()
        drop_database(url)
    met = export_s <= GOALS["export seconds"] and page_p95 <= GOALS["page p95 ms"]
    say("goals met" if met else "GOALS NOT MET")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
