"""``manage.py evaluate --period 2026-10 [--dry-run | --via-broker]``: evaluate one month by hand
(SPEC §6), in this process or through the Celery workers."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import EvaluationRun, RunStatus, RunTrigger
from metrics.runs import progress
from metrics.runs.chunks import forked_processes


class Command(BaseCommand):
    # The monthly job: the web process and `manage.py check --deploy` run the system checks;
    # skipping them here saves ~0.2 s of every run (measured at scale S).
    requires_system_checks: list[str] = []
    help = (
        "Evaluate every seller for a month that has ended, in this process. --dry-run prints "
        "the grade changes (seller: old -> new) and writes nothing. --via-broker hands the run "
        "to the Celery workers instead and waits for it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="The month, YYYY-MM (e.g. 2026-10).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the grade changes; save nothing."
        )
        parser.add_argument(
            "--via-broker",
            action="store_true",
            help="Queue the run for the Celery workers (CELERY_BROKER_URL) and wait until it "
            "has succeeded or failed; exits non-zero if it failed.",
        )
        parser.add_argument(
            "--timeout", type=float, default=3600, help="Seconds --via-broker waits at most."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = runs.parse_completed_period(text=options["period"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        dry_run: bool = options["dry_run"]
        if options["via_broker"]:
            self._via_broker(period=period, timeout=options["timeout"])
            return
        try:
            # Before the first query: the chunk processes are forked with Django set up.
            with nullcontext() if dry_run else forked_processes():
                outcome = runs.evaluate_period(
                    period=period, trigger=RunTrigger.MANUAL, dry_run=dry_run
                )
        except runs.RunAlreadyOpen as exc:
            raise CommandError(str(exc)) from exc
        for change in outcome.changes:
            self.stdout.write(str(change))
        counts = ", ".join(f"{level}: {n}" for level, n in outcome.level_counts.items())
        if dry_run:
            self.stdout.write(
                f"Dry run of {period}: {outcome.seller_count} sellers, "
                f"{len(outcome.changes)} grade changes ({counts}). Nothing was saved."
            )
        else:
            run_id = outcome.run.pk if outcome.run else None
            self.stdout.write(
                self.style.SUCCESS(
                    f"Evaluated {period} (run {run_id}): {outcome.seller_count} sellers, "
                    f"{len(outcome.changes)} grade changes ({counts})."
                )
            )

    def _via_broker(self, *, period: Period, timeout: float) -> None:
        try:
            run = runs.request_run(period=period, trigger=RunTrigger.MANUAL)
        except runs.RunAlreadyOpen as exc:
            raise CommandError(str(exc)) from exc
        deadline = time.monotonic() + timeout
        while True:
            run = EvaluationRun.objects.get(pk=run.pk)
            if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"Run {run.pk} of {period} still {run.status} after {timeout}s.")
            time.sleep(0.2)
        done = progress(run)
        summary = (
            f"Run {run.pk} of {period}: {run.status}, {run.seller_count} sellers, "
            f"{done.chunks_done}/{done.chunks_total} chunks."
        )
        if run.status == RunStatus.FAILED:
            raise CommandError(f"{summary} {run.error}")
        self.stdout.write(self.style.SUCCESS(summary))
