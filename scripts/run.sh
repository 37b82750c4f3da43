#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then starts PostgreSQL+TimescaleDB, Redis and
# every Vigil service with a demo (vigil up). Ctrl-C stops everything; data stays in .data/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
exec .venv/bin/vigil up "$@"
