"""Sellers for the dashboard tests (views and browser): figures chosen by hand at the seeded
policy's boundaries (SPEC §5 defaults), so the expected sentences are computed here, not read
from the code under test.

``given_level_2_seller`` (evaluated for 2026-10, a 3-month window 2026-08..10):
- 20 orders completed at ₩100,000 (₩2,000,000) and 4 cancelled by the buyer: success 20/24 =
  83.33 % (Level 3 needs 85 %: 1.67 points short, rounded up);
- 50 inquiries, 46 answered within 24 h: 92 % (Level 2 needs 90 %);
- 10 reviews rated 5: 5.0 (≥ 4.7).
Level 2 passes (20 ≥ 15 orders); Level 3 misses 80 completed orders or ₩18,000,000 revenue
(either one) and 1.67 points of success rate.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from orders.models import Message, Order, Seller
from reviews.models import Review
from tests.factories import MessageFactory, OrderFactory, SellerFactory, UserFactory, aware

PASSWORD = "a-long-test-password"


def given_level_2_seller(username: str = "mina") -> Seller:
    seller: Seller = SellerFactory.create(
        username=username,
        external_id=f"ext-{username}",
        display_name="Mina Studio",
        user=UserFactory(username=username, password=PASSWORD),
    )
    start = aware("2026-10-01 09:00")
    completed = [
        OrderFactory.build(
            seller=seller,
            external_id=f"{username}-done-{i}",
            amount=Decimal("100000"),
            created_at=start + timedelta(hours=i),
            due_at=start + timedelta(days=3, hours=i),
            delivered_at=start + timedelta(days=1, hours=i),
            completed_at=start + timedelta(days=2, hours=i),
        )
        for i in range(20)
    ]
    cancelled = [
        OrderFactory.build(
            seller=seller,
            external_id=f"{username}-cancel-{i}",
            created_at=start + timedelta(hours=i),
            cancelled_at=start + timedelta(days=1, hours=i),
            cancelled_by="buyer",
        )
        for i in range(4)
    ]
    Order.objects.bulk_create(completed + cancelled)
    Review.objects.bulk_create(
        Review(
            external_id=f"{username}-review-{i}",
            order=order,
            rating=5,
            created_at=order.completed_at + timedelta(hours=1),
        )
        for i, order in enumerate(completed[:10])
    )
    messages = []
    for i in range(50):
        asked = aware("2026-10-05 09:00") + timedelta(hours=3 * i)
        messages.append(
            MessageFactory.build(
                seller=seller, conversation=f"{username}-c-{i}", buyer="b", sent_at=asked
            )
        )
        late = i >= 46  # the last four are answered after 30 hours: missed
        messages.append(
            MessageFactory.build(
                seller=seller,
                conversation=f"{username}-c-{i}",
                buyer="b",
                sender="seller",
                sent_at=asked + timedelta(hours=30 if late else 2),
            )
        )
    Message.objects.bulk_create(messages)
    return seller
