"""``manage.py evaluate --period 2026-10 [--dry-run]``: evaluate one month by hand (SPEC §6)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics import runs
from metrics.models import RunTrigger


class Command(BaseCommand):
    help = (
        "Evaluate every seller for a month that has ended, in this process. --dry-run prints "
        "the grade changes (seller: old -> new) and writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="The month, YYYY-MM (e.g. 2026-10).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the grade changes; save nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = runs.parse_completed_period(text=options["period"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        dry_run: bool = options["dry_run"]
        try:
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
