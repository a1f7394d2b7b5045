#!/usr/bin/env bash
# `npm test`: installs what is missing, starts what the suites need (PostgreSQL when
# DATABASE_URL is unset; each suite starts its own Temporal dev server, Azurite, SMTP server
# and platform emulator, and the point-in-time suites their own archiving PostgreSQL with a
# pgBackRest repository), type-checks, then runs every suite on real services.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x node_modules/.bin/tsx ] || npm install --no-audit --no-fund

# The Temporal CLI, installed once into the cache when it is not found (see temporal-dev.sh).
TEMPORAL_CLI="$(bash ./temporal-dev.sh --print-path)"
export TEMPORAL_CLI

# A Debian package a suite needs, installed with apt-get when run as root; otherwise, or if that
# fails, the suite that needs it fails and says so, and this says how to install it.
#   need_package <command> <package> <what needs it> <how to install it by hand>
need_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 (Debian package) for $3"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$2" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$2" >/dev/null 2>&1; } ||
      echo "could not install $2 with apt-get; $3 will fail" >&2
  else
    echo "$1 is not installed ($4); $3 will fail" >&2
  fi
}

# sqlfluff, the second T-SQL parser of tsql-batches.test.ts.
[ -n "${SQLFLUFF:-}" ] || need_package sqlfluff sqlfluff "the T-SQL parse test" "'sudo apt-get install sqlfluff' or 'pip install sqlfluff==1.4.5'"
# pgBackRest, the continuous backup the point-in-time suites restore from.
need_package pgbackrest pgbackrest "the point-in-time tests" "'sudo apt-get install pgbackrest'"
# Debian's Chromium, the browser the Web UI test drives (never a downloaded one).
[ -n "${CHROMIUM_PATH:-}" ] || need_package chromium chromium "the Web UI test" "'sudo apt-get install chromium', or set CHROMIUM_PATH"

pg_pid=""
# `wait` answers 143 for a server stopped by SIGTERM: under `set -e` that must not become the
# script's exit status, which is the test run's.
cleanup() { if [ -n "$pg_pid" ]; then kill "$pg_pid" 2>/dev/null || true; wait "$pg_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [ -z "${DATABASE_URL:-}" ]; then
  fifo="$(mktemp -u)"; mkfifo "$fifo"
  port="${TEST_PG_PORT:-54329}"
  rm -rf ".stack/test-pg-$port"
  node --import tsx stack/postgres-main.ts "$port" ".stack/test-pg-$port" >"$fifo" &
  pg_pid=$!
  read -r status url <"$fifo" || true
  rm -f "$fifo"
  [ "$status" = ready ] || { echo "could not start the embedded PostgreSQL" >&2; exit 1; }
  export DATABASE_URL="$url"
fi
echo "PostgreSQL: ${DATABASE_URL//:postgres@/:***@}"

node_modules/.bin/tsc -p tsconfig.json --noEmit

mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ $# -gt 0 ]; then files=("$@"); fi
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
