"""Mid-month "at risk" emails (issue 11 item 4): after the beat refreshes the month-to-date
figures, a seller whose month so far would lose a level is warned once per period, unless it
opted out."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail

from metrics import tasks
from metrics.engine.periods import Period
from metrics.runs import evaluate_period
from notifications.models import EmailNotification, SellerPreference
from tests.factories import aware
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

MID_JANUARY = aware("2027-01-15 12:00")


@pytest.fixture
def silver_in_december():
    """A seller graded Silver for 2026-12 (one order completed then), English, opted in; the
    one-month window of January holds nothing yet."""
    given_policy()
    seller = a_seller(user__email="kim@example.com", display_name="Kim")
    SellerPreference.objects.create(seller=seller, language="en")
    given_completed_orders(seller, count=1, at="2026-12-10 12:00")
    with time_machine.travel(MID_JANUARY, tick=False):
        evaluate_period(period=Period.parse("2026-12"))
    return seller


def beat_refresh(at) -> None:
    with time_machine.travel(at, tick=False):
        tasks.refresh_month_to_date.delay().get()


def test_a_seller_whose_month_so_far_loses_a_level_is_warned(silver_in_december):
    beat_refresh(MID_JANUARY)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["kim@example.com"]
    assert email.subject == "Your level Silver is at risk this month"
    assert "your figures so far would give Bronze, below your level Silver" in email.body
    assert "takes effect on Feb. 1, 2027" in email.body
    assert "- Completed orders (window): 0 (required ≥ 1) — not met" in email.body


def test_the_warning_is_sent_once_per_period(silver_in_december):
    beat_refresh(MID_JANUARY)
    beat_refresh(aware("2027-01-15 12:10"))
    beat_refresh(aware("2027-01-28 09:00"))

    assert len(mail.outbox) == 1
    assert EmailNotification.objects.filter(kind="at_risk").count() == 1


def test_a_seller_who_opted_out_is_not_warned(silver_in_december):
    SellerPreference.objects.filter(seller=silver_in_december).update(at_risk_emails=False)

    beat_refresh(MID_JANUARY)

    assert mail.outbox == []


def test_a_seller_on_course_to_keep_its_level_is_not_warned(silver_in_december):
    given_completed_orders(silver_in_december, count=1, at="2027-01-10 12:00")

    beat_refresh(MID_JANUARY)

    assert mail.outbox == []


def test_a_seller_without_an_evaluation_has_no_level_to_lose(silver_in_december):
    newcomer = a_seller(user__email="new@example.com")

    beat_refresh(MID_JANUARY)

    assert [m.to for m in mail.outbox] == [["kim@example.com"]]
    assert not EmailNotification.objects.filter(seller=newcomer).exists()


def test_grace_is_said_in_the_warning_in_korean(silver_in_december):
    given_policy(grace=1)
    SellerPreference.objects.filter(seller=silver_in_december).update(language="ko")

    beat_refresh(MID_JANUARY)

    [email] = mail.outbox
    assert email.subject == "이번 달 Silver 등급이 하락할 위험이 있습니다"
    assert "이번에는 유예 기간으로 등급이 유지되지만" in email.body
    assert "- 완료 주문 수(평가 기간): 0 (기준 ≥ 1) — 미달" in email.body


def test_early_in_the_month_nobody_is_warned_yet(silver_in_december, settings):
    settings.NOTIFICATIONS_AT_RISK_FROM_DAY = 15

    beat_refresh(aware("2027-01-14 23:50"))
    assert mail.outbox == []

    beat_refresh(aware("2027-01-15 00:00"))
    assert len(mail.outbox) == 1
