"""The settings module as a fresh process sees it: embedded default and production guard."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='gradecraft.settings'; "
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.TIME_ZONE)"
)


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    clean.pop("SECRET_KEY", None)
    clean.pop("DEBUG", None)
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_with_nothing_configured_but_development_mode_the_app_runs_on_sqlite_with_eager_tasks():
    result = run_settings(DEBUG="True")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "Asia/Seoul"]


def test_database_and_broker_urls_switch_to_postgresql_and_a_real_broker():
    result = run_settings(
        DEBUG="True",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["django.db.backends.postgresql", "False"]


def test_production_refuses_to_start_without_a_real_secret_key():
    result = run_settings(DEBUG="False")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_real_secret_key():
    result = run_settings(DEBUG="False", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def installed_demo(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    for name in ("SECRET_KEY", "DEBUG", "DEMO"):
        clean.pop(name, None)
    return subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='gradecraft.settings'; "
            "from django.conf import settings as s; print('demo' in s.INSTALLED_APPS)",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_demo_world_is_installed_only_in_demo_mode():
    production = installed_demo(DEBUG="False", SECRET_KEY="x" * 50)
    assert (production.returncode, production.stdout.strip()) == (0, "False"), production.stderr
    assert installed_demo(DEBUG="True").stdout.strip() == "True"  # make run's development mode
    assert installed_demo(DEBUG="True", DEMO="False").stdout.strip() == "False"
    # Demo logins never exist with DEBUG off, even if DEMO is asked for.
    forced = installed_demo(DEBUG="False", SECRET_KEY="x" * 50, DEMO="True")
    assert (forced.returncode, forced.stdout.strip()) == (0, "False"), forced.stderr


def test_a_fresh_process_knows_the_evaluation_tasks_by_name():
    """Runs are enqueued by task name: the web process and the commands must have them too."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-c",
            "import os, django; os.environ['DJANGO_SETTINGS_MODULE']='gradecraft.settings'; "
            "django.setup(); from celery import current_app; "
            "print(sorted(n for n in current_app.tasks if n.startswith('metrics.')))",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "'metrics.tasks.evaluate_run'" in result.stdout
    assert "'metrics.tasks.evaluate_chunk'" in result.stdout
