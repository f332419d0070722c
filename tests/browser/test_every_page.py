"""Every page at 1280 and 360 px, in English and Korean (issue 21): no horizontal overflow
outside the declared scroll areas (``.scroll``, ``.gc-scroll``, admin's result lists), no
serious axe violation, and none of the strings the issue found (raw metric keys and code-like
criteria, dates in the formats it listed, task results logged as ``False``)."""

from __future__ import annotations

import re

import pytest
import time_machine

from metrics.engine.periods import Period
from metrics.models import GradePolicy
from metrics.runs import evaluate_period
from tests.browser.conftest import login
from tests.browser.test_pages_i18n_a11y import (
    DESKTOP,
    PHONE,
    STAFF_PASSWORD,
    open_page,  # noqa: F401 - the fixture
    screenshot,
    serious_violations,
)
from tests.dashboard_world import given_level_2_seller
from tests.factories import UserFactory, aware

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Elements allowed to be wider than the page: they scroll inside themselves.
OVERFLOW = """(width) => {
  const inScroll = (el) => el.closest('.scroll, .gc-scroll, .results, pre');
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1 && !inScroll(el))
      wide.push(el.tagName + '#' + el.id + '.' + el.className);
  }
  return {scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5)};
}"""
FORBIDDEN = [
    re.compile(r"\b(completed_orders|response_rate|success_rate|average_rating)\s*[<>]="),
    re.compile(r"\d{2}/\d{2}/\d{4} \d{1,2}:\d{2} [ap]\.m\."),  # 09/02/2026 5:34 p.m.
    re.compile(r"\b\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}\b"),  # 2026-9-2 17:34
    re.compile(r"succeeded in .*: False"),
]


def check(page, width: int, name: str) -> list[str]:
    screenshot(page, name)
    problems = []
    fit = page.evaluate(OVERFLOW, width)
    if fit["scroll"] > width or fit["wide"]:
        problems.append(f"{name}: overflow {fit}")
    text = page.locator("body").inner_text()
    problems += [f"{name}: {p.pattern}" for p in FORBIDDEN if p.search(text)]
    problems += [f"{name}: {v}" for v in serious_violations(page)]
    return problems


@pytest.mark.parametrize(
    ("viewport", "locale"),
    [(DESKTOP, "en-US"), (DESKTOP, "ko-KR"), (PHONE, "en-US"), (PHONE, "ko-KR")],
)
def test_every_page_fits_reads_well_and_is_accessible(open_page, viewport, locale):  # noqa: F811
    tag = f"{viewport['width']}-{locale[:2]}"
    problems: list[str] = []
    with time_machine.travel(aware("2026-11-02 12:00"), tick=True):
        given_level_2_seller()
        for period in ("2026-09", "2026-10"):
            evaluate_period(period=Period.parse(period))
        UserFactory(username="root", is_staff=True, is_superuser=True)
        policy = GradePolicy.objects.get(is_active=True).pk
        page = open_page(viewport, locale)
        login(page, "root", STAFF_PASSWORD)
        for path, name in [
            ("/", "overview"),
            ("/?q=mina", "overview-search"),
            ("/staff/sellers/ext-mina/", "staff-seller"),
            ("/staff/sellers/ext-mina/dashboard/", "seller-dashboard"),
            ("/admin/metrics/evaluationrun/", "admin-runs"),
            ("/admin/metrics/gradepolicy/", "admin-policies"),
            ("/evidence/on_time_rate/?period=2026-10&seller=ext-mina", "evidence"),
            ("/evidence/response_rate/?period=2026-10&seller=ext-mina", "evidence-inquiries"),
            (f"/admin/metrics/gradepolicy/{policy}/tune/", "admin-tuning"),
            (f"/admin/metrics/gradepolicy/{policy}/preview/", "admin-preview"),
            ("/admin/metrics/appeal/", "admin-appeals"),
        ]:
            page.goto(path)
            page.wait_for_load_state()
            problems += check(page, viewport["width"], f"{name}-{tag}")
    assert problems == []
