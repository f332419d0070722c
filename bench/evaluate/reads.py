"""Read paths under gunicorn on the benchmark's data: dashboard, preview, grade, evidence.

The app runs as in production (``gunicorn -w 2``, ``DEBUG=False``, persistent database
connections, eager tasks) on 127.0.0.1. Requests are sequential over loopback, a new connection
each (gunicorn's sync workers close it anyway): 5 warm-ups, then ``--requests`` timed ones per
path. The baseline in the same run is ``GET /login/``: a template render with no query. The
very first request of each path is shown apart ("first"): it pays for whatever the app computes
on demand and then keeps (a seller's month-to-date preview).
"""

from __future__ import annotations

import http.client
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from .common import ROOT, app_env, free_port, stop_group

WARMUPS = 5
STAFF = "bench-evaluate-staff"


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    headers: dict[str, str]
    expect: bytes = b""  # must be in the body: the page is the one we mean to time


@dataclass(frozen=True)
class Latency:
    label: str
    first_ms: float  # the very first request: before any warm-up (a preview computed on demand)
    p50_ms: float
    p95_ms: float
    size: int
    errors: int
    first_error: str = ""


@dataclass(frozen=True)
class Sellers:
    top: str  # external ids
    median: str
    names: dict[str, str]  # external id -> display name (shown on the dashboard)


def prepare_users(sellers: Sellers) -> tuple[str, dict[str, str]]:
    """A staff user with a DRF token, and a dashboard login (a session) for each seller.

    Runs in this process on the scratch database (Django is set up by the caller with the same
    SECRET_KEY as the server: the session carries a hash of it). Returns (token, {external id:
    session key}).
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    from orders.models import Seller

    staff, _ = User.objects.get_or_create(
        username=STAFF, defaults={"is_staff": True, "is_superuser": True}
    )
    token, _ = Token.objects.get_or_create(user=staff)
    sessions = {}
    for role, external_id in (("top", sellers.top), ("median", sellers.median)):
        user, _ = User.objects.get_or_create(username=f"bench-evaluate-{role}")
        Seller.objects.filter(user=user).exclude(external_id=external_id).update(user=None)
        Seller.objects.filter(external_id=external_id).update(user=user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        assert session.session_key is not None
        sessions[external_id] = session.session_key
    return token.key, sessions


def forget_sessions(keys: list[str]) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=keys).delete()


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_server(db_url: str, port: int, secret_key: str) -> subprocess.Popen[Any]:
    env = app_env(
        db_url,
        DEBUG="False",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",  # plain HTTP on loopback: no TLS proxy in front
        THROTTLE_USER="1000000/minute",  # measure the pages, not the throttle
        THROTTLE_ANON="1000000/minute",
        CONN_MAX_AGE="60",  # persistent database connections, as in production
    )
    command = [
        sys.executable, "-m", "gunicorn", "gradecraft.wsgi:application", "-w", "2",
        "-b", f"127.0.0.1:{port}", "--timeout", "300", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603


def wait_ready(server: subprocess.Popen[Any], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            status, _ = get(port, "/login/", {})
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        raise RuntimeError(f"GET /login/ answered {status}")
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


def measure(port: int, target: Target, requests: int) -> Latency:
    errors, first_error, size = 0, "", 0
    timings, first = [], 0.0
    for i in range(WARMUPS + requests):
        started = time.perf_counter()
        try:
            status, body = get(port, target.path, target.headers)
        except OSError as exc:
            status, body = 0, str(exc).encode()
        elapsed = time.perf_counter() - started
        if status != 200 or target.expect not in body:
            errors += 1
            first_error = first_error or f"HTTP {status}: {body[:200]!r}"
        size = len(body)
        if i == 0:
            first = elapsed * 1000
        if i >= WARMUPS:
            timings.append(elapsed * 1000)
    timings.sort()
    p95 = timings[max(0, math.ceil(0.95 * len(timings)) - 1)]
    return Latency(target.label, first, statistics.median(timings), p95, size, errors, first_error)


def targets(*, token: str, sessions: dict[str, str], sellers: Sellers, period: str) -> list[Target]:
    api = {"Authorization": f"Token {token}", "Accept": "application/json"}
    found = [Target("baseline GET /login/", "/login/", {})]
    for role, external_id in (("top", sellers.top), ("median", sellers.median)):
        cookie = {"Cookie": f"sessionid={sessions[external_id]}"}
        base = f"/api/v1/sellers/{external_id}"
        found += [
            Target(f"dashboard GET / ({role})", "/", cookie, sellers.names[external_id].encode()),
            Target(f"preview ({role})", f"{base}/grade/preview", api),
            Target(f"grade ({role})", f"{base}/grade", api),
            Target(
                f"evidence on_time_rate ({role})",
                f"{base}/evidence?period={period}&metric=on_time_rate",
                api,
            ),
        ]
    return found


def run(
    *, db_url: str, sellers: Sellers, period: str, requests: int, secret_key: str
) -> list[Latency]:
    token, sessions = prepare_users(sellers)
    port = free_port()
    server = start_server(db_url, port, secret_key)
    try:
        wait_ready(server, port)
        return [
            measure(port, target, requests)
            for target in targets(token=token, sessions=sessions, sellers=sellers, period=period)
        ]
    finally:
        stop_group(server)
        forget_sessions(list(sessions.values()))


def report(results: list[Latency], *, requests: int) -> list[str]:
    baseline = results[0].p50_ms
    lines = [
        f"read paths: {requests} sequential requests each after {WARMUPS} warm-ups, "
        f"gunicorn -w 2, loopback; ratio = p50 / baseline p50",
        f"  {'path':<34} {'first ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7} {'bytes':>9}",
    ]
    for r in results:
        lines.append(
            f"  {r.label:<34} {r.first_ms:8.1f} {r.p50_ms:8.1f} {r.p95_ms:8.1f} "
            f"{r.p50_ms / baseline:7.1f} "
            f"{r.size:9,}" + (f"  {r.errors} ERRORS, first: {r.first_error}" if r.errors else "")
        )
    by_label = {r.label: r for r in results}
    for label, goal in (("dashboard GET / (top)", 50.0), ("dashboard GET / (median)", 50.0),
                        ("preview (top)", 100.0)):  # fmt: skip
        r = by_label[label]
        verdict = "met" if r.p95_ms <= goal and not r.errors else "MISSED"
        lines.append(f"  goal: {label} p95 <= {goal:.0f} ms: {r.p95_ms:.1f} ms {verdict}")
    return lines


def setup_django(db_url: str, secret_key: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ["SECRET_KEY"] = secret_key
    os.environ["DEBUG"] = "False"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradecraft.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
