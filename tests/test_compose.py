"""docker-compose.yml read back (issue 10 #2). No Docker engine runs here, so the file is
validated against the Compose Specification's JSON schema (vendored: tests/vendor/compose-spec)
and what it declares is checked: the services, their commands, health checks, dependencies,
volumes, and an environment that is production's (it passes ``check --deploy``)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/vendor/compose-spec/compose-spec.json").read_text())
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP = ("migrate", "web", "worker", "beat")
REQUIRED = {"SECRET_KEY", "POSTGRES_PASSWORD", "ALLOWED_HOSTS", "PUBLIC_BASE_URL"}


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ${X}, ${X:-default}, ${X:?error} (a missing X fails), $$."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = variables.get(name, "")
        if operator == ":?" and not value:
            raise LookupError(f"{name}: {argument}")
        if operator == ":-" and not value:
            return argument
        return value

    text = re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[?-])([^}]*))?\}", one, text)
    return text.replace("$$", "$")


def test_the_file_is_valid_against_the_compose_specification():
    jsonschema.Draft201909Validator(SCHEMA).validate(COMPOSE)


def test_an_invalid_file_would_be_caught():
    """The schema is really applied: a typo in a key is refused."""
    broken = {"services": {"web": {"image": "x", "healthcheck": {"tests": ["CMD", "true"]}}}}

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(SCHEMA).validate(broken)


def test_the_stack_has_its_services_and_volumes():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata"}
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "redisdata:/data" in SERVICES["redis"]["volumes"]


def test_every_long_running_service_has_a_health_check():
    for name in ("postgres", "redis", "web", "worker"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["web"]["healthcheck"]["test"][-1].endswith("/healthz")
    assert (ROOT / SERVICES["web"]["healthcheck"]["test"][2]).exists()  # scripts/healthcheck.py


def test_migrations_run_once_before_web_workers_and_beat():
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_workers_scale_and_there_is_exactly_one_beat():
    worker = SERVICES["worker"]
    # --scale worker=N: nothing that two containers could not share.
    assert not {"ports", "container_name", "hostname"} & set(worker)
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert not {"ports", "container_name"} & set(SERVICES["beat"])


def commands() -> dict[str, list[str]]:
    return {name: SERVICES[name]["command"] for name in ("web", "worker", "beat")}


def test_the_processes_run_the_project_entry_points():
    run = commands()
    assert run["web"][:2] == ["gunicorn", "gradecraft.wsgi"]
    assert run["worker"][:4] == ["celery", "-A", "gradecraft", "worker"]
    assert run["beat"][:4] == ["celery", "-A", "gradecraft", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in run["beat"]


def test_compose_and_the_procfile_of_make_up_run_the_same_programs():
    procfile = dict(
        line.split(": ", 1)
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name, command in commands().items():
        program = 2 if name == "web" else 4  # gunicorn gradecraft.wsgi | celery -A gradecraft X
        assert shlex.split(procfile[name])[:program] == command[:program], name
    assert "--scheduler" in procfile["beat"] and "DatabaseScheduler" in procfile["beat"]


def app_environment(variables: dict[str, str]) -> dict[str, str]:
    env = SERVICES["web"]["environment"]
    return {key: interpolate(str(value), variables) for key, value in env.items()}


def test_every_app_service_shares_one_production_environment():
    for name in APP:
        assert SERVICES[name]["environment"] == SERVICES["web"]["environment"], name
    env = SERVICES["web"]["environment"]
    assert env["DEBUG"] == "False"
    assert "DEMO" not in env  # no demo logins in production
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:")
    assert env["CACHE_URL"].startswith("redis://redis:")  # throttles count across processes
    assert env["DATABASE_URL"].startswith("postgres://")


def test_secrets_and_the_site_address_must_be_given():
    """Nothing demo-only can reach production: no default secret, password or host."""
    text = (ROOT / "docker-compose.yml").read_text()
    given = {name: "given" for name in REQUIRED}
    interpolate(text, given)  # all given: the file resolves

    for missing in REQUIRED:
        with pytest.raises(LookupError, match=missing):
            interpolate(text, {k: v for k, v in given.items() if k != missing})


def test_the_web_port_is_published_on_loopback_only():
    assert SERVICES["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_the_environment_it_declares_passes_check_deploy():
    env = app_environment(
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "POSTGRES_PASSWORD": "pw",
            "ALLOWED_HOSTS": "grades.example.com",
            "PUBLIC_BASE_URL": "https://grades.example.com",
        }
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "CELERY_", "DJANGO_"))
        and k not in {"DEBUG", "SECRET_KEY", "CACHE_URL", "DEMO", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
