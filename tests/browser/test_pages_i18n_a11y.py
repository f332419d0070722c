"""The pages in a real browser (issue 11): a seller signed in by a login link, at desktop and
phone width, in English and Korean; the next level's sentences at a boundary; the evidence
links and the CSV; the staff overview; the admin tuning and preview-impact pages;
accessibility by axe-core (vendored, version in tests/browser/vendor/README.md) with no
serious or critical violation; no Content-Security-Policy refusal; and no request leaving the
server: every request is routed here, and one to anywhere else is aborted and recorded.

Screenshots of every page are saved under tests/browser/screenshots/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine

from metrics.engine.periods import Period
from metrics.runs import evaluate_period
from tests.browser.conftest import login
from tests.dashboard_world import given_level_2_seller
from tests.factories import UserFactory, aware

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
STAFF_PASSWORD = "pw-for-tests-only"  # tests.factories.UserFactory's


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Callable]:
    """``open_page(viewport, locale)``: a fresh browser context speaking ``locale`` (its
    Accept-Language) whose requests outside the live server are aborted and recorded."""
    contexts = []
    outside: list[str] = []
    refused: list[str] = []  # the Content-Security-Policy's refusals, on the console

    def only_our_server(route) -> None:
        url = route.request.url
        if url.startswith(live_server.url) or url.startswith(("data:", "about:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    def open_(viewport: dict, locale: str):
        context = browser.new_context(viewport=viewport, locale=locale, base_url=live_server.url)
        context.route("**/*", only_our_server)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return page

    yield open_
    for context in contexts:
        context.close()
    assert outside == [], f"requests outside the server: {outside}"
    assert refused == [], f"refused by the Content-Security-Policy: {refused}"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations of the page (WCAG 2.x A and AA rules).

    axe is evaluated through the DevTools protocol, not added as a <script>: the page's
    Content-Security-Policy (no inline script) stays in force while it is checked."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fits_the_width(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in_by_link(page, staff_client, external_id: str) -> None:
    url = staff_client.post(f"/api/v1/sellers/{external_id}/login-link").json()["url"]
    page.goto(url.split("testserver", 1)[1])
    page.click("#sign-in")
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("viewport", "locale", "name"),
    [(DESKTOP, "en-US", "desktop-en"), (PHONE, "ko-KR", "phone-ko")],
)
def test_a_seller_signed_in_by_link_reads_what_the_next_level_takes(
    open_page, staff_client, viewport, locale, name
):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=True):
        given_level_2_seller()
        evaluate_period(period=Period.parse("2026-10"))
        page = open_page(viewport, locale)
        sign_in_by_link(page, staff_client, "ext-mina")

        level = page.locator("#current-level").inner_text()
        missing = page.locator("#missing").inner_text()
        metrics = page.locator("#metrics").inner_text()
        screenshot(page, f"dashboard-{name}")
        violations = serious_violations(page)
        fits = fits_the_width(page, viewport["width"])

    if locale.startswith("ko"):
        assert level == "레벨 2"
        assert "레벨 3 달성에 필요한 것" in missing
        assert "완료 주문 80건 더 또는 매출 ₩18,000,000 더 (둘 중 하나)" in missing
        assert (
            "다음 주문 3건을 취소 없이 완료하세요 (주문 성공률: 현재 83.33%, 85% 이상 필요)"
        ) in missing
        assert "문의 50건 중 46건에 24시간 이내 응답" in metrics
    else:
        assert level == "Level 2"
        assert "80 more completed orders, or ₩18,000,000 more revenue (either one)" in missing
        assert (
            "Complete your next 3 orders without a cancellation "
            "(Order success rate: 83.33 % now, at least 85 % needed)"
        ) in missing
        assert "answered 46 of 50 inquiries within 24 h" in metrics
    assert violations == []
    assert fits, "the page scrolls sideways"


def test_a_rate_opens_its_evidence_and_its_csv(open_page, staff_client):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=True):
        given_level_2_seller()
        evaluate_period(period=Period.parse("2026-10"))
        page = open_page(DESKTOP, "en-US")
        sign_in_by_link(page, staff_client, "ext-mina")

        page.click("tr[data-metric=response_rate] a.evidence")
        page.wait_for_load_state()
        heading = page.locator("h1").inner_text()
        first_rows = page.locator("tbody tr").all_inner_texts()[:4]
        screenshot(page, "evidence-response-rate-en")
        violations = serious_violations(page)
        csv = page.request.get(page.locator("#csv").get_attribute("href"))

    assert heading == "Response rate — October 2026"
    # The four missed inquiries come first, each answered late ("no" in time).
    assert all(row.rstrip().endswith("no") for row in first_rows), first_rows
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text().strip().splitlines()) == 1 + 50  # a header and every inquiry
    assert violations == []


def test_the_language_switch_turns_the_page_korean(open_page, staff_client):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=True):
        given_level_2_seller()
        evaluate_period(period=Period.parse("2026-10"))
        page = open_page(DESKTOP, "en-US")
        sign_in_by_link(page, staff_client, "ext-mina")
        page.click("#lang-ko")
        page.wait_for_load_state()
        heading = page.locator("#missing h2").inner_text()
        lang = page.get_attribute("html", "lang")

    assert (heading, lang) == ("레벨 3 달성에 필요한 것", "ko")


@pytest.mark.parametrize(
    ("viewport", "locale", "name"),
    [(DESKTOP, "en-US", "desktop-en"), (PHONE, "ko-KR", "phone-ko")],
)
def test_staff_land_on_the_overview(open_page, viewport, locale, name):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=True):
        given_level_2_seller()
        evaluate_period(period=Period.parse("2026-10"))
        UserFactory(username="ops", is_staff=True)
        page = open_page(viewport, locale)
        login(page, "ops", STAFF_PASSWORD)

        status = page.locator("#run-status").inner_text()
        distribution = page.locator("#distribution").inner_text()
        screenshot(page, f"staff-overview-{name}")
        violations = serious_violations(page)
        fits = fits_the_width(page, viewport["width"])
        page.click("#admin-links a >> nth=0")
        page.wait_for_load_state()
        admin_url = page.url

    if locale.startswith("ko"):
        assert status == "성공"
        assert "2026년 10월 등급" in distribution and "레벨 2" in distribution
    else:
        assert status == "Succeeded"
        assert "Grades of October 2026" in distribution and "Level 2" in distribution
    assert "+1" in distribution  # one seller at Level 2, none in September
    assert admin_url.endswith("/admin/metrics/evaluationrun/")
    assert violations == []
    assert fits, "the page scrolls sideways"


def test_the_login_page_is_accessible_in_korean(open_page):
    page = open_page(PHONE, "ko-KR")
    page.goto("/login/")
    heading = page.locator("h1").inner_text()
    screenshot(page, "login-phone-ko")
    assert heading == "로그인"
    assert serious_violations(page) == []


def test_staff_tune_a_draft_on_one_page_and_see_its_impact(open_page):
    from metrics.models import GradePolicy
    from metrics.policy.services import active_policy, duplicate_policy

    with time_machine.travel(aware("2026-11-02 12:00"), tick=True):
        given_level_2_seller()
        evaluate_period(period=Period.parse("2026-10"))
        draft = duplicate_policy(policy=active_policy(), actor=None)
        UserFactory(username="root", is_staff=True, is_superuser=True)
        page = open_page(DESKTOP, "en-US")
        page.goto("/admin/login/")
        page.fill("#id_username", "root")
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")
        page.goto(f"/admin/metrics/gradepolicy/{draft.pk}/change/")
        page.click("#tune-link")
        page.wait_for_load_state()
        before = page.locator("#impact").inner_text()
        # Level 3's "completed_orders >= 100" (the seller has 20) becomes ">= 20", and its
        # success rate 85 % becomes 80 % (the seller has 83.33 %): the seller moves up.
        for i in range(int(page.input_value("#id_criterion-TOTAL_FORMS"))):
            level = page.input_value(f"#id_criterion-{i}-level")
            metric = page.input_value(f"#id_criterion-{i}-metric")
            if (level, metric) == ("Level 3", "completed_orders"):
                page.fill(f"#id_criterion-{i}-value", "20")
            if (level, metric) == ("Level 3", "success_rate"):
                page.fill(f"#id_criterion-{i}-value", "80")
        page.click("input[name=_save]")
        page.wait_for_load_state()
        after = page.locator("#impact").inner_text()
        screenshot(page, "admin-tune-desktop-en")
        violations = serious_violations(page)
        # Issue 12's preview-impact page names every seller who would move.
        page.click("#preview-link")
        page.wait_for_load_state()
        movers = page.locator("#movers").inner_text()
        screenshot(page, "admin-preview-impact-desktop-en")
        preview_violations = serious_violations(page)
        page.go_back()
        page.click("input[name=_activate]")
        page.wait_for_load_state()

    assert "ext-mina" in movers and "Level 2" in movers and "Level 3" in movers
    assert preview_violations == []
    assert "0 up, 0 down, 1 unchanged" in before
    assert "1 up, 0 down, 0 unchanged" in after
    assert GradePolicy.objects.get(pk=draft.pk).is_active
    assert violations == []
