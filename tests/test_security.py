"""Production hardening (issue 10 #3, #4): HTTPS settings pass ``check --deploy``, the proxy
header is trusted only when configured, and unknown API paths answer JSON."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent
# A real-looking secret: check --deploy also judges the key's length and variety.
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "k7#Qz1vLp9@Xw3Rt5Yb8Nc2Md6Fg0Hj4Sa-Ue_Io+Ty!e2Wq8Zr0Kd3Lm5Np",
    "ALLOWED_HOSTS": "grades.example.com",
    # Throttles count in a shared cache (no connection is made by the checks).
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}
PRINT = (
    "import os; os.environ['DJANGO_SETTINGS_MODULE']='gradecraft.settings'; "
    "from django.conf import settings as s; "
    "print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None), s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (Playwright's event loop), not production's.
    for name in ("SECRET_KEY", "DEBUG", "DEMO", "ALLOWED_HOSTS", "TRUST_X_FORWARDED_PROTO",
                 "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_URL", "TRUSTED_PROXY_COUNT"):  # fmt: skip
        clean.pop(name, None)
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip


def test_production_settings_pass_check_deploy_at_warning_level():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_sends_hsts_redirects_to_https_and_secures_cookies():
    result = run(["-c", PRINT], **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "True", "31536000", "True", "True"]


def test_the_https_redirect_can_be_left_to_the_proxy():
    result = run(["-c", PRINT], **PRODUCTION, SECURE_SSL_REDIRECT="False")

    assert result.stdout.split()[1] == "False", result.stderr


def test_x_forwarded_proto_is_trusted_only_when_configured():
    trusted = run(["-c", PRINT], **PRODUCTION, TRUST_X_FORWARDED_PROTO="true")

    assert trusted.stdout.startswith("('HTTP_X_FORWARDED_PROTO', 'https')"), trusted.stderr


def test_production_without_a_shared_cache_fails_check_deploy():
    """Throttles counted per process multiply every limit by the number of web processes."""
    env = {k: v for k, v in PRODUCTION.items() if k != "CACHE_URL"}

    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)

    assert result.returncode != 0
    assert "common.W001" in result.stdout + result.stderr


def test_debug_is_off_unless_asked_for():
    """A deployment that forgets DEBUG gets production's posture: no key, no start."""
    result = run(["-c", PRINT])

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "DEBUG=True" in result.stderr


def test_development_trusts_no_proxy_header_and_keeps_http():
    result = run(["-c", PRINT], DEBUG="True")

    assert result.stdout.split() == ["None", "False", "0", "False", "False"], result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v1/sellers/x/nothing/deeper", "/api/v2/sellers", "/api/"]
)
def test_an_unknown_api_path_answers_json_404(path, staff_client):
    response = staff_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_an_unknown_api_path_answers_json_404_to_any_method_without_csrf():
    client = APIClient(enforce_csrf_checks=True)

    response = client.post("/api/v1/nothing-here", {"a": 1}, format="json")

    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_an_unknown_page_outside_the_api_is_still_a_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


SOURCES_OF_OUR_OWN = {"'self'", "'none'", "'unsafe-inline'", "data:"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/api/v1/sellers", "/admin/login/", "/"])
def test_every_response_carries_a_content_security_policy_with_no_external_source(path, client):
    response = client.get(path)

    policy = dict(
        (part.split()[0], part.split()[1:])
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval
    assert policy["frame-ancestors"] == ["'none'"]
    assert {source for sources in policy.values() for source in sources} <= SOURCES_OF_OUR_OWN
    assert "'unsafe-inline'" not in policy["style-src"]  # only style attributes (style-src-attr)


@pytest.mark.django_db
def test_the_api_docs_alone_admit_inline_styles_and_still_no_inline_script(client):
    """Swagger UI injects a <style> element; its script is a file like every other."""
    policy = client.get("/api/docs/")["Content-Security-Policy"]

    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy + ";"
