"""The Content-Security-Policy (issue 10 #4) keeps every page working: the API docs (Swagger
UI from the sidecar package) and the admin run with no inline script and no foreign source.
The ``page`` fixture fails a test on any request outside the server or any CSP refusal."""

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_under_the_policy(page):
    response = page.goto("/api/docs/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "GradeCraft API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")  # the operations, from /api/schema/


def test_the_admin_works_under_the_policy(page, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "a-long-admin-pass")
    page.goto("/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "a-long-admin-pass")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    page.goto("/admin/metrics/gradepolicy/")

    page.wait_for_selector("#changelist")
    page.click("#action-toggle")  # admin's own script (actions.js) runs

    assert page.is_checked("#action-toggle")


def test_the_login_page_works_under_the_policy(page):
    login(page, "nobody", "wrong")

    assert page.url.endswith("/login/")
