"""`make up`'s process layout (issue 10 #3): the Procfile started by honcho, as scripts/up.sh
does, with the production settings (DEBUG off) on the suite's PostgreSQL test database and a
Redis database of its own: gunicorn answers /healthz, the beat starts once, and two workers
share a run's chunks through the broker until the period is published."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from metrics.models import EvaluationRun, RunStatus, SellerEvaluation
from tests.metrics.test_reliability import _free_port
from tests.metrics.test_runs import given_policy
from tests.metrics.test_worker import BROKER_URL, _database_url, given_sellers

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _http(url: str, *, method: str = "GET", token: str | None = None, body: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Host": "127.0.0.1"}
        | ({"Authorization": f"Token {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return response.status, json.loads(response.read())


def _wait_healthy(base: str, stack: subprocess.Popen[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert stack.poll() is None, "the stack stopped"
        try:
            status, body = _http(f"{base}/healthz")
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("the web process never answered /healthz")


def _wait_workers(broker: str, names: set[str], stack: subprocess.Popen[str], timeout: float = 60):
    """Until every worker in ``names`` answers a ping on ``broker`` (consuming, not just started):
    a run sent before the second one listens is all taken by the first."""
    from celery import Celery

    app = Celery(broker=broker)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if stack.poll() is not None:
                raise AssertionError("the stack exited before its workers answered")
            answered = {
                node.split("@", 1)[0] for reply in app.control.ping(timeout=1.0) for node in reply
            }
            if names <= answered:
                return
        raise AssertionError(f"workers {sorted(names)} never all answered a ping")
    finally:
        app.close()


def test_the_procfile_stack_serves_and_two_workers_publish_a_run():
    given_policy()
    given_sellers(12)
    staff = get_user_model().objects.create_user("ops", is_staff=True, is_superuser=True)
    token = Token.objects.create(user=staff).key
    broker = BROKER_URL.rsplit("/", 1)[0] + "/13"
    redis.Redis.from_url(broker).flushdb()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))},
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "gradecraft.settings",
        "DEBUG": "False",
        "DEMO": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": BROKER_URL.rsplit("/", 1)[0] + "/12",
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "2",
        "EVALUATION_CHUNK_SIZE": "2",  # six chunks for the two workers to share
    }
    stack = subprocess.Popen(  # noqa: S603 - honcho from our venv, our Procfile
        [str(VENV_BIN / "honcho"), "start", "-f", "Procfile", "-c", "worker=2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    log = ""
    try:
        health = _wait_healthy(base, stack)
        assert health["status"] == "ok" and health["broker"] == "ok", health
        _wait_workers(broker, {"worker.1", "worker.2"}, stack)

        status, started = _http(
            f"{base}/api/v1/evaluations", method="POST", token=token, body={"period": "2026-10"}
        )
        assert status == 202
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run = EvaluationRun.objects.get(pk=started["id"])
            if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                break
            time.sleep(0.2)
        status, shown = _http(f"{base}/api/v1/evaluations/{started['id']}", token=token)
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            log = stack.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            log = stack.communicate()[0]
        print(log[-8000:])

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert shown["status"] == "succeeded" and shown["progress"]["chunks_done"] == 6
    assert SellerEvaluation.objects.filter(period="2026-10").count() == 12
    chunk_tasks = re.findall(r"^\S+ (worker\.\d) .*evaluate_chunk\[.*\] succeeded", log, re.M)
    assert set(chunk_tasks) == {"worker.1", "worker.2"}, "both workers took chunks"
    assert len(re.findall(r"beat: Starting", log)) == 1
