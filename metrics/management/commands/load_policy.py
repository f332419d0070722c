"""``manage.py load_policy NAME``: a marketplace program's preset as the grade policy (issue 12).

``--list`` names the presets; ``--draft`` stores the preset inactive, to edit and preview in
admin before making it active. Activating keeps the previous policy (inactive) for its runs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import AppError
from metrics.policy.presets import all_presets, load_preset


class Command(BaseCommand):
    help = "Load a grade policy preset (a marketplace's seller program): activate it, or --draft."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="The preset's name (see --list).")
        parser.add_argument("--list", action="store_true", help="List the presets and exit.")
        parser.add_argument(
            "--draft",
            action="store_true",
            help="Create the policy inactive instead of making it the active policy.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for preset in all_presets():
                self.stdout.write(f"{preset.name}\t{preset.policy.get('name', '')}")
            return
        name = options["name"]
        if not name:
            raise CommandError("Give a preset name, or --list to see them.")
        try:
            policy = load_preset(name=name, activate=not options["draft"])
        except AppError as exc:
            raise CommandError(str(exc)) from exc
        if options["draft"]:
            self.stdout.write(
                f"Created the inactive draft “{policy.name}” (#{policy.pk}) from preset {name}."
            )
        else:
            self.stdout.write(
                f"“{policy.name}” (#{policy.pk}, preset {name}) is now the active policy; "
                "the previous one was kept, inactive."
            )
