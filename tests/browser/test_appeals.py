"""Appeals in a real browser (issue 22 item 7): a seller files one from an evidence row, staff
accept it from the admin queue, and the seller's page shows the corrected grade."""

import pytest
import time_machine

from metrics.engine.periods import Period
from metrics.models import Appeal, Criterion, GradeLevel, GradePolicy
from metrics.runs import evaluate_period
from tests.browser.conftest import login
from tests.factories import OrderFactory, SellerFactory, UserFactory, aware

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


def given_a_seller_with_one_late_order_of_three():
    GradePolicy.objects.filter(is_active=True).update(is_active=False)
    policy = GradePolicy.objects.create(name="On time", is_active=True, window_months=1)
    GradeLevel.objects.create(policy=policy, name="Bronze", rank=1)
    silver = GradeLevel.objects.create(policy=policy, name="Silver", rank=2)
    Criterion.objects.create(level=silver, metric="on_time_rate", op=">=", value=100)
    seller = SellerFactory(
        username="appealer", user=UserFactory(username="appealer", password=PASSWORD)
    )
    for n, delivered in enumerate(("2026-10-02 10:00", "2026-10-03 10:00", "2026-10-09 10:00")):
        OrderFactory(
            seller=seller,
            external_id=f"ord-{n}",
            created_at=aware("2026-10-01 10:00"),
            due_at=aware("2026-10-05 10:00"),
            delivered_at=aware(delivered),
            completed_at=aware("2026-10-10 10:00"),
        )
    UserFactory(username="boss", password=PASSWORD, is_staff=True, is_superuser=True)


def test_a_seller_appeals_a_late_order_and_staff_accept_it(page):
    given_a_seller_with_one_late_order_of_three()
    with time_machine.travel(aware("2026-11-02 12:00"), tick=True):
        evaluate_period(period=Period.parse("2026-10"))
        login(page, "appealer", PASSWORD)
        page.goto("/evidence/on_time_rate/?period=2026-10")
        row = page.locator("tr", has_text="ord-2")
        row.locator("summary").click()
        row.locator("textarea").fill("The courier lost the parcel for four days.")
        row.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert "Appeal under review" in page.locator("tr", has_text="ord-2").inner_text()
        appeal = Appeal.objects.get()
        page.context.clear_cookies()

        login(page, "boss", PASSWORD)
        page.goto(f"/admin/metrics/appeal/{appeal.pk}/change/")
        assert "Silver" in page.locator("#appeal-would-become").inner_text()
        page.fill("#appeal-decide textarea", "Courier's fault, confirmed.")
        page.click("#appeal-decide button[value=accepted]")
        page.wait_for_load_state()
        page.context.clear_cookies()

        login(page, "appealer", PASSWORD)
        assert page.locator("#current-level").inner_text() == "Silver"
        assert "after appeal" in page.locator("#history").inner_text()
