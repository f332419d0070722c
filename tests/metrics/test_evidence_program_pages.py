"""The evidence page of the program and customer-success metrics (issues 17, 18): one table
per shape, failing rows marked, an appeal button on rows that name an order."""

import pytest
import time_machine
from django.test import Client

from tests.factories import (
    CaseFactory,
    OrderFactory,
    SellerFactory,
    SurveyFactory,
    UserFactory,
    aware,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of_a_seller_with_a_claim_and_a_detractor():
    seller = SellerFactory(username="prog", user=UserFactory(username="prog", password="pw-p"))
    claimed = OrderFactory(
        seller=seller,
        external_id="ord-claimed",
        created_at=aware("2026-10-02 10:00"),
        delivered_at=aware("2026-10-03 10:00"),
        completed_at=aware("2026-10-04 10:00"),
    )
    fine = OrderFactory(
        seller=seller,
        external_id="ord-fine",
        created_at=aware("2026-10-05 10:00"),
        delivered_at=aware("2026-10-06 10:00"),
        completed_at=aware("2026-10-07 10:00"),
    )
    CaseFactory(
        order=claimed,
        external_id="case-1",
        kind="claim",
        opened_at=aware("2026-10-08 10:00"),
        closed_at=aware("2026-10-09 10:00"),
        outcome="buyer_favour",
    )
    SurveyFactory(
        order=fine, external_id="sv-1", csat=2, nps=3, answered_at=aware("2026-10-10 10:00")
    )
    client = Client()
    client.login(username="prog", password="pw-p")
    return client


@pytest.mark.parametrize(
    ("metric", "failing_id"),
    [
        ("order_defect_rate", "ord-claimed"),
        ("case_rate", "ord-claimed"),
        ("cases_opened", "case-1"),
        ("csat_percent", "sv-1"),
    ],
)
def test_the_program_evidence_lists_the_failing_item_with_an_appeal_button(
    client_of_a_seller_with_a_claim_and_a_detractor, metric, failing_id
):
    client = client_of_a_seller_with_a_claim_and_a_detractor
    with time_machine.travel(aware("2026-11-15 12:00"), tick=False):
        response = client.get(f"/evidence/{metric}/?period=2026-10", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = response.content.decode()
    first_failing = text.index('<tr class="fail">')
    assert failing_id in text[first_failing : text.index("</tr>", first_failing)]
    assert 'name="order" value="ord-' in text  # rows naming an order can be appealed
