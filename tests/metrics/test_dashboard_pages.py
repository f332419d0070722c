"""The seller's dashboard and the staff overview as pages (SPEC §8, issue 11): plain-language
criteria at a boundary, English and Korean by Accept-Language and by the switch, the API never
translated, a seller with no evaluation, the chart's periods, grace dates, the staff overview
and the committed message catalogues."""

from __future__ import annotations

import gettext
import html as html_lib
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from metrics.engine.periods import Period
from metrics.runs import evaluate_period
from tests.dashboard_world import PASSWORD, given_level_2_seller
from tests.factories import SellerFactory, UserFactory, aware
from tests.metrics.test_runs import given_completed_orders, given_policy

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def signed_in(username: str, **headers) -> Client:
    client = Client(**headers)
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def level_2_seller():
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        seller = given_level_2_seller()
        evaluate_period(period=Period.parse("2026-10"))
    return seller


def test_the_next_level_is_said_as_sentences_with_the_gaps(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        response = signed_in("mina").get("/")

    page = text_of(response)
    assert response.status_code == 200
    assert "What it takes to reach Level 3" in page
    assert "80 more completed orders, or ₩18,000,000 more revenue (either one)" in page
    # 20 of 24 finished orders completed: (20 + k) × 100 >= 85 × (24 + k) → 15k >= 40 → k = 3.
    assert (
        "Complete your next 3 orders without a cancellation "
        "(Order success rate: 83.33 % now, at least 85 % needed)"
    ) in page
    assert "completed_orders >=" not in page and "success_rate" not in page.replace("-", "")


def test_each_rate_shows_its_counts_and_links_to_its_evidence_and_csv(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        response = signed_in("mina").get("/")

    page = text_of(response)
    assert "92 % answered 46 of 50 inquiries within 24 h" in page
    assert "83.33 % completed 20 of 24 finished orders" in page
    html = response.content.decode()
    assert 'href="/evidence/response_rate/?period=2026-10"' in html
    assert (
        'href="/api/v1/sellers/ext-mina/evidence?period=2026-10&amp;metric=response_rate'
        '&amp;format=csv"' in html
    )


def test_korean_when_the_browser_prefers_it(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        response = signed_in("mina", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.8").get("/")

    page = text_of(response)
    assert response.headers["Content-Language"] == "ko"
    assert '<html lang="ko">' in response.content.decode()
    assert "레벨 2" in page and "레벨 3 달성에 필요한 것" in page
    assert "완료 주문 80건 더 또는 매출 ₩18,000,000 더 (둘 중 하나)" in page
    assert "문의 50건 중 46건에 24시간 이내 응답" in page
    assert "2026년 11월 1일" in page  # the effective date, in Korean


def test_english_by_default_and_for_other_languages(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        plain = signed_in("mina").get("/")
        french = signed_in("mina", HTTP_ACCEPT_LANGUAGE="fr-FR,fr").get("/")

    assert plain.headers["Content-Language"] == "en"
    assert french.headers["Content-Language"] == "en"
    assert "Effective from Nov. 1, 2026" in text_of(french)


def test_the_language_switch_sticks_for_the_next_pages(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        client = signed_in("mina")
        switched = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
        page = client.get("/")

    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    assert page.headers["Content-Language"] == "ko"
    assert "내 지표" in text_of(page)


def test_the_api_is_never_translated(level_2_seller, staff_client):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        grade = staff_client.get("/api/v1/sellers/ext-mina/grade", HTTP_ACCEPT_LANGUAGE="ko")
        invalid = staff_client.get(
            "/api/v1/sellers/ext-mina/evidence?period=nope&metric=response_rate",
            HTTP_ACCEPT_LANGUAGE="ko",
        )

    assert grade.json()["level"] == "Level 2"
    assert grade.json()["next_level"]["level"] == "Level 3"
    assert "Content-Language" not in grade.headers
    assert "Expected YYYY-MM" in str(invalid.json())


def test_a_seller_with_no_evaluation_sees_what_it_takes_to_get_one():
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        SellerFactory(username="newbie", user=UserFactory(username="newbie", password=PASSWORD))
        response = signed_in("newbie").get("/")

    page = text_of(response)
    assert "Not evaluated yet" in page
    assert (
        "You get your first grade from the evaluation of November 2026, published on "
        "Dec. 1, 2026." in page
    )
    # The seeded Level 1 has no criteria, so today's figures already give it; Level 2 is next.
    assert "If evaluated today: Level 1" in page
    assert "Still missing for Level 2" in page
    assert "15 more completed orders, or ₩5,000,000 more revenue (either one)" in page
    assert (
        "1 more 5-star review (Average rating: not enough data yet, at least 4.70 needed)" in page
    )


def test_the_chart_title_counts_periods_and_one_period_gets_no_chart(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        one = signed_in("mina").get("/")
    with time_machine.travel(aware("2026-12-02 12:00"), tick=False):
        evaluate_period(period=Period.parse("2026-11"))
        two = signed_in("mina").get("/")

    assert "Last period" in text_of(one) and "<svg" not in one.content.decode()
    assert "One period evaluated so far" in text_of(one)
    assert "Last 2 periods" in text_of(two) and "<svg" in two.content.decode()


def test_at_risk_explains_the_grace_and_the_date_it_would_end():
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        given_policy(grace=2)
        seller = SellerFactory(
            username="gold", user=UserFactory(username="gold", password=PASSWORD)
        )
        given_completed_orders(seller, count=3, at="2026-09-10 10:00")
        evaluate_period(period=Period.parse("2026-09"))
        evaluate_period(period=Period.parse("2026-10"))  # no order in October: below Gold
        page = text_of(signed_in("gold").get("/"))

    assert "At risk:" in page
    assert (
        "Your metrics are below Gold's criteria, but you keep Gold thanks to the grace period "
        "(1 of 2 failing evaluations used)." in page
    )
    assert (
        "If they are still below at the evaluation of December 2026, you move to Bronze from "
        "Jan. 1, 2027." in page
    )


def test_the_dashboard_reads_a_fixed_number_of_queries(
    level_2_seller, django_assert_max_num_queries
):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        client = signed_in("mina")
        client.get("/")  # the month-to-date row is stored on the first visit
        # session, user, seller, evaluations, run policy, active policy (3), month-to-date,
        # held level, currency, what leaves the window (3)
        with django_assert_max_num_queries(15):
            response = client.get("/")
    assert response.status_code == 200


# --- the staff overview -----------------------------------------------------------------------


def given_three_periods_of_movers():
    """Gold ≥ 3 orders completed in the month, Silver ≥ 1, Bronze otherwise; 1 month of grace.

    A: Gold, Gold, then none in October → kept Gold at risk.
    B: none in September (Bronze) → 3 in October: Gold, up two levels.
    C: Gold in August, none in September (kept, at risk), 1 in October → Silver: down one.
    D: Bronze in September → 1 in October: Silver, up one.
    September: Gold 2 (A, C), Bronze 2 (B, D). October: Gold 2 (A, B), Silver 2 (C, D).
    """
    given_policy(grace=1)
    a, b, c, d = (SellerFactory(external_id=x, display_name=f"Seller {x}") for x in "ABCD")
    given_completed_orders(a, count=3, at="2026-08-10 10:00")
    given_completed_orders(a, count=3, at="2026-09-10 10:00")
    given_completed_orders(b, count=3, at="2026-10-10 10:00")
    given_completed_orders(c, count=3, at="2026-08-10 10:00")
    given_completed_orders(c, count=1, at="2026-10-10 10:00")
    given_completed_orders(d, count=1, at="2026-10-10 10:00")
    for period in ("2026-08", "2026-09", "2026-10"):
        evaluate_period(period=Period.parse(period))


def test_staff_see_the_last_run_distribution_movers_and_sellers_at_risk(
    staff_user, django_assert_max_num_queries
):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        given_three_periods_of_movers()
        client = Client()
        client.force_login(staff_user)
        with django_assert_max_num_queries(12):
            response = client.get("/")

    assert response.status_code == 200
    context = response.context
    assert context["run"]["period"] == "2026-10" and context["run"]["status"] == "succeeded"
    rows = {r["level"]: (r["count"], r["previous"], r["change"]) for r in context["distribution"]}
    assert rows == {"Gold": (2, 2, 0), "Silver": (2, 0, 2), "Bronze": (0, 2, -2)}
    assert [r["level"] for r in context["distribution"]] == ["Gold", "Silver", "Bronze"]
    assert [m["seller"].external_id for m in context["movers_up"]] == ["B", "D"]
    assert [(m["from"], m["to"]) for m in context["movers_down"]] == [("Gold", "Silver")]
    assert [e["seller"].external_id for e in context["at_risk"]] == ["A"]
    page = text_of(response)
    assert "Grades of October 2026 (change from September 2026)" in page
    assert "1 seller at risk" in page
    run_id = context["run"]["id"]
    assert f'href="/admin/metrics/evaluationrun/{run_id}/change/"' in response.content.decode()
    admin = Client()
    admin.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    assert admin.get(f"/admin/metrics/evaluationrun/{run_id}/change/").status_code == 200


def test_staff_overview_before_any_run():
    staff = UserFactory.create(username="ops", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 200
    assert "아직 실행된 평가가 없습니다." in text_of(response)


# --- the committed catalogues -----------------------------------------------------------------

LOCALE = Path(settings.BASE_DIR) / "locale"


def po_entries(path: Path) -> dict[str, str]:
    """{msgid: msgstr} of a .po file (plural entries by their singular msgid, first form)."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            match = re.match(r'(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                current = match.group(1).replace("[0]", "")
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            unescape = lambda s: s.replace('\\"', '"').replace("\\n", "\n")  # noqa: E731
            entries[unescape(fields["msgid"])] = unescape(fields.get("msgstr", ""))
    return entries


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES if code != "en"])
def test_every_catalogue_is_translated_and_compiled_as_committed(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    entries = po_entries(po)
    compiled = gettext.GNUTranslations(mo.open("rb"))

    assert entries and all(entries.values()), "every message has a translation"
    assert "fuzzy" not in po.read_text(encoding="utf-8")
    for msgid, msgstr in entries.items():
        assert compiled.gettext(msgid) == msgstr or compiled.ngettext(msgid, "", 1) == msgstr, (
            f"{mo} is not compiled from {po}: {msgid!r}"
        )


def test_every_template_string_is_in_the_catalogue():
    entries = po_entries(LOCALE / "ko" / "LC_MESSAGES" / "django.po")
    literals = set()
    for template in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        literals |= set(re.findall(r'{% translate "([^"]+)" %}', template.read_text()))
    assert literals and literals <= set(entries), sorted(literals - set(entries))


def test_the_evidence_page_speaks_korean_too(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        client = signed_in("mina", HTTP_ACCEPT_LANGUAGE="ko")
        response = client.get("/evidence/success_rate/?period=2026-10")

    page = text_of(response)
    assert "주문 성공률 — 2026년 10월" in page
    assert "전체 24건 CSV 다운로드" in page  # 20 completed and 4 cancelled orders
    assert page.count("(구매자 취소)") == 4


def test_an_either_or_threshold_names_its_alternative(level_2_seller):
    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        english = signed_in("mina").get("/")
        korean = signed_in("mina", HTTP_ACCEPT_LANGUAGE="ko").get("/")

    assert "at least 100 (or Revenue)" in text_of(english)
    assert "at least ₩20,000,000 (or Completed orders)" in text_of(english)
    assert "100 이상 (또는 매출)" in text_of(korean)


def test_every_python_string_marked_for_translation_is_in_the_catalogue():
    """The literals of gettext/ngettext/gettext_noop calls in the apps, read with ast."""
    import ast

    entries = set(po_entries(LOCALE / "ko" / "LC_MESSAGES" / "django.po"))
    marked = set()
    for app in ("common", "metrics", "orders", "reviews"):
        for source in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                first = node.args[0]
                if name in {"_", "gettext", "ngettext", "gettext_noop"} and isinstance(
                    first, ast.Constant
                ):
                    marked.add(str(first.value))
    assert marked and marked <= entries, sorted(marked - entries)


def test_the_overview_of_an_open_run_refreshes_itself(staff_user):
    from metrics.models import EvaluationRun

    with time_machine.travel(aware("2026-11-02 12:00"), tick=False):
        EvaluationRun.objects.create(
            period="2026-10", status="running", started_at=aware("2026-11-02 11:58")
        )
        client = Client()
        client.force_login(staff_user)
        response = client.get("/")

    assert response.context["run"]["duration"] == "2 min 0 s"
    assert '<meta http-equiv="refresh" content="10">' in response.content.decode()
    assert "Running" in text_of(response)


def test_the_pages_and_the_emails_translate_a_shared_message_alike():
    """locale/ wins over an app's catalogue for the same message: they must agree, or the
    project catalogue would silently change the emails' words (notifications/locale)."""
    pages = po_entries(LOCALE / "ko" / "LC_MESSAGES" / "django.po")
    for app_catalogue in Path(settings.BASE_DIR).glob("*/locale/ko/LC_MESSAGES/django.po"):
        app = po_entries(app_catalogue)
        differ = {m: (pages[m], app[m]) for m in set(pages) & set(app) if pages[m] != app[m]}
        assert differ == {}, (app_catalogue, differ)
