"""``GET /healthz`` (SPEC §7): is the service able to work? No authentication, no input.

200 ``{"status": "ok", "database": "ok", "broker": "ok" | "eager", "last_run": {...} | null}``;
503 with ``"status": "error"`` and the failing part's message otherwise. The broker is "eager"
when tasks run in-process (the embedded default, no broker configured).
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from metrics.models import EvaluationRun

BROKER_TIMEOUT_SECONDS = 2


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _broker() -> str:
    if current_app.conf.task_always_eager:
        return "eager"
    try:
        with current_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the broker is "not ok"
        return f"error: {type(exc).__name__}"
    return "ok"


def _last_run() -> dict[str, Any] | None:
    run = EvaluationRun.objects.only("period", "status", "finished_at").first()
    if run is None:
        return None
    finished = run.finished_at.isoformat() if run.finished_at else None
    return {"period": run.period, "status": run.status, "finished": finished}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    broker = _broker()
    healthy = database == "ok" and broker in ("ok", "eager")
    body: dict[str, Any] = {
        "status": "ok" if healthy else "error",
        "database": database,
        "broker": broker,
        "last_run": _last_run() if database == "ok" else None,
    }
    return JsonResponse(body, status=200 if healthy else 503)
