"""``manage.py evaluate_history --months 12 [--if-missing]``: evaluate the last N months.

Oldest first, so each month's grace and previous level build on the month before. The demo's
``make run`` uses ``--if-missing`` to fill only the months that have no succeeded run yet.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from metrics import runs
from metrics.engine.periods import Period
from metrics.models import RunTrigger
from metrics.runs.chunks import forked_processes
from metrics.web import selectors


class Command(BaseCommand):
    help = "Evaluate the last N completed months, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=12, help="How many months (default 12).")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Skip months that already have a succeeded evaluation run.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        months: int = options["months"]
        if not 1 <= months <= 240:
            raise CommandError("--months must be between 1 and 240.")
        quiet = {}
        if options["verbosity"] < 2:
            # A first run prints one line per month, not a line per task: the eager tasks'
            # "succeeded …: False" (celery.app.trace) and the runs' JSON events stay quiet
            # while the command runs (the levels are put back after: the command may run
            # inside a longer-lived process, such as the test suite).
            for name in ("celery.app.trace", "metrics.runs.events", "notifications"):
                logger = logging.getLogger(name)
                quiet[name] = logger.level
                logger.setLevel(logging.WARNING)
        try:
            # Before the first query: the chunk processes are forked with Django set up, once
            # for every month.
            with forked_processes():
                self._evaluate(months=months, if_missing=options["if_missing"])
        finally:
            for name, level in quiet.items():
                logging.getLogger(name).setLevel(level)

    def _evaluate(self, *, months: int, if_missing: bool) -> None:
        current = Period.containing(timezone.now())
        periods = [current.shifted(-offset) for offset in range(months, 0, -1)]
        done = selectors.succeeded_periods() if if_missing else set()
        for period in periods:
            if str(period) in done:
                self.stdout.write(f"{period}: already evaluated, skipped")
                continue
            try:
                outcome = runs.evaluate_period(period=period, trigger=RunTrigger.MANUAL)
            except runs.RunAlreadyOpen as exc:
                self.stderr.write(f"{period}: {exc} Skipped.")
                continue
            counts = ", ".join(f"{level}: {n}" for level, n in outcome.level_counts.items())
            self.stdout.write(f"{period}: {outcome.seller_count} sellers ({counts})")
