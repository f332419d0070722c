"""``manage.py demo_banner --url URL``: where to go and how to log in, after ``make run``."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo import world as demo


class Command(BaseCommand):
    help = "Print the demo's URLs, logins and the staff API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="the site's base URL")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"].rstrip("/") + "/"
        token = demo.staff_token()
        rule = "=" * 64
        if token is None:
            # Not the demo's world (seed_demo left a database holding data alone): no demo logins.
            lines = [
                rule,
                f"  GradeCraft is running at {url}",
                f"  Admin:            {url}admin/  (log in with your own account)",
                f"  API docs:         {url}api/docs/",
                rule,
            ]
            self.stdout.write("\n".join(lines))
            return
        lines = [
            rule,
            f"  GradeCraft is running at {url}",
            f"  Seller dashboard: {url}  (login {demo.DEMO_USERNAME} / {demo.DEMO_PASSWORD})",
            f"  Admin:            {url}admin/  (login {demo.ADMIN_USERNAME} / "
            f"{demo.ADMIN_PASSWORD})",
            f"  API docs:         {url}api/docs/",
            f"  Staff API token:  {token}",
            f'                    (curl -H "Authorization: Token {token}" {url}api/v1/sellers)',
            rule,
        ]
        self.stdout.write("\n".join(lines))
