"""The customer-success card (issue 18 item 4): on the dashboard when the policy uses these
measures, with their trend; the staff overview's spread of NPS and CSAT over sellers."""

from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from metrics.engine.periods import Period
from metrics.models import Criterion, GradeLevel, GradePolicy
from metrics.runs import evaluate_period
from tests.factories import OrderFactory, SellerFactory, SurveyFactory, UserFactory, aware

pytestmark = pytest.mark.django_db


def given_policy(metric: str = "csat_percent") -> None:
    GradePolicy.objects.filter(is_active=True).update(is_active=False)
    policy = GradePolicy.objects.create(name="CS", is_active=True, window_months=1)
    GradeLevel.objects.create(policy=policy, name="Bronze", rank=1)
    silver = GradeLevel.objects.create(policy=policy, name="Silver", rank=2)
    Criterion.objects.create(level=silver, metric=metric, op=">=", value=Decimal(90))


def given_surveyed_seller(username: str, ratings: dict[str, list[int]]):
    """A seller with one surveyed order per CSAT score given, per month ("2026-09": [5, 4])."""
    seller = SellerFactory(username=username, user=UserFactory(username=username, password="pw"))
    for month, scores in ratings.items():
        for n, csat in enumerate(scores):
            order = OrderFactory(
                seller=seller,
                created_at=aware(f"{month}-0{n + 1} 10:00"),
                delivered_at=aware(f"{month}-0{n + 1} 11:00"),
                completed_at=aware(f"{month}-0{n + 1} 12:00"),
            )
            SurveyFactory(
                order=order, csat=csat, nps=None, answered_at=aware(f"{month}-0{n + 1} 13:00")
            )
    return seller


def evaluate(*periods: str) -> None:
    for period in periods:
        evaluate_period(period=Period.parse(period))


def test_the_card_shows_each_measure_the_policy_uses_with_its_trend():
    given_policy()
    given_surveyed_seller("cs", {"2026-09": [5, 2], "2026-10": [5, 5, 4]})
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        evaluate("2026-09", "2026-10")
        client = Client()
        client.login(username="cs", password="pw")
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    card = response.context["customer_success"]
    assert [row["key"] for row in card] == ["csat_percent"]  # the only one the policy uses
    # September: 1 of 2 answers rated 4–5 (50 %); October: 3 of 3 (100 %).
    assert [t["shown"] for t in card[0]["trend"]] == ["50 %", "100 %"]
    assert card[0]["points"]  # a line of two points
    assert 'id="customer-success"' in response.content.decode()


def test_no_card_when_the_policy_uses_no_customer_success_measure():
    given_policy(metric="on_time_rate")
    given_surveyed_seller("cs", {"2026-10": [5]})
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        evaluate("2026-10")
        client = Client()
        client.login(username="cs", password="pw")
        response = client.get("/")
    assert response.context["customer_success"] == []
    assert 'id="customer-success"' not in response.content.decode()


def test_the_staff_overview_spreads_csat_and_nps_over_sellers(admin_client):
    given_policy()
    given_surveyed_seller("a", {"2026-10": [5, 5]})  # 100 %
    given_surveyed_seller("b", {"2026-10": [5, 1]})  # 50 %
    SellerFactory(username="c")  # no survey: no data
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        evaluate("2026-10")
        response = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    spread = {m["key"]: m for m in response.context["satisfaction"]}
    csat = spread["csat_percent"]
    assert [b["count"] for b in csat["buckets"]] == [0, 1, 0, 0, 1]  # 50–70 and 90–100
    assert csat["no_data"] == 1
    assert spread["nps"]["no_data"] == 3 and sum(b["count"] for b in spread["nps"]["buckets"]) == 0
