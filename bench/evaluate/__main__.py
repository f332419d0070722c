"""``python -m bench.evaluate``: see the package docstring (``bench/evaluate/__init__.py``)."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from typing import Any

from . import compare, dataset, engine, floor, reads
from .common import (
    SCALES,
    SERVER_URL,
    Period,
    Policy,
    connect,
    database_name,
    database_url,
    drop_database,
    ensure_database,
    read_policy,
    run_manage,
    say,
    set_own_windows,
    stopwatch,
    tail,
)
from .engine import Timing
from .floor import Metrics

GOALS = {"(a)": 1.5, "(b2)": 2.0}  # engine time / floor time


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evaluate",
        description="Benchmark of the monthly evaluation engine against a hand-written SQL "
        "floor, with an exact check of every metric of every seller.",
    )
    parser.add_argument("--scale", type=str.upper, choices=sorted(SCALES), default="S",
                        help="TINY (smoke), XS, S (default) or L (x10 messages)")  # fmt: skip
    parser.add_argument("--period", default="2026-10", help="YYYY-MM, default 2026-10")
    parser.add_argument(
        "--database-url",
        help=f"scratch database (its name must contain 'bench'; everything in it is replaced), "
        f"default {SERVER_URL}/gradecraft_bench_<scale>",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the scratch database at the end (a later run then skips the generation)",
    )
    parser.add_argument(
        "--skip-generate",
        action="store_true",
        help="use whatever data the scratch database holds, never generate",
    )
    parser.add_argument("--requests", type=int, default=50, help="timed requests per read path")
    parser.add_argument("--no-broker", action="store_true", help="skip (b), the Celery runs")
    parser.add_argument("--no-reads", action="store_true", help="skip the read paths")
    parser.add_argument(
        "--one-window",
        action="store_true",
        help="grade over the policy window only (default: two criteria have windows of their "
        "own, 60 and 30 days, so the policy uses three distinct windows: SPEC §5)",
    )
    args = parser.parse_args(argv)
    try:
        args.period = Period.parse(args.period)
    except ValueError as exc:
        parser.error(str(exc))
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    args.database_url = args.database_url or database_url(
        SERVER_URL, f"gradecraft_bench_{args.scale.lower()}"
    )
    return args


def ratio(timing: Timing, floor_seconds: float) -> str:
    return f"{timing.seconds / floor_seconds:8.2f}" if timing.seconds is not None else "       -"


def summary(floor_seconds: float, timings: list[Timing], *, judged: bool = True) -> list[str]:
    lines = [
        "summary (ratio = engine time / floor time):",
        f"  {'run':<40} {'seconds':>8} {'ratio':>8}  goal",
        f"  {'(c) SQL floor, best of 2':<40} {floor_seconds:8.2f} {1:8.2f}",
    ]
    for t in timings:
        key = t.label.split()[0]
        goal = GOALS.get(key) if judged else None
        verdict = "" if judged else "(not judged at this scale)"
        if goal is not None:
            met = t.seconds is not None and t.seconds <= goal * floor_seconds
            verdict = f"<= {goal:.1f} x (c): {'met' if met else 'MISSED'}"
        seconds = f"{t.seconds:8.2f}" if t.seconds is not None else f"{'-':>8}"
        note = f" ({t.note})" if t.note else ""
        lines.append(f"  {t.label:<40} {seconds} {ratio(t, floor_seconds)}  {verdict}{note}")
    return lines


def prepare_database(args: argparse.Namespace) -> bool:
    """Create (or rebuild) and migrate the scratch database; True if this run created it."""
    db_url: str = args.database_url
    created = ensure_database(db_url)
    if not created and not args.skip_generate:
        conn = connect(db_url)
        with conn.cursor() as cursor:
            marker = dataset.read_marker(cursor)
        conn.close()
        if marker is None or marker.migrations != dataset.schema_fingerprint():
            # Django cannot tell that an unreleased migration was edited: build afresh.
            say("the scratch database was built with other migrations: recreating it")
            drop_database(db_url)
            created = ensure_database(db_url)
    migrated = run_manage(db_url, "migrate", "--noinput")
    if migrated.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{tail(migrated.stderr or migrated.stdout)}")
    return created


def ensure_dataset(conn: Any, args: argparse.Namespace, policy: Policy) -> bool:
    """Reuse the data if it is this scale's and period's, else generate; True if generated."""
    period: Period = args.period
    scale = SCALES[args.scale]
    with conn.cursor() as cursor:
        marker = dataset.dataset_ready(cursor, scale=scale, period=period)
        if marker is not None or args.skip_generate:
            counts = dataset.current_counts(cursor)
            say(
                "using the data already there: {:,} sellers, {:,} orders, {:,} messages, "
                "{:,} reviews".format(*counts)
            )
            if counts[0] == 0:
                raise RuntimeError("the database is empty: run without --skip-generate")
            return False
        seconds = dataset.generate(conn, scale=scale, period=period, policy=policy)
        say(f"generation: {seconds:.1f} s")
        for line in dataset.describe(cursor, period):
            say(f"  {line}")
        return True


def time_floor(
    cursor: Any, period: Period, policy: Policy
) -> tuple[float, dict[int, Metrics], dict[int, dict[str, Any]]]:
    """(c), twice: the first run reads the data into the cache, as it is for the engine's runs
    that follow; the better time counts."""
    times = []
    rows: list[tuple[Any, ...]] = []
    for _ in range(2):
        with stopwatch() as elapsed:
            rows = floor.fetch(cursor, period=period, policy=policy)
        times.append(elapsed[0])
    expected = floor.to_metrics(rows, period=period)
    own = floor.own_metrics(rows, policy=policy)
    say(
        f"(c) SQL floor: {min(times):.2f} s, best of 2 "
        f"({', '.join(f'{t:.2f}' for t in times)}); {len(expected):,} sellers"
    )
    return min(times), expected, own


def time_engine(
    cursor: Any,
    args: argparse.Namespace,
    expected: dict[int, Metrics],
    own: dict[int, dict[str, Any]],
) -> tuple[list[Timing], list[str]]:
    """(a) then (b1), (b2); the stored results checked against the floor after (a) and (b2)."""
    period = str(args.period)
    db_url: str = args.database_url
    failures: list[str] = []
    cursor.execute("SELECT id, external_id FROM orders_seller")
    names = dict(cursor.fetchall())

    def check(label: str) -> None:
        stored = compare.stored_metrics(cursor, period)
        result = compare.compare(floor=expected, stored=stored, names=names)
        for line in compare.report(result, label=label):
            say(line)
        if not result.ok:
            failures.append(f"{label}: {result.problems():,} problems")
        if any(own.values()):
            differ = compare.compare_own(floor=own, stored=compare.stored_own(cursor, period))
            keys = sorted({key for values in own.values() for key in values})
            say(
                f"check {label}, criterion windows: {len(own):,} sellers x {', '.join(keys)}: "
                + ("all equal" if not differ else f"{len(differ):,} problems")
            )
            for line in differ[:5]:
                say(line)
            if differ:
                failures.append(f"{label} criterion windows: {len(differ):,} problems")

    timings = [engine.run_eager(db_url, period)]
    if timings[-1].seconds is not None:
        check("(a) against (c)")
    else:
        failures.append("(a) failed")
    if not args.no_broker:
        for workers in (1, 2):
            timings.append(engine.run_via_broker(db_url, period, workers))
            if timings[-1].seconds is None:
                failures.append(f"(b{workers}) {timings[-1].note}")
        if timings[-1].seconds is not None:
            check("(b2) against (c)")
    return timings, failures


def time_reads(cursor: Any, args: argparse.Namespace, secret_key: str) -> list[str]:
    """The read paths for the biggest and the median seller (by orders); the failures."""
    cursor.execute(
        "SELECT s.external_id, s.display_name FROM orders_seller s"
        " LEFT JOIN orders_order o ON o.seller_id = s.id"
        " GROUP BY s.id ORDER BY count(o.id), s.id"
    )
    by_size = cursor.fetchall()
    sellers = reads.Sellers(
        top=by_size[-1][0], median=by_size[len(by_size) // 2][0], names=dict(by_size)
    )
    say(f"read paths for the biggest seller {sellers.top}, median {sellers.median}")
    reads.setup_django(args.database_url, secret_key)
    latencies = reads.run(
        db_url=args.database_url,
        sellers=sellers,
        period=str(args.period),
        requests=args.requests,
        secret_key=secret_key,
    )
    for line in reads.report(latencies, requests=args.requests):
        say(line)
    return [f"{r.label}: {r.errors} errors" for r in latencies if r.errors]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    period: Period = args.period
    db_url: str = args.database_url
    say(
        f"GradeCraft evaluation benchmark: scale {args.scale}, period {period}, "
        f"database {db_url}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    if "bench" not in database_name(db_url):
        say(f"refused: {db_url} is not a scratch database (its name must contain 'bench')")
        return 2
    failures: list[str] = []
    created = generated = False
    conn = None
    try:
        created = prepare_database(args)
        conn = connect(db_url)
        with conn.cursor() as cursor:
            set_own_windows(cursor, enabled=not args.one_window)
            policy = read_policy(cursor)
            say(f"active policy: {policy.describe(period)}")
            generated = ensure_dataset(conn, args, policy)
            floor_seconds, expected, own = time_floor(cursor, period, policy)
            timings, failures = time_engine(cursor, args, expected, own)
            if not args.no_reads:
                failures += time_reads(cursor, args, secrets.token_urlsafe(50))
            for line in summary(floor_seconds, timings, judged=args.scale != "TINY"):
                say(line)
    except RuntimeError as exc:
        failures.append(str(exc))
    finally:
        if conn is not None:
            conn.close()
        if (created or generated) and not args.keep_data:
            from django.conf import settings as django_settings

            if "django" in sys.modules and django_settings.configured:  # the read paths ran
                from django.db import connections

                connections.close_all()
            drop_database(db_url)
            say("dropped the scratch database (keep it with --keep-data)")
    say(f"load average at the end {os.getloadavg()[0]:.1f}")
    if failures:
        say(f"FAILED: {'; '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
