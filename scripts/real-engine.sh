#!/usr/bin/env bash
# `npm run real-engine [-- build|preview]`: the real Pulumi engine on the local stack.
#   build    builds what is missing into $MLOPS_CACHE/pulumi/bin (default ~/.cache/mlops/pulumi/bin)
#            from the Go module proxy, through the wrapper modules in scripts/real-engine/*/go.mod
#            (`go install` refuses pulumi's pkg/v3: its go.mod replaces sdk/v3 => ../sdk).
#   preview  (default: build, then preview) `pulumi login` on a file backend in a temp dir, `pulumi
#            stack init local`, `pulumi preview --stack local --policy-pack policies` with a kubeconfig
#            for an unreachable cluster (127.0.0.1, a closed port) and node_modules/.bin first on PATH.
# Slow: the Go builds take tens of minutes on 2 cores, so CI does not run this (.ci/run); the
# check `npm run real-engine:test` (test/real-engine/preview.real.ts) asserts what the preview says.
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
# One package at a time (-p 1), niced: the machine is shared and the builds are long anyway.
export GOFLAGS="-buildvcs=false -p=${REAL_ENGINE_JOBS:-1}"

log() { echo "real-engine: $*" >&2; }

# pulumi-resource-kubernetes' main.go embeds schema-embed.json and terraform-mapping-embed.json,
# which its Makefile generates (cmd/pulumi-resource-kubernetes/generate.go: schema.json with
# "version" set, both re-serialised) and which are therefore not in the module zip the proxy serves
# ("pattern schema-embed.json: no matching files found"). The module cache is read-only and
# `go build -overlay` refuses files under GOMODCACHE, so the build copy of the wrapper gets a
# writable copy of the provider module (replace => ./provider; a replaced module's own replace
# lines are ignored, so the module graph stays the one go.sum pins) with the two files generated
# the way generate.go does.
kubernetes_source() { # wrapper-build-dir
  local src="$1" mod
  mod="$(cd "$src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  rm -rf "$src/provider" && cp -r "$mod" "$src/provider" && chmod -R u+w "$src/provider"
  node -e '
    const fs = require("fs");
    const [dir, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(`${dir}/schema.json`, "utf8"));
    schema.version = version;
    fs.writeFileSync(`${dir}/schema-embed.json`, JSON.stringify(schema));
    const mapping = JSON.parse(fs.readFileSync(`${dir}/terraform-mapping.json`, "utf8"));
    fs.writeFileSync(`${dir}/terraform-mapping-embed.json`, JSON.stringify(mapping));
  ' "$src/provider/cmd/pulumi-resource-kubernetes" "$K8S_PLUGIN_VERSION"
  (cd "$src" && go mod edit -replace github.com/pulumi/pulumi-kubernetes/provider/v4=./provider)
}

build_one() { # name wrapper-dir package ldflags
  local name="$1" dir="$2" pkg="$3" ldflags="$4"
  if [ -x "$BIN/$name" ]; then log "$name present ($BIN/$name)"; return 0; fi
  log "building $name from $pkg (wrapper $dir) ..."
  local started=$SECONDS
  # Built from a copy of the wrapper outside the work tree, so a checkout or stash cannot pull it away mid-build.
  local src="$MLOPS_CACHE/pulumi/src/$dir"
  mkdir -p "$src" && cp "$ROOT/scripts/real-engine/$dir/go.mod" "$ROOT/scripts/real-engine/$dir/go.sum" "$src/"
  if [ "$dir" = kubernetes ]; then kubernetes_source "$src"; fi
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
  # Not served by the module proxy: github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
  # (the Node language host) and github.com/pulumi/pulumi-random/provider/v4. Asked again on
  # 2026-12-02 at exact versions (`go list -m -json MOD@v3.274.1`, `...@v4.21.4`, the versions of
  # the CLI and of pulumi-random on PyPI): both "403 Forbidden / server response: This module
  # version is not available." Without the language host the CLI refuses a Node program ("no
  # language plugin 'pulumi-language-nodejs' found"); say so instead of pretending.
  for missing in pulumi-language-nodejs pulumi-resource-random; do
    [ -x "$BIN/$missing" ] || log "$missing: not buildable here (its Go module is not served by the module proxy)"
  done
  return $failed
}

# Runs as much of the real engine as the binaries present allow: only `pulumi` itself is required.
# Without pulumi-language-nodejs the CLI refuses the Node program, and that refusal (its own words)
# is the result. Nothing in the work tree changes: `stack init` writes the passphrase salt into the
# stack's config file, so the stack is created from a copy of Pulumi.yaml and stacks/Pulumi.local.yaml
# in a temp dir and the preview reads that copy (--config-file), whose kubeconfig is set (with
# `pulumi config set --path`) to a cluster nobody serves.
preview() {
  if [ ! -x "$BIN/pulumi" ]; then log "cannot preview: $BIN/pulumi is missing"; return 3; fi
  for b in pulumi-language-nodejs pulumi-resource-kubernetes; do
    [ -x "$BIN/$b" ] || log "$BIN/$b is missing: previewing anyway, to record what the engine says"
  done
  local work; work="$(mktemp -d)"
  # A RETURN trap outlives the function that set it: it clears itself.
  trap 'rm -rf "$work"; trap - RETURN' RETURN
  # A closed port on loopback (bound then released).
  local port; port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  cat > "$work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: unreachable, cluster: {server: "https://127.0.0.1:$port", insecure-skip-tls-verify: true}}]
users: [{name: nobody, user: {token: none}}]
contexts: [{name: kind-mlops, context: {cluster: unreachable, user: nobody}}]
current-context: kind-mlops
KUBECONFIG
  mkdir -p "$work/project/stacks" "$work/state"
  cp "$ROOT/Pulumi.yaml" "$work/project/"
  cp "$ROOT/stacks/Pulumi.local.yaml" "$work/project/stacks/"
  local config="$work/project/stacks/Pulumi.local.yaml"
  export PATH="$ROOT/node_modules/.bin:$BIN:$PATH"
  export PULUMI_HOME="$work/home" PULUMI_CONFIG_PASSPHRASE=real-engine PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true KUBECONFIG="$work/kubeconfig"
  log "node $(node --version), pulumi $(pulumi version)"
  # `pulumi login --local`, with the state in the temp dir instead of ~/.pulumi.
  pulumi login "file://$work/state"
  if [ -x "$BIN/pulumi-resource-kubernetes" ]; then
    pulumi plugin install resource kubernetes "$K8S_PLUGIN_VERSION" --file "$BIN/pulumi-resource-kubernetes"
  fi
  pulumi stack init local --cwd "$work/project" --non-interactive
  pulumi config set --path "mlops-platform:platform.cluster.kubeconfig" "$work/kubeconfig" \
    --cwd "$work/project" --stack local
  local code=0
  pulumi preview --cwd "$ROOT" --stack local --config-file "$config" --policy-pack policies \
    --non-interactive --diff 2>&1 | tee "$work/preview.log" || code=$?
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
