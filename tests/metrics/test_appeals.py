"""Appeals and corrections (SPEC §2 Appeal, §7 appeals), outside in: data pushed and read back
through the API, expected values from the independent oracle (tests/oracle.py) and from a fresh
evaluation of the same period."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

from common.errors import Conflict
from metrics import runs
from metrics.appeals import services
from metrics.engine.periods import Period
from metrics.engine.registry import display_value
from metrics.models import (
    Appeal,
    AuditEntry,
    EvaluationCorrection,
    SellerEvaluation,
)
from orders.models import Message, Order, Seller
from reviews.models import Review
from tests import oracle
from tests.api_helpers import (
    client_of,
    evaluate,
    evaluations_of,
    push_completed_order,
    push_order,
    push_policy,
    push_seller,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("clock_at_2027_01_15")

# Silver needs every delivery on time over three months; Bronze needs nothing.
ON_TIME_POLICY: dict[str, Any] = {
    "name": "On time",
    "window_months": 3,
    "window_days": None,
    "response_window_hours": 24,
    "demotion_grace_months": 0,
    "levels": [
        {"name": "Bronze", "rank": 1, "criteria": []},
        {
            "name": "Silver",
            "rank": 2,
            "criteria": [{"metric": "on_time_rate", "op": ">=", "value": 100}],
        },
    ],
}
ORACLE_POLICY = oracle.Policy(
    levels=(
        oracle.Level("Bronze", 1),
        oracle.Level("Silver", 2, (oracle.Rule("on_time_rate", ">=", Decimal(100)),)),
    ),
    window_months=3,
)
PERIODS = ("2026-09", "2026-10", "2026-11", "2026-12")


def _market() -> oracle.Market:
    """The database as the oracle's plain rows."""
    market = oracle.Market()
    market.sellers = [oracle.SellerRow(s.pk, s.joined_at) for s in Seller.objects.all()]
    market.orders = [
        oracle.OrderRow(
            external_id=o.external_id,
            seller=o.seller_id,
            buyer=o.buyer,
            amount=o.amount,
            created_at=o.created_at,
            due_at=o.due_at,
            delivered_at=o.delivered_at,
            completed_at=o.completed_at,
            cancelled_at=o.cancelled_at,
            cancelled_by=o.cancelled_by,
            excluded_from_metrics=o.excluded_from_metrics,
        )
        for o in Order.objects.all()
    ]
    market.messages = [
        oracle.MessageRow(m.pk, m.conversation, m.seller_id, m.buyer, m.sender, m.sent_at)
        for m in Message.objects.order_by("pk")
    ]
    market.reviews = [
        oracle.ReviewRow(r.external_id, r.order.external_id, r.rating, r.created_at)
        for r in Review.objects.select_related("order")
    ]
    return market


def _expected(seller: str, period: str) -> tuple[str | None, dict[str, Any]]:
    """The oracle's level and metrics (as the API rounds them) of ``seller`` for ``period``."""
    pk = Seller.objects.get(external_id=seller).pk
    values = oracle.seller_metrics(
        market=_market(), policy=ORACLE_POLICY, period=period, tz="Asia/Seoul"
    )[pk]
    level = oracle.computed_level(metrics=values, policy=ORACLE_POLICY)
    shown = {key: display_value(key, value) for key, value in values.items()}
    return level, {**shown, "success_score": None}  # the policy has no score (SPEC §5)


def _by_period(client: APIClient, seller: str) -> dict[str, dict[str, Any]]:
    return {item["period"]: item for item in evaluations_of(client, seller)}


@pytest.fixture
def world(staff_client: APIClient) -> dict[str, Any]:
    """Seller s-1: two on-time orders and one late one (o-late, delivered 10-14 past its 10-12
    due date), all in October; s-2: one on-time order. Evaluated 2026-09 … 2026-12 under a
    three-month window, so October sits at the end, the middle and the start of the windows of
    2026-10, 2026-11 and 2026-12."""
    push_policy(staff_client, ON_TIME_POLICY)
    push_seller(staff_client, "s-1")
    push_seller(staff_client, "s-2")
    push_completed_order(staff_client, "o-1", seller="s-1", day="2026-10-02")
    push_completed_order(staff_client, "o-2", seller="s-1", day="2026-10-20")
    push_order(
        staff_client,
        "o-late",
        seller="s-1",
        created="2026-10-10 10:00",
        due="2026-10-12 10:00",
        delivered="2026-10-14 10:00",
        completed="2026-10-15 10:00",
    )
    push_completed_order(staff_client, "o-other", seller="s-2", day="2026-10-05")
    for period in PERIODS:
        evaluate(staff_client, period)
    user = UserFactory()
    Seller.objects.filter(external_id="s-1").update(user=user)
    return {"seller_client": client_of("s-1")}


