"""The embedded SQLite default under concurrent writers (issue 10, finding 5): parallel PUTs
wait their turn (WAL, busy timeout, IMMEDIATE transactions) and none answers 500.

A real file database in a fresh process: the test database of the suite is in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import json, os, sys, threading
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "gradecraft.settings"
django.setup()
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from django.contrib.auth import get_user_model

call_command("migrate", verbosity=0)
staff = get_user_model().objects.create_user("integration", is_staff=True, is_superuser=True)
token = Token.objects.create(user=staff).key
headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
Client().put("/api/v1/sellers/s-1", {"username": "s1", "joined_at": "2026-01-01T00:00:00+09:00"},
             content_type="application/json", **headers)
barrier = threading.Barrier(16)
codes = []

def put(n):
    client = Client()
    body = {"seller": "s-1", "buyer": f"b-{n}", "amount": "1000",
            "created_at": "2026-10-01T10:00:00+09:00"}
    barrier.wait()
    for k in range(5):
        response = client.put(f"/api/v1/orders/o-{n}-{k}", body,
                              content_type="application/json", **headers)
        codes.append(response.status_code)

threads = [threading.Thread(target=put, args=(n,)) for n in range(16)]
for t in threads: t.start()
for t in threads: t.join()
from orders.models import Order
print(json.dumps({"codes": codes, "rows": Order.objects.count()}))
"""


def test_parallel_writers_on_the_embedded_sqlite_default_never_get_a_500(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    codes = outcome["codes"]
    assert len(codes) == 80
    assert codes == [201] * 80, sorted(set(codes))  # every writer waited its turn: no 500
    assert outcome["rows"] == 80


RUN_DURING_BULK = r"""
import json, os, threading
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "gradecraft.settings"
django.setup()
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from django.contrib.auth import get_user_model

call_command("migrate", verbosity=0)
staff = get_user_model().objects.create_user("integration", is_staff=True, is_superuser=True)
token = Token.objects.create(user=staff).key
headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
Client().post("/api/v1/sellers/bulk", [
    {"external_id": f"s-{n}", "username": f"s{n}", "joined_at": "2026-01-01T00:00:00+09:00"}
    for n in range(20)], content_type="application/json", **headers)
barrier = threading.Barrier(2)
bulk_codes, runs = [], []

def ingest():
    client = Client()
    barrier.wait()
    for batch in range(6):
        items = [{"external_id": f"o-{batch}-{k}", "seller": f"s-{k % 20}", "buyer": f"b-{k}",
                  "amount": "1000", "created_at": f"2026-{8 + batch % 3:02d}-05T10:00:00+09:00",
                  "delivered_at": f"2026-{8 + batch % 3:02d}-06T10:00:00+09:00",
                  "completed_at": f"2026-{8 + batch % 3:02d}-07T10:00:00+09:00"}
                 for k in range(1000)]
        bulk_codes.append(client.post("/api/v1/orders/bulk", items,
                                      content_type="application/json", **headers).status_code)

def evaluate():
    client = Client()
    barrier.wait()
    for period in ("2026-08", "2026-09", "2026-10"):
        response = client.post("/api/v1/evaluations", {"period": period},
                               content_type="application/json", **headers)
        run = client.get(f"/api/v1/evaluations/{response.json()['id']}", **headers).json()
        runs.append([response.status_code, run["status"], run["sellers"]])

threads = [threading.Thread(target=ingest), threading.Thread(target=evaluate)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"bulk": bulk_codes, "runs": runs}))
"""


def test_a_run_during_a_bulk_ingest_on_the_embedded_sqlite_default_succeeds(tmp_path):
    """The run waits for the ingest's write lock (and the ingest for the run's): no `database is
    locked` failure, on either side."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", RUN_DURING_BULK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    assert outcome["bulk"] == [200] * 6
    assert outcome["runs"] == [[202, "succeeded", 20]] * 3
