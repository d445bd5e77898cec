#!/usr/bin/env bash
# Installs and starts what the test suite needs on a fresh Debian machine (run as root or with sudo):
# Redis and PostgreSQL servers, Chromium for the HTML report screenshot, the npm packages, then each
# real peer of scripts/test-env.d/ (SciPy and ONNX first: the parity tests and the test model). Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
python3 -c "import venv, ensurepip" 2>/dev/null || need+=(python3-venv)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-env: installing ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL (Debian's cluster): a role and database for the offline-store tests.
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres bash -c "$1"; fi; }
PG_VERSION=$(ls /etc/postgresql | sort -n | tail -1)
$SUDO pg_ctlcluster "$PG_VERSION" main start 2>/dev/null || true
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
as_postgres "psql -tAq -c \"SELECT 1 FROM pg_roles WHERE rolname='mlops'\"" | grep -q 1 \
  || as_postgres "psql -q -c \"CREATE ROLE mlops LOGIN SUPERUSER PASSWORD 'mlops'\""
as_postgres "psql -tAq -c \"SELECT 1 FROM pg_database WHERE datname='mlops'\"" | grep -q 1 || as_postgres "createdb -O mlops mlops"
echo "test-env: PostgreSQL ready at postgres://mlops:mlops@127.0.0.1:5432/mlops"

# npm packages exactly as locked (onnxruntime's download is skipped by .npmrc).
if [ "${CI:-}" = "true" ] || [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi

# Real peers (Feast, tritonclient, KServe, MLflow, Evidently, schemathesis, Checkov, kube-score,
# Polaris, ...): one file per peer in scripts/test-env.d/, each installing pinned versions outside the
# repository with the helpers below. Their pins clash, so each Python peer gets its own virtualenv.
export MLOPS_CACHE="${MLOPS_CACHE:-$HOME/.cache/mlops}"
mkdir -p "$MLOPS_CACHE"
# make_venv NAME CONSTRAINTS: a virtualenv at $MLOPS_CACHE/venv-NAME with exactly the pins in
# scripts/constraints/CONSTRAINTS (a pip requirements file with == pins); reinstalled only when the pins change.
make_venv() {
  local name="$1" req="scripts/constraints/$2" dir="$MLOPS_CACHE/venv-$1"
  local stamp; stamp=$(sha256sum "$req" | cut -c1-16)
  if [ -f "$dir/.pins" ] && [ "$(cat "$dir/.pins")" = "$stamp" ]; then echo "test-env: venv-$name up to date"; return; fi
  echo "test-env: installing venv-$name from $req"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$stamp" > "$dir/.pins"
}
# go_tool NAME MODULE@VERSION: a Go program built into $MLOPS_CACHE/bin (from the Go module proxy).
go_tool() {
  local name="$1" mod="$2"
  mkdir -p "$MLOPS_CACHE/bin"
  if [ -x "$MLOPS_CACHE/bin/$name" ] && [ -f "$MLOPS_CACHE/bin/.$name.version" ] && [ "$(cat "$MLOPS_CACHE/bin/.$name.version")" = "$mod" ]; then return; fi
  echo "test-env: building $name ($mod)"
  GOBIN="$MLOPS_CACHE/bin" go install "$mod"
  echo "$mod" > "$MLOPS_CACHE/bin/.$name.version"
}
for peer in scripts/test-env.d/*.sh; do
  [ -e "$peer" ] || continue
  # shellcheck source=/dev/null
  source "$peer"
done
echo "test-env: ready"
