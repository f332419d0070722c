#!/usr/bin/env bash
# Make sure the real services the test suite uses are up: PostgreSQL, Redis, and Chromium for
# the page tests. Installs from Debian's packages when missing; starts what is stopped.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL
if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

# Redis
if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
echo "redis: $(redis-cli -h 127.0.0.1 -p 6379 ping)"

# Chromium (page tests drive it headless through Playwright; never a downloaded browser);
# SKIP_BROWSER=1 (make up) leaves it out.
if [ "${SKIP_BROWSER:-0}" = 1 ]; then exit 0; fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt_install chromium chromium-driver
fi
# A Korean font, so the screenshots of the Korean pages (tests/browser/screenshots/) are legible.
if [ ! -d /usr/share/fonts/truetype/nanum ]; then apt_install fonts-nanum; fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"
