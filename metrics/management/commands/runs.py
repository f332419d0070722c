"""``manage.py runs [--period 2026-10] [--limit 20]``: the evaluation runs, newest first, with
their status, progress and duration (issue 10: operations)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from metrics.models import EvaluationRun
from metrics.runs import progress, with_progress


class Command(BaseCommand):
    help = "List the evaluation runs, newest first: status, progress, sellers, duration, error."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="Only this month, YYYY-MM.")
        parser.add_argument("--limit", type=int, default=20, help="How many runs (default 20).")

    def handle(self, *args: Any, **options: Any) -> None:
        runs = with_progress(EvaluationRun.objects.order_by("-created_at", "-id"))
        if options["period"]:
            runs = runs.filter(period=options["period"])
        rows = list(runs[: max(options["limit"], 0)])
        if not rows:
            self.stdout.write("No evaluation runs.")
            return
        self.stdout.write(
            f"{'id':>5}  {'period':7}  {'status':9}  {'trigger':8}  {'chunks':>9}  "
            f"{'sellers':>7}  {'started':25}  {'took':>8}  error"
        )
        for run in rows:
            done = progress(run)
            chunks = f"{done.chunks_done}/{done.chunks_total}"
            took = ""
            if run.started_at and run.finished_at:
                took = f"{(run.finished_at - run.started_at).total_seconds():.1f}s"
            started = run.started_at.isoformat(timespec="seconds") if run.started_at else "-"
            self.stdout.write(
                f"{run.pk:>5}  {run.period:7}  {run.status:9}  {run.trigger:8}  {chunks:>9}  "
                f"{done.sellers_done:>7}  {started:25}  {took:>8}  {run.error[:60]}"
            )
