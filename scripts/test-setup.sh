#!/usr/bin/env bash
# Everything the test suite needs beyond Python packages, installed from Debian's packages:
# Chromium for the browser tests, HAProxy for the load test, LibreOffice to open exported
# workbooks and decks, the local PostgreSQL 15 server with a role for the tests, and axe-core
# from npm (tests/browser/axe). Writes .test-env for `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v libreoffice >/dev/null || need+=(libreoffice-calc-nogui)
[ -e /usr/lib/libreoffice/program/libsdlo.so ] || need+=(libreoffice-impress-nogui)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v npm >/dev/null || need+=(npm)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)  # the load test's proxy
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} from Debian's packages…"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# axe-core for the accessibility tests, at the version and checksum in its lockfile.
if [ ! -e tests/browser/axe/node_modules/axe-core/axe.min.js ]; then
  npm ci --prefix tests/browser/axe --no-audit --no-fund --loglevel=error
fi

pg_url=""
if command -v pg_ctlcluster >/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -n "$version" ]; then
    pg_ctlcluster "$version" main start 2>/dev/null || true
    for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
    as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
    as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='tandem_test'\"" | grep -q 1 ||
      as_pg "psql -qc \"CREATE ROLE tandem_test LOGIN SUPERUSER PASSWORD 'tandem_test'\""
    pg_url="postgresql+psycopg://tandem_test:tandem_test@localhost/postgres"
  fi
fi
{
  echo "export TANDEM_TEST_POSTGRES_ADMIN_URL='${pg_url}'"
  echo "export TANDEM_CHROMIUM='$(command -v chromium || true)'"
} > .test-env
echo "Test set-up done (PostgreSQL: ${pg_url:-not available})."
