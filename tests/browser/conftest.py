"""Page tests drive Debian's real headless Chromium through Playwright (never a downloaded one)."""

import os
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
# Playwright's sync API runs an event loop in this thread; the live server and the test's own
# ORM calls are plain sync code, which Django would otherwise refuse as "async-unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-services.sh (installs chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, base_url=live_server.url)
    external: list[str] = []

    def _track(request) -> None:
        if not request.url.startswith(live_server.url) and not request.url.startswith("data:"):
            external.append(request.url)

    # The Content-Security-Policy refuses anything inline or foreign: Chromium reports each
    # refusal on the console, and a refused script or style is a broken page.
    refused: list[str] = []

    def _csp(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page = context.new_page()
    page.on("request", _track)
    page.on("console", _csp)
    yield page
    context.close()
    # Pages work offline: nothing may be fetched from anywhere but our own server.
    assert external == [], f"external requests: {external}"
    assert refused == [], f"refused by the Content-Security-Policy: {refused}"


def login(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
