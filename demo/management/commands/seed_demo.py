"""``manage.py seed_demo``: load realistic, deterministic demo data (see demo/world.py)."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from demo import world as demo


class Command(BaseCommand):
    help = (
        "Load realistic demo data (sellers, orders, conversations, reviews) ending now, "
        "plus the staff login, the demo seller login and a staff API token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="default 42")
        parser.add_argument("--sellers", type=int, default=demo.DEFAULT_SELLERS, help="default 300")
        parser.add_argument(
            "--months", type=int, default=demo.DEFAULT_MONTHS, help="months of history, 14"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if the database is not empty (sellers or users exist)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sellers"] < 1 or options["months"] < 1:
            raise CommandError("--sellers and --months must be at least 1.")
        if not getattr(settings, "DEMO", False):
            # Documented passwords and a superuser have no place outside demo mode.
            raise CommandError("seed_demo runs only in demo mode (DEBUG=True, or DEMO=True).")
        started = time.monotonic()
        try:
            result = demo.seed_demo(
                seed=options["seed"],
                sellers=options["sellers"],
                months=options["months"],
                now=timezone.now(),
                if_empty=options["if_empty"],
            )
        except ValueError as error:
            raise CommandError(
                "The database is not empty (sellers or users exist): seed_demo loads a fresh demo "
                "world only and never touches existing data. Use --if-empty to skip, or empty "
                "the database first (manage.py flush)."
            ) from error
        if result.seeded:
            self.stdout.write(
                f"Seeded {result.sellers} sellers, {result.orders} orders, {result.messages} "
                f"messages, {result.reviews} reviews in {time.monotonic() - started:.1f} s "
                f"(seed {options['seed']})."
            )
        else:
            self.stdout.write("The database is not empty: nothing seeded.")
        if result.token is None:
            return  # not the demo's world: no demo logins exist here, none are shown
        self.stdout.write(f"Staff login:  {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}")
        self.stdout.write(f"Seller login: {demo.DEMO_USERNAME} / {demo.DEMO_PASSWORD}")
        self.stdout.write(f"Staff API token: {result.token}")
