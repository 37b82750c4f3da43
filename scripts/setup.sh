#!/usr/bin/env bash
# Installs everything Vigil needs on Debian (bookworm or newer), as root, idempotently:
#   - Debian packages: PostgreSQL + server headers, Redis, a compiler, cmake, nginx (benchmarks)
#   - TimescaleDB (Apache-2 edition) built from Debian's source package against the
#     installed pg_config (bookworm ships no TimescaleDB binary; see docs/operations.md
#     "Why TimescaleDB is built from source")
#   - the Python environment in .venv/
# Each step is skipped when its result is already present, so re-running is cheap.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${VIGIL_BUILD_DIR:-$ROOT/.data/build}"
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup: installing system packages needs root (or run as root once)" >&2
    exit 1
  fi
}

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  if [ $apt_updated = 0 ]; then
    log "apt-get update"; apt-get update -qq; apt_updated=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Debian packages ------------------------------------------------------------------
apt_install postgresql redis-server build-essential cmake dpkg-dev ca-certificates nginx-light \
  prometheus-blackbox-exporter docker-compose
PG_MAJOR="$(ls /usr/lib/postgresql | sort -n | tail -1)"
apt_install "postgresql-server-dev-$PG_MAJOR"
PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"

# --- TimescaleDB from Debian's source package -----------------------------------------
if ! ls "$("$PG_CONFIG" --pkglibdir)"/timescaledb-*.so >/dev/null 2>&1; then
  need_root
  # Derive a deb-src entry for the suite that carries timescaledb from this machine's own
  # Debian mirror (never a hard-coded host).
  SRC_LIST=/etc/apt/sources.list.d/vigil-timescaledb-src.sources
  if [ ! -f "$SRC_LIST" ]; then
    MIRROR="$( { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null;
                 sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
                   /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } \
               | tr ' ' '\n' | grep -E '^https?://.*/debian/?$' | head -1 || true)"
    MIRROR="${MIRROR:-http://deb.debian.org/debian}"
    log "adding deb-src for timescaledb from $MIRROR (trixie)"
    cat > "$SRC_LIST" <<SRC
Types: deb-src
URIs: $MIRROR
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -qq
  fi
  rm -rf "$BUILD_DIR/timescaledb"; mkdir -p "$BUILD_DIR/timescaledb"
  ( cd "$BUILD_DIR/timescaledb" && apt-get source -qq --download-only timescaledb >fetch.log 2>&1 \
    && dpkg-source -x --skip-patches ./timescaledb_*.dsc src >>fetch.log 2>&1 )
  log "building TimescaleDB (Apache edition) for PostgreSQL $PG_MAJOR"
  ( cd "$BUILD_DIR/timescaledb/src" \
    && cmake -S . -B build -DPG_CONFIG="$PG_CONFIG" -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF \
         -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DUSE_OPENSSL=0 -DCMAKE_BUILD_TYPE=Release >"$BUILD_DIR/timescaledb/build.log" 2>&1 \
    && make -C build -j"$(nproc)" >>"$BUILD_DIR/timescaledb/build.log" 2>&1 && make -C build install >>"$BUILD_DIR/timescaledb/build.log" 2>&1 )
  log "TimescaleDB installed into $("$PG_CONFIG" --pkglibdir)"
fi

# --- Python environment -----------------------------------------------------------------
PY="${VIGIL_PYTHON:-python3}"
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv python3-dev; fi
STAMP="$ROOT/.venv/.vigil-installed"
WANT="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -x "$ROOT/.venv/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  log "creating Python environment in .venv"
  [ -x "$ROOT/.venv/bin/python" ] || "$PY" -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/pip" install -q --upgrade pip
  "$ROOT/.venv/bin/pip" install -q -e "$ROOT[dev]"
  echo "$WANT" > "$STAMP"
fi
log "ready: PostgreSQL $PG_MAJOR + TimescaleDB, $(redis-server --version | cut -d' ' -f3), .venv"
