"""The direction of a level move has one owner, ``PolicySnapshot.move`` (issue 23 #2): the run
log, the level-changed email, the policy preview and the staff overview all ask it, and agree
when the level a seller held has left the policy."""

from __future__ import annotations

import logging

import pytest
import time_machine

from metrics import runs
from metrics.engine.grading import PolicySnapshot
from metrics.engine.periods import Period
from metrics.models import SellerEvaluation
from metrics.policy.preview import preview_policy
from metrics.policy.services import active_policy, snapshot_of
from metrics.web.selectors import staff_overview
from notifications.models import EmailNotification
from tests.factories import aware
from tests.metrics.test_runs import a_seller, given_completed_orders, given_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_events():
    """The run events' records as the ``metrics.runs.events`` logger emits them."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("metrics.runs.events")
    handler, disabled, level = Collect(), logger.disabled, logger.level
    logger.addHandler(handler)
    logger.disabled = False
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.disabled, logger.level = disabled, level


SNAPSHOT = PolicySnapshot.from_json(
    {
        "levels": [
            {"name": "Bronze", "rank": 1, "criteria": []},
            {"name": "Silver", "rank": 2, "criteria": []},
        ]
    }
)


def given_a_held_level_that_left_the_policy():
    """A seller evaluated in September at Platinum, a level the policy no longer has, who
    reaches Gold in October."""
    given_policy()
    seller = a_seller()
    given_completed_orders(seller, count=3, at="2026-10-10 12:00")
    with time_machine.travel(aware("2026-11-03 10:00"), tick=False):
        runs.evaluate_period(period=Period(2026, 9))
    SellerEvaluation.objects.filter(period="2026-09").update(level="Platinum", level_rank=4)
    return seller


@pytest.mark.parametrize(
    ("before", "after", "move"),
    [
        ("Bronze", "Silver", "up"),
        ("Silver", "Bronze", "down"),
        ("Silver", "Silver", "same"),
        (None, "Bronze", "up"),  # a first level
        ("Bronze", None, "down"),  # no level any more
        (None, None, "same"),
        ("Platinum", "Bronze", "up"),  # a held level the policy no longer has: below every level
        ("Platinum", None, "same"),
        ("Platinum", "Gone", "same"),
    ],
)
def test_the_one_rule_of_a_move(before, after, move):
    assert SNAPSHOT.move(before, after) == move


@pytest.mark.sqlite
def test_every_caller_says_up_for_a_seller_whose_held_level_left_the_policy(
    django_capture_on_commit_callbacks,
):
    # given a seller whose September level, Platinum, is one the policy no longer has
    seller = given_a_held_level_that_left_the_policy()

    # when October is evaluated (Gold now) and published
    with (
        time_machine.travel(aware("2026-11-03 10:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = runs.evaluate_period(period=Period(2026, 10))

    # then the run's log, the email and the staff overview agree with the one rule: up
    snapshot = snapshot_of(active_policy())
    assert snapshot.move("Platinum", "Gold") == "up"
    assert outcome.run is not None
    email = EmailNotification.objects.get(seller=seller, period="2026-10")
    assert (email.context["from"], email.context["to"]) == ("Platinum", "Gold")
    assert email.context["direction"] == "up"
    overview = staff_overview(movers=10, at_risk=10)
    assert [e.seller_id for e in overview.movers_up] == [seller.pk]
    assert overview.movers_down == []
    # and the preview of a draft that renamed Gold (so Gold left the draft) says up too
    data = snapshot.to_json()
    for level in data["levels"]:
        if level["name"] == "Gold":
            level["name"] = "Gold II"
    preview = preview_policy(snapshot=PolicySnapshot.from_json(data), run=outcome.run)
    assert (preview.up, preview.down) == (1, 0)


def test_the_run_log_counts_moves_by_the_one_rule(run_events):
    given_a_held_level_that_left_the_policy()

    with time_machine.travel(aware("2026-11-03 10:00"), tick=False):
        runs.evaluate_period(period=Period(2026, 10))

    published = [r for r in run_events if getattr(r, "event", None) == "run.published"]
    assert published[-1].level_changes == {"up": 1, "down": 0, "same": 0}  # type: ignore[attr-defined]
