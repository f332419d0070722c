"""Bulk ingestion of the SPEC §2 additions against orders: one 1,000-item ``POST .../bulk`` of
cases, surveys and conversations beside one of orders, in milliseconds (issue 17: "the same
speed class as orders' bulk ingestion").

Run from the project root against PostgreSQL::

    DEBUG=True DATABASE_URL=postgres://postgres@127.0.0.1:5432/gradecraft \\
        python -m bench.programs_ingest [--rounds 7]

Each round, in a transaction rolled back afterwards (nothing is left behind), posts 1,000 new
orders, then 1,000 new cases, surveys (one per order) and conversations, through the bulk
endpoints in process (DRF's test client: JSON parsing, validation, the upsert; no network). It
prints the median and best time of each, and each one's ratio to the orders' median. It runs in
the Django test database (``test_<name>``, created if missing and kept), never in the named one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

BATCH = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gradecraft.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment

    if connection.vendor != "postgresql":
        print("refused: run against PostgreSQL (DATABASE_URL=postgres://...)", file=sys.stderr)
        return 2
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True)
    settings.ALLOWED_HOSTS = ["testserver"]

    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from orders.models import Seller

    timings: dict[str, list[float]] = {
        "orders": [],
        "cases": [],
        "surveys": [],
        "conversations": [],
    }
    for run in range(args.rounds):
        with transaction.atomic():
            staff = get_user_model().objects.create_user(f"bench-{run}", is_staff=True)
            client = APIClient()
            client.force_authenticate(staff)
            sellers = [
                Seller.objects.create(
                    external_id=f"bench-s-{n}", username=f"bench-s-{n}", joined_at=_at("01")
                ).external_id
                for n in range(20)
            ]
            bodies: dict[str, list[dict[str, Any]]] = {
                "orders": [_order(n, sellers[n % 20]) for n in range(BATCH)],
                "cases": [_case(n) for n in range(BATCH)],
                "surveys": [_survey(n) for n in range(BATCH)],
                "conversations": [_conversation(n, sellers[n % 20]) for n in range(BATCH)],
            }
            for entity, items in bodies.items():  # orders first: the others refer to them
                timings[entity].append(_timed_post(client, entity, items))
            transaction.set_rollback(True)

    base = statistics.median(timings["orders"])
    print(f"1,000-item bulk, {args.rounds} rounds, in process (PostgreSQL):")
    for entity, values in timings.items():
        median = statistics.median(values)
        print(
            f"  {entity:<14} median {median:7.1f} ms  best {min(values):7.1f} ms  "
            f"x{median / base:.2f} of orders"
        )
    return 0


def _timed_post(client: Any, entity: str, items: list[dict[str, Any]]) -> float:
    """Milliseconds of one bulk request (encoding the body included, as a client pays it)."""
    start = time.perf_counter()
    response = client.post(f"/api/v1/{entity}/bulk", items, format="json")
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200 or response.json()["created"] != BATCH:
        raise SystemExit(f"{entity}: {response.status_code} {response.content[:500]!r}")
    return elapsed


def _at(day: str, hour: int = 10) -> str:
    return f"2026-10-{day}T{hour:02d}:00:00+09:00"


def _order(n: int, seller: str) -> dict[str, Any]:
    return {
        "external_id": f"bench-o-{n}",
        "seller": seller,
        "buyer": f"b-{n % 300}",
        "amount": "15000.00",
        "created_at": _at("01"),
        "due_at": _at("04"),
        "delivered_at": _at("03"),
        "completed_at": _at("05"),
        "ship_by": _at("02"),
        "shipped_at": _at("02", 9),
        "tracking": "valid",
    }


def _case(n: int) -> dict[str, Any]:
    return {
        "external_id": f"bench-k-{n}",
        "order": f"bench-o-{n}",
        "kind": "claim",
        "opened_at": _at("06"),
        "closed_at": _at("08"),
        "outcome": "seller_resolved",
    }


def _survey(n: int) -> dict[str, Any]:
    return {
        "external_id": f"bench-v-{n}",
        "order": f"bench-o-{n}",
        "csat": 5,
        "nps": 9,
        "answered_at": _at("06"),
    }


def _conversation(n: int, seller: str) -> dict[str, Any]:
    return {
        "external_id": f"bench-c-{n}",
        "seller": seller,
        "buyer": f"b-{n % 300}",
        "resolved_at": _at("07"),
    }


if __name__ == "__main__":
    sys.exit(main())
