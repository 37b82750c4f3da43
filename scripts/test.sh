#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), lints, and runs the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k writer
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
.venv/bin/ruff check .
# setup.sh installed Chromium and axe-core: the browser test must run, not skip.
export VIGIL_REQUIRE_BROWSER=1
exec .venv/bin/pytest "$@"
