#!/usr/bin/env bash
# Starts a local Temporal dev server with its Web UI, persisting to a file, with the clone's
# search attributes registered. Finds the `temporal` CLI on $TEMPORAL_CLI, on PATH, or in the
# local cache, and installs it into the cache when none is found.
#
#   ./temporal-dev.sh [--port 7233] [--ui-port 8233] [--db-filename FILE] [--headless]
#                     [--ui-codec-endpoint URL]   # the Web UI decodes payloads there (npm run codec-server)
#   ./temporal-dev.sh --print-path     # only find (or install) the CLI and print its path
set -euo pipefail

CLI_VERSION=v1.5.1
CACHE_DIR="${TENANT_CLONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenant-clone}/bin"
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"

say() { echo "temporal-dev: $*" >&2; }

install_cli() {
  mkdir -p "$CACHE_DIR"
  local go_bin
  go_bin="$(command -v go || true)"
  [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
  if [ -n "$go_bin" ]; then
    # v1.5.1 has no `replace` directives in its go.mod, so `go install` builds it as released.
    say "installing the Temporal CLI $CLI_VERSION with go install (a few minutes, once)"
    GOBIN="$CACHE_DIR" GOFLAGS=-mod=mod "$go_bin" install "github.com/temporalio/cli/cmd/temporal@$CLI_VERSION" >&2
  else
    say "installing the Temporal CLI $CLI_VERSION from the official download"
    local os arch tmp
    os="$(uname -s | tr '[:upper:]' '[:lower:]')"
    case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
    tmp="$(mktemp -d)"
    curl -fsSL "https://temporal.download/cli/archive/${CLI_VERSION}?platform=${os}&arch=${arch}" -o "$tmp/cli.tgz"
    tar -xzf "$tmp/cli.tgz" -C "$tmp"
    mv "$tmp/temporal" "$CACHE_DIR/temporal"
    rm -rf "$tmp"
  fi
}

find_cli() {
  if [ -n "${TEMPORAL_CLI:-}" ]; then
    [ -x "$TEMPORAL_CLI" ] || { say "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file"; exit 2; }
    echo "$TEMPORAL_CLI"
  elif command -v temporal >/dev/null 2>&1; then
    command -v temporal
  elif [ -x "$CACHE_DIR/temporal" ]; then
    echo "$CACHE_DIR/temporal"
  else
    install_cli
    echo "$CACHE_DIR/temporal"
  fi
}

port=7233
ui_port=8233
db_file="$here/.stack/temporal.db"
headless=()
codec=()
while [ $# -gt 0 ]; do
  case "$1" in
    --print-path) find_cli; exit 0 ;;
    --port) port="$2"; shift 2 ;;
    --ui-port) ui_port="$2"; shift 2 ;;
    --db-filename) db_file="$2"; shift 2 ;;
    --headless) headless=(--headless); shift ;;
    --ui-codec-endpoint) codec=(--ui-codec-endpoint "$2"); shift 2 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) say "unknown option $1"; exit 2 ;;
  esac
done

cli="$(find_cli)"
mkdir -p "$(dirname "$db_file")"
say "Temporal at 127.0.0.1:$port, Web UI at http://127.0.0.1:$ui_port, state in $db_file"
exec "$cli" server start-dev \
  --ip 127.0.0.1 --port "$port" --ui-port "$ui_port" \
  --db-filename "$db_file" \
  --search-attribute CloneSource=Keyword \
  --search-attribute CloneTarget=Keyword \
  --search-attribute ClonePlan=Keyword \
  --search-attribute CloneStep=Keyword \
  --log-level warn \
  "${headless[@]}" "${codec[@]}"
