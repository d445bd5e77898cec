#!/usr/bin/env bash
# `npm run real-engine [-- build|preview]`: the real Pulumi engine on the local stack.
#   build    builds what is missing into $MLOPS_CACHE/pulumi/bin (default ~/.cache/mlops/pulumi/bin)
#            from the Go module proxy, through the wrapper modules in scripts/real-engine/*/go.mod
#            (`go install` refuses pulumi's pkg/v3: its go.mod replaces sdk/v3 => ../sdk).
#   preview  (default: build, then preview) `pulumi login --local` in a temp dir, `pulumi stack init
#            local`, `pulumi preview --stack local --policy-pack policies` with a kubeconfig for an
#            unreachable cluster (127.0.0.1, a closed port) and node_modules/.bin first on PATH.
# Slow: the Go builds take tens of minutes on 2 cores, so CI does not run this (.ci/run); the
# vitest test test/scripts/real-engine.test.ts runs the preview when the binaries exist.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MLOPS_CACHE="${MLOPS_CACHE:-$HOME/.cache/mlops}"
BIN="$MLOPS_CACHE/pulumi/bin"
PULUMI_VERSION=v3.274.1
# The proxy serves pulumi-kubernetes' provider module only at this pseudo-version.
K8S_PROVIDER_VERSION=v4.0.0-20260115033456-f47bc2d6f199
K8S_PLUGIN_VERSION=4.34.2 # what @pulumi/kubernetes in package.json asks the engine for
mkdir -p "$BIN"
export GOFLAGS=-buildvcs=false

log() { echo "real-engine: $*" >&2; }

build_one() { # name wrapper-dir package ldflags
  local name="$1" dir="$2" pkg="$3" ldflags="$4"
  if [ -x "$BIN/$name" ]; then log "$name present ($BIN/$name)"; return 0; fi
  log "building $name from $pkg (wrapper $dir) ..."
  local started=$SECONDS
  # Built from a copy of the wrapper outside the work tree, so a checkout or stash cannot pull it away mid-build.
  local src="$MLOPS_CACHE/pulumi/src/$dir"
  mkdir -p "$src" && cp "$ROOT/scripts/real-engine/$dir/go.mod" "$ROOT/scripts/real-engine/$dir/go.sum" "$src/"
  if (cd "$src" && nice -n 10 go build -trimpath -ldflags "-s -w $ldflags" -o "$BIN/$name.tmp" "$pkg"); then
    mv "$BIN/$name.tmp" "$BIN/$name"
    log "built $name in $((SECONDS - started)) s"
  else
    log "FAILED to build $name after $((SECONDS - started)) s"
    return 1
  fi
}

build() {
  local failed=0
  build_one pulumi cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" || failed=1
  build_one pulumi-resource-kubernetes kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PLUGIN_VERSION" || failed=1
  # Not served by the module proxy (403 "This module version is not available", checked with
  # `go list -m -versions`): github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 (the
  # Node language host) and github.com/pulumi/pulumi-random/provider/v4. Without the language host
  # the CLI cannot run a Node program at all; say so instead of pretending.
  for missing in pulumi-language-nodejs pulumi-resource-random; do
    [ -x "$BIN/$missing" ] || log "$missing: not buildable here (its Go module is not served by the module proxy)"
  done
  return $failed
}

preview() {
  for b in pulumi pulumi-language-nodejs pulumi-resource-kubernetes; do
    if [ ! -x "$BIN/$b" ]; then log "cannot preview: $BIN/$b is missing"; return 3; fi
  done
  local work; work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  # A kubeconfig for a cluster nobody serves: a closed port on loopback (bound then released).
  local port; port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  cat > "$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: unreachable, cluster: {server: "https://127.0.0.1:$port", insecure-skip-tls-verify: true}}]
users: [{name: nobody, user: {token: none}}]
contexts: [{name: unreachable, context: {cluster: unreachable, user: nobody}}]
current-context: unreachable
EOF
  export PATH="$ROOT/node_modules/.bin:$BIN:$PATH"
  export PULUMI_HOME="$work/home" PULUMI_CONFIG_PASSPHRASE=real-engine PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true KUBECONFIG="$work/kubeconfig"
  log "node $(node --version), $(pulumi version)"
  pulumi login --local --cwd "$work" >/dev/null 2>&1 || pulumi login "file://$work/state"
  pulumi plugin install resource kubernetes "$K8S_PLUGIN_VERSION" --file "$BIN/pulumi-resource-kubernetes" || true
  pulumi stack init local --cwd "$ROOT" --non-interactive || pulumi stack select local --cwd "$ROOT"
  # The local stack's kubeconfig and context are its own settings; point them at the unreachable cluster.
  local code=0
  pulumi preview --cwd "$ROOT" --stack local --policy-pack policies --non-interactive --diff 2>&1 | tee "$work/preview.log" || code=$?
  log "pulumi preview exited $code"
  cp "$work/preview.log" "${REAL_ENGINE_LOG:-$ROOT/out/real-engine-preview.log}" 2>/dev/null || true
  return $code
}

case "${1:-all}" in
  build) build ;;
  preview) preview ;;
  all) build || log "some builds failed; previewing with what exists"; preview ;;
  *) echo "usage: npm run real-engine [-- build|preview]" >&2; exit 2 ;;
esac