def _file(client: APIClient, seller: str = "s-1", **body: Any) -> Any:
    return client.post(
        f"/api/v1/sellers/{seller}/appeals",
        {"order": "o-late", "reason": "The marketplace's courier strike.", **body},
        format="json",
    )


def _decide(staff: APIClient, appeal_id: int, status: str, note: str = "") -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return staff.post(
            f"/api/v1/appeals/{appeal_id}/decision",
            {"status": status, "note": note},
            format="json",
        )


# --- filing -------------------------------------------------------------------------------


def test_seller_files_an_appeal_of_its_own_order(world, staff_client):
    response = _file(world["seller_client"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["seller"], body["order"], body["status"]) == ("s-1", "o-late", "open")
    assert body["decided_at"] is None and body["correction"] is None
    listed = world["seller_client"].get("/api/v1/sellers/s-1/appeals").json()
    assert [item["id"] for item in listed] == [body["id"]]
    assert AuditEntry.objects.filter(action="appeal.opened", appeal_id=body["id"]).count() == 1


def test_second_open_appeal_of_one_order_is_a_conflict(world):
    assert _file(world["seller_client"]).status_code == 201
    again = _file(world["seller_client"])
    assert again.status_code == 409
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order": "o-other"}, "order"),  # another seller's order: not confirmed
        ({"order": "nope"}, "order"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"reasn": "typo"}, "reasn"),  # a field the resource does not have
    ],
)
def test_invalid_appeals_are_refused_with_a_field_message(world, body, field):
    response = _file(world["seller_client"], **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Appeal.objects.count() == 0


def test_orders_older_than_twelve_months_cannot_be_appealed(world, staff_client):
    push_completed_order(staff_client, "o-old", seller="s-1", day="2026-01-14")
    response = _file(world["seller_client"], order="o-old")
    assert response.status_code == 400 and "order" in response.json()
    push_completed_order(staff_client, "o-year", seller="s-1", day="2026-01-16")
    assert _file(world["seller_client"], order="o-year").status_code == 201


def test_a_seller_never_sees_or_files_another_sellers_appeals(world, staff_client):
    assert _file(staff_client, seller="s-2", order="o-other").status_code == 201
    assert world["seller_client"].get("/api/v1/sellers/s-2/appeals").status_code == 404
    assert _file(world["seller_client"], seller="s-2", order="o-other").status_code == 404


def test_a_seller_cannot_decide(world):
    appeal = _file(world["seller_client"]).json()
    response = world["seller_client"].post(
        f"/api/v1/appeals/{appeal['id']}/decision", {"status": "accepted"}, format="json"
    )
    assert response.status_code == 403
    assert Appeal.objects.get().status == "open"


# --- deciding and correcting ----------------------------------------------------------------


def test_accepting_corrects_every_period_whose_window_holds_the_order(world, staff_client):
    before = _by_period(staff_client, "s-1")
    assert [before[p]["level"] for p in PERIODS] == ["Bronze", "Bronze", "Bronze", "Bronze"]
    appeal = _file(world["seller_client"]).json()

    response = _decide(staff_client, appeal["id"], "accepted", "Courier strike confirmed.")

    assert response.status_code == 200, response.content
    # The test's transaction holds the commit back until the request ends; a server answers
    # after it, with eager tasks already "done". Read the appeal back as a client would.
    [body] = world["seller_client"].get("/api/v1/sellers/s-1/appeals").json()
    assert (body["status"], body["correction"], body["note"]) == (
        "accepted",
        "done",
        "Courier strike confirmed.",
    )
    assert Order.objects.get(external_id="o-late").excluded_from_metrics
    after = _by_period(staff_client, "s-1")
    # 2026-09's window (July–September) holds none of the order's events: untouched.
    assert after["2026-09"]["corrected_from"] is None
    for period in ("2026-10", "2026-11", "2026-12"):  # the order at the end, middle, start
        level, metrics = _expected("s-1", period)
        assert after[period]["level"] == level == "Silver"
        assert after[period]["metrics"] == metrics
        assert after[period]["corrected_from"]["level"] == "Bronze"
        assert after[period]["corrected_from"]["appeal"] == appeal["id"]
    assert sorted(c["period"] for c in body["corrections"]) == ["2026-10", "2026-11", "2026-12"]


def test_a_correction_equals_a_fresh_evaluation_with_the_order_excluded(world, staff_client):
    appeal = _file(world["seller_client"]).json()
    _decide(staff_client, appeal["id"], "accepted")
    corrected = _by_period(staff_client, "s-1")["2026-11"]

    evaluate(staff_client, "2026-11")  # a fresh run of the same period, order excluded

    fresh = _by_period(staff_client, "s-1")["2026-11"]
    assert (fresh["level"], fresh["metrics"], fresh["criteria"]) == (
        corrected["level"],
        corrected["metrics"],
        corrected["criteria"],
    )


def test_a_correction_changes_no_other_seller(world, staff_client):
    others = {
        e.period: (e.level, e.metrics)
        for e in SellerEvaluation.objects.filter(seller__external_id="s-2")
    }
    appeal = _file(world["seller_client"]).json()
    _decide(staff_client, appeal["id"], "accepted")
    assert {
        e.period: (e.level, e.metrics)
        for e in SellerEvaluation.objects.filter(seller__external_id="s-2")
    } == others


def test_the_correction_uses_the_policy_of_the_periods_run_not_todays(world, staff_client):
    stricter = {
        **ON_TIME_POLICY,
        "name": "Stricter",
        "levels": [
            ON_TIME_POLICY["levels"][0],
            {
                "name": "Silver",
                "rank": 2,
                "criteria": [{"metric": "window_completed_orders", "op": ">=", "value": 50}],
            },
        ],
    }
    push_policy(staff_client, stricter)
    appeal = _file(world["seller_client"]).json()
    _decide(staff_client, appeal["id"], "accepted")
    assert _by_period(staff_client, "s-1")["2026-11"]["level"] == "Silver"


def test_rejecting_changes_no_grade_and_excludes_nothing(world, staff_client):
    appeal = _file(world["seller_client"]).json()
    response = _decide(staff_client, appeal["id"], "rejected", "The delay was the seller's.")
    assert response.status_code == 200
    assert response.json()["correction"] is None
    assert not Order.objects.get(external_id="o-late").excluded_from_metrics
    assert not EvaluationCorrection.objects.exists()
    assert _by_period(staff_client, "s-1")["2026-11"]["level"] == "Bronze"


def test_an_appeal_is_decided_once(world, staff_client):
    appeal = _file(world["seller_client"]).json()
    assert _decide(staff_client, appeal["id"], "rejected").status_code == 200
    again = _decide(staff_client, appeal["id"], "accepted")
    assert again.status_code == 409
    assert Appeal.objects.get().status == "rejected"


@pytest.mark.parametrize("body", [{"status": "maybe"}, {"status": "accepted", "extra": 1}])
def test_invalid_decisions_are_refused(world, staff_client, body):
    appeal = _file(world["seller_client"]).json()
    response = staff_client.post(f"/api/v1/appeals/{appeal['id']}/decision", body, format="json")
    assert response.status_code == 400
    assert Appeal.objects.get().status == "open"


def test_a_correction_waits_for_an_open_run_of_its_period(world, staff_client):
    open_run = runs.start_run(period=Period.parse("2026-11"), trigger="manual")
    appeal = _file(world["seller_client"]).json()

    _decide(staff_client, appeal["id"], "accepted")

    assert Appeal.objects.get().correction == "pending"
    levels = {p: e["level"] for p, e in _by_period(staff_client, "s-1").items()}
    assert (levels["2026-10"], levels["2026-11"], levels["2026-12"]) == (
        "Silver",  # corrected before the period that waits
        "Bronze",
        "Bronze",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        from metrics.tasks import evaluate_run

        evaluate_run.apply(args=[open_run.pk])
    assert Appeal.objects.get().correction == "done"
    levels = {p: e["level"] for p, e in _by_period(staff_client, "s-1").items()}
    assert (levels["2026-11"], levels["2026-12"]) == ("Silver", "Silver")


def test_every_step_is_in_the_audit_export(world, staff_client, admin_client):
    appeal = _file(world["seller_client"]).json()
    _decide(staff_client, appeal["id"], "accepted")
    response = admin_client.get("/admin/metrics/auditentry/export.csv")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    actions = [line.split(",")[1] for line in lines[1:]]
    assert actions[:3] == ["appeal.opened", "order.excluded", "appeal.accepted"]
    assert actions.count("grade.corrected") == 3


def test_staff_queue_shows_what_accepting_would_do(world, admin_client):
    appeal = _file(world["seller_client"]).json()
    page = admin_client.get(f"/admin/metrics/appeal/{appeal['id']}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="appeal-would-become"' in text and "(changes)" in text
    assert not Order.objects.get(external_id="o-late").excluded_from_metrics  # a dry run
    assert not EvaluationCorrection.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_deciding_at_once_give_one_decision(clock_at_2027_01_15):
    seller = Seller.objects.create(external_id="s-x", username="s-x", joined_at="2026-01-01T00:00Z")
    order = Order.objects.create(
        external_id="o-x",
        seller=seller,
        buyer="b",
        amount=1,
        created_at="2026-12-01T00:00Z",
    )
    appeal = Appeal.objects.create(
        seller=seller, order=order, reason="r", opened_at="2026-12-02T00:00Z"
    )
    staff = [UserFactory(is_staff=True), UserFactory(is_staff=True)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(user: Any, status: str) -> None:
        barrier.wait()
        try:
            services.decide_appeal(appeal_id=appeal.pk, status=status, note="", actor=user)
            outcomes.append(status)
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(staff[0], "accepted")),
        threading.Thread(target=decide, args=(staff[1], "rejected")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("conflict") == 1
    appeal.refresh_from_db()
    assert appeal.status in ("accepted", "rejected") and appeal.status in outcomes
    assert AuditEntry.objects.filter(action__startswith="appeal.", appeal=appeal).count() == 1


# --- what the decision and the corrections tell -------------------------------------------


def _give_an_address(seller: str) -> None:
    user = Seller.objects.select_related("user").get(external_id=seller).user
    assert user is not None
    user.email = f"{seller}@example.com"
    user.save(update_fields=["email"])


def test_decision_and_level_corrections_are_webhook_events_and_emails(
    world, staff_client, mailoutbox
):
    from notifications.models import WebhookEndpoint, WebhookEvent

    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/gc",
        events=["appeal.decided", "grade.corrected"],
        secret="whsec-0123456789",
    )
    _give_an_address("s-1")
    appeal = _file(world["seller_client"]).json()

    _decide(staff_client, appeal["id"], "accepted", "Confirmed.")

    decided = WebhookEvent.objects.get(type="appeal.decided")
    assert {k: decided.data[k] for k in ("appeal", "seller", "order", "status", "note")} == {
        "appeal": appeal["id"],
        "seller": "s-1",
        "order": "o-late",
        "status": "accepted",
        "note": "Confirmed.",
    }
    corrected = sorted(
        (e.data["period"], e.data["from"], e.data["to"], e.data["appeal"], e.data["seller"])
        for e in WebhookEvent.objects.filter(type="grade.corrected")
    )
    assert corrected == [
        (period, "Bronze", "Silver", appeal["id"], "s-1")
        for period in ("2026-10", "2026-11", "2026-12")
    ]
    appeal_events = WebhookEvent.objects.filter(type__in=["appeal.decided", "grade.corrected"])
    assert [e.deliveries.count() for e in appeal_events] == [1, 1, 1, 1]
    subjects = sorted(message.subject for message in mailoutbox)
    # The seller has no language preference: the default in Asia/Seoul is Korean.
    assert "주문 o-late에 대한 이의 신청이 받아들여졌습니다" in subjects
    assert sum("정정되었습니다" in subject for subject in subjects) == 3
    assert all(message.to == ["s-1@example.com"] for message in mailoutbox)


def test_a_rejection_is_an_event_and_an_email_but_no_correction(world, staff_client, mailoutbox):
    from notifications.models import WebhookEvent

    _give_an_address("s-1")
    appeal = _file(world["seller_client"]).json()
    _decide(staff_client, appeal["id"], "rejected")
    types = set(WebhookEvent.objects.values_list("type", flat=True))
    assert types - {"run.completed", "level.changed"} == {"appeal.decided"}
    assert [m.subject for m in mailoutbox] == ["주문 o-late에 대한 이의 신청이 기각되었습니다"]


# --- pages ----------------------------------------------------------------------------------


def test_the_evidence_row_files_an_appeal_and_then_shows_its_status(world, client):
    user = Seller.objects.get(external_id="s-1").user
    client.force_login(user)
    page = client.get("/evidence/on_time_rate/?period=2026-11")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="order" value="o-late"' in text  # every order row has its button

    response = client.post(
        "/appeals/",
        {
            "order": "o-late",
            "reason": "Courier strike",
            "next": "/evidence/on_time_rate/?period=2026-11",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/evidence/on_time_rate/?period=2026-11"
    assert Appeal.objects.get().reason == "Courier strike"
    text = client.get(response["Location"]).content.decode()
    assert 'data-status="open"' in text and 'name="order" value="o-late"' not in text


def test_the_appeal_form_never_redirects_off_site(world, client):
    client.force_login(Seller.objects.get(external_id="s-1").user)
    response = client.post(
        "/appeals/", {"order": "o-late", "reason": "x", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_history_says_when_an_appeal_corrected_a_period(world, staff_client, client):
    appeal = _file(world["seller_client"]).json()
    _decide(staff_client, appeal["id"], "accepted")
    client.force_login(Seller.objects.get(external_id="s-1").user)
    text = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert text.count("after appeal (was Bronze)") == 3


def test_the_staff_seller_page_lists_the_appeals(world, admin_client):
    _file(world["seller_client"])
    text = admin_client.get("/staff/sellers/s-1/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="appeals"' in text and "marketplace's courier" not in text  # escaped
    assert "The marketplace&#x27;s courier strike." in text


def test_a_correction_whose_message_was_lost_is_sent_again_by_the_sweep(world, staff_client):
    from datetime import timedelta

    from django.utils import timezone

    from metrics.tasks import sweep_stale_runs

    appeal = _file(world["seller_client"]).json()
    # Accepted, but the task never reached a worker (the broker lost it): nothing corrected.
    staff_client.post(
        f"/api/v1/appeals/{appeal['id']}/decision", {"status": "accepted"}, format="json"
    )  # the test's transaction holds the commit back: the on_commit send never happens
    assert Appeal.objects.get().correction == "pending"
    assert not EvaluationCorrection.objects.exists()
    Appeal.objects.update(correction_requested_at=timezone.now() - timedelta(minutes=3))

    with TestCase.captureOnCommitCallbacks(execute=True):
        sweep_stale_runs.apply()

    assert Appeal.objects.get().correction == "done"
    assert EvaluationCorrection.objects.count() == 3


def test_a_fresh_pending_correction_is_left_to_its_worker(world, staff_client):
    from metrics.appeals.corrections import resume_pending_corrections

    appeal = _file(world["seller_client"]).json()
    response = staff_client.post(
        f"/api/v1/appeals/{appeal['id']}/decision", {"status": "accepted"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Appeal.objects.get().correction == "pending"
    assert resume_pending_corrections() == []  # its lease has not passed


def test_staff_following_a_sellers_page_see_its_evidence_without_appeal_forms(world, admin_client):
    page = admin_client.get("/staff/sellers/s-1/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    assert "/evidence/on_time_rate/?period=2026-12&amp;seller=s-1" in page.content.decode()
    evidence = admin_client.get("/evidence/on_time_rate/?period=2026-12&seller=s-1")
    assert evidence.status_code == 200
    text = evidence.content.decode()
    assert "o-late" in text and 'name="order"' not in text


def test_a_seller_cannot_read_another_sellers_evidence_by_the_seller_parameter(world, client):
    client.force_login(Seller.objects.get(external_id="s-1").user)
    page = client.get("/evidence/on_time_rate/?period=2026-12&seller=s-2")
    assert page.status_code == 200 and "o-other" not in page.content.decode()
