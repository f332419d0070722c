#!/usr/bin/env bash
# make up: GradeCraft's production process layout on this machine, without Docker: gunicorn,
# WORKERS Celery workers (default 2) and exactly one beat (honcho, Procfile), on the local
# PostgreSQL and Redis, with the production settings (DEBUG off) over HTTP on loopback.
# Settings: ops/local.env, each overridable from the environment. Ctrl-C stops them all.
#   scripts/up.sh --worker   one more Celery worker beside a running stack (make up-worker)
#   scripts/up.sh --manage createsuperuser   a manage.py command on the same settings
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
WORKERS=${WORKERS:-2}
export PATH="$PWD/.venv/bin:$PATH"  # the Procfile's gunicorn and celery

SKIP_BROWSER=1 bash scripts/ensure-services.sh >/dev/null

# ops/local.env, unless the environment says otherwise.
while IFS='=' read -r key value; do
  [[ -z "$key" || "$key" == \#* ]] && continue
  if [ -z "${!key:-}" ]; then export "$key=$value"; fi
done < ops/local.env
mkdir -p .local
if [ ! -s .local/secret.env ]; then
  "$PY" -c 'import secrets; print("SECRET_KEY=" + secrets.token_urlsafe(50))' > .local/secret.env
  chmod 600 .local/secret.env
fi
if [ -z "${SECRET_KEY:-}" ]; then export "$(cat .local/secret.env)"; fi

if [ "${1:-}" = "--manage" ]; then
  shift
  exec "$PY" manage.py "$@"
fi
if [ "${1:-}" = "--worker" ]; then
  exec celery -A gradecraft worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-2}" \
    -n "extra-$$@%h"
fi

# The database of DATABASE_URL, created if missing (PostgreSQL).
"$PY" - <<'PYTHON'
import os, environ, psycopg2
db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
if db["ENGINE"].endswith("postgresql"):
    server = psycopg2.connect(dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None,
                              host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
            print(f"created database {db['NAME']}")
PYTHON
"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput -v0
echo "GradeCraft (production settings) at ${PUBLIC_BASE_URL} — health: ${PUBLIC_BASE_URL}/healthz"
echo "web, ${WORKERS} worker(s), one beat; staff login: $PY manage.py createsuperuser (same env)"
exec .venv/bin/honcho start -f Procfile -c "worker=${WORKERS}"
