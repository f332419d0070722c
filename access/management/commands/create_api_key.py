"""``manage.py create_api_key --scope ingest --name marketplace``: a new API key, printed once.

Only its hash is stored: copy the key now. ``--scope`` may be repeated (``--scope ingest
--scope read``); ``--expires 2027-12-31T00:00:00+09:00`` sets an expiry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.models import ApiKey
from common.scopes import SCOPES


class Command(BaseCommand):
    help = "Create an API key with scopes (ingest, read, admin) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Who the key is for, e.g. marketplace.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=SCOPES,
            required=True,
            help="ingest, read or admin; repeat for more than one.",
        )
        parser.add_argument("--expires", help="ISO 8601 with an offset; default: never.")
        parser.add_argument("--rate", default="", help="e.g. 600/minute; default THROTTLE_API_KEY.")

    def handle(self, *args: Any, **options: Any) -> None:
        expiry = None
        if options["expires"]:
            try:
                expiry = datetime.fromisoformat(options["expires"])
            except ValueError as exc:
                raise CommandError(f"--expires: {exc}") from exc
            if expiry.tzinfo is None:
                raise CommandError("--expires needs a UTC offset, e.g. +09:00.")
        scopes = list(dict.fromkeys(options["scope"]))
        key = ApiKey(
            name=options["name"][:50],
            scopes=scopes,
            expiry_date=expiry,
            throttle_rate=options["rate"],
        )
        try:
            key.full_clean(exclude=["id", "prefix", "hashed_key"])
        except ValidationError as exc:
            raise CommandError(str(exc)) from exc
        secret = ApiKey.objects.assign_key(key)
        key.save()
        self.stdout.write(
            f"API key {key.name!r} ({', '.join(scopes)}), prefix {key.prefix}:\n{secret}\n"
            "Store it now: it is shown only this once. Send it as: Authorization: Api-Key <key>"
        )
