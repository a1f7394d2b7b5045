#!/usr/bin/env bash
# `npm test`: installs what is missing, starts what the suites need (PostgreSQL when
# DATABASE_URL is unset; each suite starts its own Temporal dev server, Azurite, SMTP server
# and platform emulator), type-checks, then runs every suite on real services.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x node_modules/.bin/tsx ] || npm install --no-audit --no-fund

# The Temporal CLI, installed once into the cache when it is not found (see temporal-dev.sh).
TEMPORAL_CLI="$(bash ./temporal-dev.sh --print-path)"
export TEMPORAL_CLI

# sqlfluff, the second T-SQL parser of tsql-batches.test.ts: Debian ships it. Without it that
# test fails and says how to install it.
if [ -z "${SQLFLUFF:-}" ] && ! command -v sqlfluff >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing sqlfluff (Debian package) for the T-SQL checks"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq sqlfluff >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq sqlfluff >/dev/null 2>&1; } ||
      echo "could not install sqlfluff with apt-get; the T-SQL parse test will fail" >&2
  else
    echo "sqlfluff is not installed ('sudo apt-get install sqlfluff' or 'pip install sqlfluff==1.4.5'); the T-SQL parse test will fail" >&2
  fi
fi

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
