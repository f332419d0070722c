"""Level-change emails (issue 11 item 4): when a run publishes, each seller whose level changed
is told, in its language, the new level and the reasons; nobody else; once per change."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail

from metrics import runs, tasks
from metrics.engine.periods import Period
from metrics.models import EvaluationRun
from notifications.models import EmailNotification, SellerPreference
from notifications.tasks import notify_run_published
from tests.api_helpers import JAN_15_2027
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture(autouse=True)
def _at_2027_01_15():
    with time_machine.travel(JAN_15_2027, tick=False):
        yield


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Evaluate a period in this process and run what its commit triggers (the signal)."""

    def evaluate(period: str) -> EvaluationRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = runs.evaluate_period(period=Period.parse(period)).run
        assert run is not None and run.status == "succeeded"
        return run

    return evaluate


def a_seller_writing_in(language: str, email: str):
    seller = a_seller(user__email=email, display_name="Kim")
    SellerPreference.objects.create(seller=seller, language=language)
    return seller


def test_a_promoted_seller_gets_an_email_in_english_with_the_reasons(publish):
    given_policy()
    seller = a_seller_writing_in("en", "kim@example.com")
    publish("2026-10")  # Bronze: a first evaluation, nothing to tell
    assert mail.outbox == []
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")

    publish("2026-11")

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["kim@example.com"]
    assert email.subject == "Your level is now Silver"
    assert "Hello Kim," in email.body
    assert "moved you up from Bronze to Silver, effective Dec. 1, 2026." in email.body
    assert "Why: the criteria you met" in email.body
    assert "- Completed orders (window): 1 (required ≥ 1) — met" in email.body


def test_a_demoted_seller_gets_an_email_in_korean_with_the_failed_criterion(publish):
    given_policy()
    seller = a_seller_writing_in("ko", "park@example.com")
    given_completed_orders(seller, count=1, at="2026-10-10 12:00")
    publish("2026-10")  # Silver
    publish("2026-11")  # no order in November: Bronze

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["park@example.com"]
    assert email.subject == "등급이 Bronze(으)로 변경되었습니다"
    assert "Kim님, 안녕하세요." in email.body
    assert "2026-11 평가 결과 등급이 Silver에서 Bronze(으)로 변경되었습니다." in email.body
    assert "2026년 12월 1일" in email.body
    assert "이유: 상위 등급의 기준" in email.body
    assert "- 완료 주문 수(평가 기간): 0 (기준 ≥ 1) — 미달" in email.body
    assert email.extra_headers["Content-Language"] == "ko"


def test_the_default_language_follows_the_setting_and_the_login_address(publish, settings):
    settings.NOTIFICATIONS_DEFAULT_LANGUAGE = "ko"
    given_policy()
    seller = a_seller(user__email="lee@example.com")
    publish("2026-10")
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")

    publish("2026-11")

    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["lee@example.com"], "등급이 Silver(으)로 올랐습니다")
    ]


def test_a_seller_whose_level_did_not_change_gets_no_email(publish):
    given_policy()
    steady = a_seller_writing_in("en", "steady@example.com")
    mover = a_seller_writing_in("en", "mover@example.com")
    given_completed_orders(steady, count=1, at="2026-10-10 12:00")
    given_completed_orders(steady, count=1, at="2026-11-10 12:00")
    publish("2026-10")
    given_completed_orders(mover, count=1, at="2026-11-10 12:00")

    publish("2026-11")

    assert [m.to for m in mail.outbox] == [["mover@example.com"]]


def test_a_rerun_of_the_period_or_a_repeated_task_sends_nothing_twice(publish):
    given_policy()
    seller = a_seller_writing_in("en", "kim@example.com")
    publish("2026-10")
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")
    first = publish("2026-11")
    assert len(mail.outbox) == 1

    second = publish("2026-11")  # the same change found again by a new run
    notify_run_published.delay(first.pk).get()  # a redelivered task
    notify_run_published.delay(second.pk).get()

    assert len(mail.outbox) == 1
    assert EmailNotification.objects.filter(seller=seller, sent_at__isnull=False).count() == 1


def test_finalizing_a_published_run_again_does_not_publish_it_again(publish):
    given_policy()
    seller = a_seller_writing_in("en", "kim@example.com")
    publish("2026-10")
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")
    run = publish("2026-11")

    runs.finalize_run(run_id=run.pk)  # e.g. a chunk task redelivered after the publication

    assert len(mail.outbox) == 1


def test_a_rerun_of_an_older_period_emails_nobody(publish):
    given_policy()
    seller = a_seller_writing_in("en", "kim@example.com")
    publish("2026-09")
    publish("2026-10")
    publish("2026-11")
    assert mail.outbox == []
    given_completed_orders(seller, count=1, at="2026-10-10 12:00")

    publish("2026-10")  # history changes (Bronze → Silver in October), today's level does not

    assert mail.outbox == []


def test_a_seller_without_an_address_is_logged_not_sent(publish):
    given_policy()
    seller = a_seller(user__email="")
    publish("2026-10")
    given_completed_orders(seller, count=1, at="2026-11-10 12:00")

    publish("2026-11")

    assert mail.outbox == []
    row = EmailNotification.objects.get(seller=seller)
    assert (row.sent_at, row.last_error) == (None, "The seller has no email address.")


def test_the_metric_names_of_the_emails_match_the_registry():
    from metrics.engine.registry import METRICS
    from notifications.metric_names import METRIC_NAMES

    assert {key: info.label for key, info in METRICS.items()} == METRIC_NAMES


def test_the_beat_task_name_is_registered():
    # The receivers enqueue by task object; metrics' beat entry stays what it was.
    assert tasks.refresh_month_to_date.name == "metrics.tasks.refresh_month_to_date"


@pytest.mark.parametrize("sellers", [3, 30])
def test_recording_a_runs_changes_takes_a_fixed_number_of_queries(
    sellers, django_assert_max_num_queries
):
    from notifications.models import WebhookEndpoint
    from notifications.outbox import record_run_published

    given_policy()
    promoted = [a_seller(user__email=f"s{n}@example.com") for n in range(sellers)]
    runs.evaluate_period(period=Period.parse("2026-10"))
    for seller in promoted:
        given_completed_orders(seller, count=1, at="2026-11-10 12:00")
    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/in", events=["level.changed"], secret="s" * 20
    )
    run = runs.evaluate_period(period=Period.parse("2026-11")).run
    assert run is not None

    with django_assert_max_num_queries(16):
        recorded = record_run_published(run_id=run.pk)

    assert len(recorded.emails) == sellers and len(recorded.deliveries) == sellers
