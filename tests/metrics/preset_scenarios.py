"""Sellers described by the figures a program looks at, pushed through the ingestion API.

A ``Profile`` says what happened in December 2026 (the period the golden scenarios evaluate,
``clock_at_2027_01_15``): completed orders (some delivered one second late), cancellations,
review ratings, buyer inquiries answered after a given delay, one second past the 24-hour
deadline, or never. ``push_world`` sends every seller with the bulk endpoints (all or nothing,
1,000 items a request), the way an integration would. Every expected figure in the tests is
worked out by hand from the profile, never read from the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework.test import APIClient

KST = ZoneInfo("Asia/Seoul")
CUTOFF_2026_12 = datetime(2027, 1, 1, tzinfo=KST)  # the cutoff of period 2026-12
BULK = 1000


def at(text: str) -> str:
    """'2026-12-26 10:00[:ss]' (Seoul) → ISO 8601."""
    moment = datetime.fromisoformat(text).replace(tzinfo=KST)
    return moment.isoformat()


@dataclass(frozen=True)
class Profile:
    tenure_days: int = 400  # whole days from joined_at to the cutoff
    completed: int = 0  # orders completed in December; delivered on time unless ``late``
    amount: str = "10000"  # each completed order's amount
    last_amount: str | None = None  # the last completed order's amount, when it differs
    late: int = 0  # of the completed orders, delivered one second after due_at
    buyers: int = 1  # distinct buyers of the completed orders (round robin)
    seller_cancelled: int = 0
    buyer_cancelled: int = 0
    ratings: tuple[int, ...] = ()  # one review per completed order, in order
    answered: int = 0  # inquiries answered ``reply_seconds`` after they arrived
    reply_seconds: int = 300
    answered_late: int = 0  # answered one second after the 24-hour deadline
    unanswered: int = 0
    month: str = "2026-12"  # when it all happened ("2026-05" for older activity)

    def but(self, **changes: Any) -> Profile:
        return replace(self, **changes)

    @property
    def revenue(self) -> Decimal:
        last = Decimal(self.last_amount or self.amount)
        return Decimal(self.amount) * (self.completed - 1) + last if self.completed else Decimal(0)


def ratings(**counts: int) -> tuple[int, ...]:
    """ratings(five=7, four=3) → (5,)*7 + (4,)*3."""
    stars = {"five": 5, "four": 4, "three": 3, "two": 2, "one": 1}
    out: list[int] = []
    for name, count in counts.items():
        out += [stars[name]] * count
    return tuple(out)


def _items(seller: str, p: Profile) -> dict[str, list[dict[str, Any]]]:
    day = p.month + "-"
    joined = CUTOFF_2026_12 - timedelta(days=p.tenure_days)
    sellers = [{"external_id": seller, "username": seller, "joined_at": joined.isoformat()}]
    orders: list[dict[str, Any]] = []
    for i in range(p.completed):
        amount = p.last_amount if (p.last_amount and i == p.completed - 1) else p.amount
        late = i < p.late
        orders.append(
            {
                "external_id": f"{seller}-o{i}",
                "seller": seller,
                "buyer": f"{seller}-b{i % p.buyers}",
                "amount": amount,
                "created_at": at(day + "26 10:00"),
                "due_at": at(day + "28 10:00"),
                "delivered_at": at(day + ("28 10:00:01" if late else "27 10:00")),
                "completed_at": at(day + "28 12:00"),
                "cancelled_at": None,
                "cancelled_by": None,
            }
        )
    cancelled = ["seller"] * p.seller_cancelled + ["buyer"] * p.buyer_cancelled
    for i, by in enumerate(cancelled):
        orders.append(
            {
                "external_id": f"{seller}-x{i}",
                "seller": seller,
                "buyer": f"{seller}-cb{i}",
                "amount": "1000",
                "created_at": at(day + "26 10:00"),
                "due_at": None,
                "delivered_at": None,
                "completed_at": None,
                "cancelled_at": at(day + "27 10:00"),
                "cancelled_by": by,
            }
        )
    assert len(p.ratings) <= p.completed, "a review needs a completed order"
    reviews = [
        {
            "external_id": f"{seller}-r{i}",
            "order": f"{seller}-o{i}",
            "rating": rating,
            "created_at": at(day + "29 10:00"),
        }
        for i, rating in enumerate(p.ratings)
    ]
    messages: list[dict[str, Any]] = []
    sent = datetime.fromisoformat(day + "26 09:00").replace(tzinfo=KST)
    delays = (
        [timedelta(seconds=p.reply_seconds)] * p.answered
        + [timedelta(hours=24, seconds=1)] * p.answered_late
        + [None] * p.unanswered
    )
    for i, delay in enumerate(delays):
        base = {"conversation": f"{seller}-c{i}", "seller": seller, "buyer": f"{seller}-q{i}"}
        messages.append(
            {
                **base,
                "external_id": f"{seller}-m{i}",
                "sender": "buyer",
                "sent_at": sent.isoformat(),
            }
        )
        if delay is not None:
            messages.append(
                {
                    **base,
                    "external_id": f"{seller}-m{i}-reply",
                    "sender": "seller",
                    "sent_at": (sent + delay).isoformat(),
                }
            )
    return {"sellers": sellers, "orders": orders, "reviews": reviews, "messages": messages}


def push_world(staff: APIClient, world: dict[str, Profile]) -> None:
    """Every seller of ``world`` through POST /api/v1/{entity}/bulk, sellers first."""
    batches: dict[str, list[dict[str, Any]]] = {
        "sellers": [],
        "orders": [],
        "messages": [],
        "reviews": [],
    }
    for seller, profile in world.items():
        for entity, items in _items(seller, profile).items():
            batches[entity] += items
    for entity in ("sellers", "orders", "messages", "reviews"):
        items = batches[entity]
        for start in range(0, len(items), BULK):
            response = staff.post(
                f"/api/v1/{entity}/bulk", items[start : start + BULK], format="json"
            )
            assert response.status_code == 200, (entity, response.content[:2000])
